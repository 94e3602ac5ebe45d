#include "fetch/hub_check.h"

#include "core/ascii.h"
#include "fetch/fetch.h"
#include "fetch/hf_listing.h"
#include "fetch/http_get.h"
#include "fetch/sha256.h"
#include "fetch/source.h"

namespace arbiter::fetch {

bool names_a_moving_revision(const std::string& source) {
  if (source.rfind("hf://", 0) != 0) return false;
  const Result<HfSourceParts> parts = parse_hf_source(source);
  return parts.is_ok() && !is_git_blob_id(parts->repo.revision);
}

namespace {

// The record in the HEAD answer's headers: the SHA-256 only from X-Linked-Etag, where the Hub puts an LFS
// file's (an ETag of 64 hex digits from another server need not be one); a git blob id from either.
HubRecord record_of(const HttpHeadResult& head) {
  HubRecord record;
  if (is_sha256_hex(head.linked_etag)) record.sha256 = head.linked_etag;
  for (const std::string& tag : {head.linked_etag, head.etag})
    if (record.git_blob_id.empty() && is_git_blob_id(tag)) record.git_blob_id = tag;
  return record;
}

}  // namespace

Result<CacheCheck> check_cache_entry(const std::string& source, const std::string& url, const std::string& entry,
                                     const std::string& entry_sha256, const FetchOptions& options) {
  CacheCheck check;
  if (const auto listed = options.listed_records.find(source); listed != options.listed_records.end()) {
    check.record = listed->second;
  } else {
    HttpGetOptions head_options;
    head_options.connect_timeout_s = options.connect_timeout_s;
    head_options.stall_timeout_s = options.stall_timeout_s;
    if (!options.hf_token.empty() && url_origin(url) == url_origin(options.hf_endpoint))
      head_options.bearer_token = options.hf_token;
    const Result<HttpHeadResult> head = http_head(url, head_options);
    if (!head.is_ok()) {
      check.unchecked_because = head.message();
      return check;
    }
    if (head->http_status == 404) {
      check.outcome = CacheCheck::Outcome::kGone;
      return check;
    }
    // Access refused, rate limits and server errors say nothing about the file: what was pulled stays usable.
    if (head->http_status >= 400) {
      check.unchecked_because = "HEAD " + url + ": HTTP " + std::to_string(head->http_status) +
                                (head->http_status == 401 || head->http_status == 403 ? " (HF_TOKEN?)" : "");
      return check;
    }
    check.record = record_of(*head);
    if (is_git_blob_id(head->repo_commit)) check.repo_commit = head->repo_commit;
  }
  if (!check.record.sha256.empty()) {
    if (ascii_lower(check.record.sha256) != entry_sha256) check.outcome = CacheCheck::Outcome::kChanged;
  } else if (!check.record.git_blob_id.empty()) {
    ARB_ASSIGN(const std::string blob_id, git_blob_id_file(entry));
    if (ascii_lower(check.record.git_blob_id) != blob_id) check.outcome = CacheCheck::Outcome::kChanged;
  }
  return check;
}

}  // namespace arbiter::fetch
