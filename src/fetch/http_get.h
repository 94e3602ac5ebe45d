// A small HTTP GET whose body is kept in memory: the answers of a JSON API (the Hugging Face Hub's file
// listing), as opposed to http_transfer's downloads into files.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace arbiter::fetch {

struct HttpGetOptions {
  std::string bearer_token;  // sent as "Authorization: Bearer ..." to the URL's own host only
  long connect_timeout_s = 30;
  long stall_timeout_s = 60;
  int64_t max_bytes = 64 << 20;  // a longer body is an error, not an allocation without end
};

struct HttpGetResult {
  int http_status = 0;
  std::string body;
  // The target of a `Link: <URL>; rel="next"` header (the next page of a paginated listing); empty when none.
  std::string next_link;
};

// Follows redirects. An HTTP error status is an error naming the URL and the status (with the token hint
// for 401 / 403), except 404, which returns with http_status 404 so that callers can say what is missing.
Result<HttpGetResult> http_get(const std::string& url, const HttpGetOptions& options);

struct HttpHeadResult {
  int http_status = 0;      // of the answer the request stopped at (a redirect to another origin is not followed)
  std::string etag;         // ETag, without a weak "W/" mark and quotes, lower case; empty when none
  std::string linked_etag;  // X-Linked-Etag, the same way (the Hub's record of an LFS file: its SHA-256)
  std::string repo_commit;  // X-Repo-Commit, lower case: the commit the Hub resolved the revision to
};

// Both requests below ask for metadata (a listing, a file's record), which a command can do without: an
// origin that gave no answer (no connection, a timeout) is not asked again in the same process, so that
// a node without network waits for one connect timeout, not one per file. Their error then says so.

// HEAD: what a server says of a file without sending it. Redirects within the URL's origin are followed (a
// renamed repository); one to another origin is not: the Hub answers a file kept in LFS with a redirect to
// its CDN, and the headers that describe the file are on that first answer. Every HTTP status is returned;
// only a request that got no answer is an error.
Result<HttpHeadResult> http_head(const std::string& url, const HttpGetOptions& options);

// The URL of a Link header's rel="next" entry ("<a>; rel=\"prev\", <b>; rel=\"next\"" -> b); empty when none.
std::string next_link_of(const std::string& link_header);

}  // namespace arbiter::fetch
