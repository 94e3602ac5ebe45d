// Where downloads are kept: one folder per URL under the cache directory, holding the file under its own
// name (so tools that look at the extension still work), `NAME.sha256` in sha256sum's format beside it,
// and `NAME.part` while a download is unfinished.
#pragma once

#include <string>

#include "core/status.h"

namespace arbiter::fetch {

// $ARBITER_CACHE, else $XDG_CACHE_HOME/arbiter, else $HOME/.cache/arbiter (relative XDG_CACHE_HOME is
// ignored, as the XDG spec asks).
Result<std::string> default_cache_dir();

// CACHE_DIR/<first 16 hex digits of sha256(url)>/<url_file_name(url)>. Keyed by the full URL, so two
// revisions of one file, or one name in two repositories, never collide; the files of a split GGUF
// (NAME-00002-of-00003.gguf) are keyed by their first file's URL, so that they lie side by side.
std::string cache_entry_path(const std::string& cache_dir, const std::string& url);

// The sidecar holding an entry's hash: "<entry>.sha256".
std::string sha256_sidecar_path(const std::string& entry);

// The sidecar holding the commit the Hub served an entry at (its X-Repo-Commit): "<entry>.commit". Only
// entries pulled from a Hugging Face endpoint that said have one.
std::string commit_sidecar_path(const std::string& entry);

}  // namespace arbiter::fetch
