// Whether a cached file is still the one the Hub serves under its name. A source at a branch (hf://ORG/REPO/
// FILE is at `main`) names whatever that branch holds now, so a cache keyed by its URL would otherwise go on
// serving the bytes of the day it was first pulled. The Hub says which bytes a name holds without sending
// them: a HEAD request's X-Linked-Etag (the SHA-256 of a file kept in LFS) or ETag (the git blob id of one
// that is not), or the same two values in a listing of the repository.
#pragma once

#include <map>
#include <string>

#include "core/status.h"

namespace arbiter::fetch {

struct FetchOptions;

// What the Hub records for a file: its SHA-256 (kept in LFS) or its git blob id (kept in git); either may
// be empty, and a record with neither says nothing.
struct HubRecord {
  std::string sha256;
  std::string git_blob_id;
  bool says_anything() const { return !sha256.empty() || !git_blob_id.empty(); }
};

// True when `source` is an hf:// file at a branch or tag, whose bytes may change: anything but a revision
// written as a full 40-digit commit id.
bool names_a_moving_revision(const std::string& source);

struct CacheCheck {
  enum class Outcome {
    kCurrent,  // the Hub records these bytes, or said nothing either way
    kChanged,  // the Hub records other bytes under this name
    kGone,     // the Hub has no such file any more (HTTP 404)
  };
  Outcome outcome = Outcome::kCurrent;
  HubRecord record;  // what the Hub recorded (for checking the new download)
  std::string repo_commit;  // the commit a HEAD answer resolved the revision to (X-Repo-Commit); may be empty
  // Set when the Hub could not be asked (no answer, a server error, refused access): the cache is used, and
  // this says why it was not checked.
  std::string unchecked_because;
};

// Compares the cached `entry` (whose SHA-256 is `entry_sha256`) of `source` (resolved to `url`) with the
// Hub's record: the one `options.listed_records` holds for `source`, else a HEAD request's.
Result<CacheCheck> check_cache_entry(const std::string& source, const std::string& url, const std::string& entry,
                                     const std::string& entry_sha256, const FetchOptions& options);

}  // namespace arbiter::fetch
