// One HTTP GET into a partly written file, with libcurl: continues after the file's current bytes with a
// Range request, follows redirects, times out on a connection that does not open or stalls.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"

namespace arbiter::fetch {

struct TransferOptions {
  std::string bearer_token;    // sent as "Authorization: Bearer ..." to the URL's own host (not across redirects)
  long connect_timeout_s = 30;
  long stall_timeout_s = 60;   // abort when no byte arrives for this long
  bool progress = true;        // a progress bar on stderr
  std::string label;           // names the download in the progress line
  // What the bytes already in the file were downloaded as (TransferOutcome::validator and ::total of the
  // transfer that wrote them): a resume sends If-Range with the validator, so a resource that changed
  // comes back whole, and a range of a resource of another length is not appended. Empty / -1: unknown.
  std::string if_range;
  int64_t expected_total = -1;
  // Called when a response's body starts going into the file, with its validator and whole length (as
  // TransferOutcome reports them): the caller records them before any byte lands, so a process killed
  // mid-transfer still leaves the record its resume needs.
  // `continued`: a 206 that continues the file's bytes (a 200 replaces them).
  std::function<void(const std::string& validator, int64_t total, bool continued)> on_body_start;
};

struct TransferOutcome {
  Status status;
  bool retryable = false;      // a dropped connection or a server error: trying again may succeed
  int64_t bytes_received = 0;  // body bytes written to the file by this call
  int http_status = 0;         // of the last response (0: none)
  bool resumed = false;        // the server answered the Range request with 206
  bool restarted = false;      // the server ignored Range (200) or refused it (416): the file was started over
  // X-Linked-Etag of any response on the way (a Hugging Face endpoint's answer for an LFS file, before its
  // redirect to the CDN: the file's SHA-256), lower case, quotes removed; empty when none came.
  std::string linked_etag;
  // X-Repo-Commit of any response on the way: the commit a Hugging Face endpoint resolved the file's
  // revision to (40 hex digits, lower case); empty when none came.
  std::string repo_commit;
  // Of the response whose body went into the file: its strong ETag (as sent, quotes kept), else its
  // Last-Modified, and the resource's whole length; empty / -1 when it said none, or no body came.
  std::string validator;
  int64_t total = -1;
};

// Appends `url`'s body to the file open as `fd` (read-write), which already holds the first bytes when a
// download was interrupted. A server that ignores Range makes the file start over from byte 0; one that
// answers 416 for a file that is already complete leaves it as it is.
TransferOutcome transfer_into(const std::string& url, int fd, const TransferOptions& options);

}  // namespace arbiter::fetch
