// `arbiter pull`: download a model or dataset file once, keep it in the cache, verify it, hand back its path.
// A cached hf:// file at a branch is checked against the Hub's record of that name first (hub_check.h),
// and pulled again when the branch now holds other bytes.
//
// The file is written as CACHE_ENTRY.part and renamed into place only after it is complete and its SHA-256
// is known (and matches, when one was given, and the SHA-256 a Hugging Face endpoint records for an LFS
// file), so the final path never holds half a file. An interrupted download continues where it stopped, in the same call (a dropped connection is resumed up to
// max_attempts transfers) or in the next one (the .part file stays).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "fetch/hub_check.h"
#include "fetch/source.h"

namespace arbiter::fetch {

struct FetchOptions {
  std::string expected_sha256;  // 64 hex digits; empty: computed and reported, not checked
  std::string out_path;         // also place the file here (a hard link to the cache entry, else a copy)
  std::string cache_dir;        // empty: default_cache_dir()
  std::string hf_endpoint = kHuggingFaceEndpoint;
  std::string hf_token;         // sent as a Bearer token only to URLs on hf_endpoint's origin
  long connect_timeout_s = 30;
  long stall_timeout_s = 60;    // abort a transfer when no byte arrives for this long
  int max_attempts = 3;         // transfers in all; a transfer that fails after receiving data is resumed
  int retry_delay_ms = 1000;    // wait before a resumed transfer
  bool progress = true;         // progress bar on stderr
  bool missing_ok = false;      // HTTP 404 is an answer (FetchResult::missing), not an error
  // Nothing is downloaded (HF_HUB_OFFLINE): a cache hit is used, a miss is an error (with missing_ok,
  // missing), and what needs the Hub's listing is refused.
  bool offline = false;
  // What the Hub's listing records for files by source (a dataset selection's, a GGUF release's): a cache
  // entry of one of them is checked against this instead of a HEAD request, and its download is checked
  // against the SHA-256 recorded there.
  std::map<std::string, HubRecord> listed_records;
  // When set, gets the commit each file fetched with these options was served at (FetchResult::repo_commit),
  // so that a caller pulling several (a model's folder, a split GGUF) learns which commits they came from.
  std::set<std::string>* served_commits = nullptr;
};

struct FetchResult {
  std::string url;         // what the source resolved to
  std::string path;        // the file to use: out_path when given, else the cache entry
  std::string cache_path;  // the cache entry
  std::string sha256;      // lower-case hex of the file's bytes
  int64_t size = 0;
  bool cache_hit = false;  // nothing was downloaded
  int64_t bytes_downloaded = 0;
  bool missing = false;    // with missing_ok: the server has no such file (HTTP 404), and no path was made
  // The SHA-256 the server recorded for the file (a Hugging Face LFS file's X-Linked-Etag), which the
  // download was checked against; empty when it sent none (or nothing was downloaded).
  std::string server_sha256;
  // The commit the Hub served the file at: its X-Repo-Commit when downloaded (or when a cached copy was
  // checked and had none kept), else the one kept beside the cache entry, else the source's revision when
  // that is a full commit id. Empty for other servers, and for a Hub that did not say.
  std::string repo_commit;
};

// Reads HF_TOKEN, HF_ENDPOINT and HF_HUB_OFFLINE (the names huggingface_hub uses) into `options`; without HF_TOKEN, the
// token a Hugging Face login saved (HF_TOKEN_PATH, else $HF_HOME/token, else
// $XDG_CACHE_HOME/huggingface/token or ~/.cache/huggingface/token), where there is one.
void apply_environment(FetchOptions& options);

// The file a Hugging Face login keeps its token in, by the rules above ("" when HOME is unset too).
std::string hf_token_file();

Result<FetchResult> fetch(const std::string& source, const FetchOptions& options);

// fetch(), and where `source` names the first file of a split GGUF (NAME-00001-of-00003.gguf, as
// llama.cpp's gguf-split and large models' releases name them) every file of it, first to last, side by
// side in the cache (and beside out_path, which must then be such a first file's name too). The expected
// SHA-256 is the first file's.
Result<std::vector<FetchResult>> fetch_with_split_files(const std::string& source, const FetchOptions& options);

}  // namespace arbiter::fetch
