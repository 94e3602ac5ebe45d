#include "fetch/cache.h"

#include <cstdlib>

#include "fetch/sha256.h"
#include "fetch/source.h"
#include "io/gguf_split_name.h"

namespace arbiter::fetch {

namespace {
std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}
}  // namespace

Result<std::string> default_cache_dir() {
  if (std::string dir = env("ARBITER_CACHE"); !dir.empty()) return dir;
  if (std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty() && xdg[0] == '/') return xdg + "/arbiter";
  if (std::string home = env("HOME"); !home.empty()) return home + "/.cache/arbiter";
  return error("no cache directory: set ARBITER_CACHE (or XDG_CACHE_HOME or HOME), or pass --cache-dir");
}

std::string cache_entry_path(const std::string& cache_dir, const std::string& url) {
  std::string dir = cache_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  // The files of a split model share the first file's folder: the reader looks for them beside it.
  const std::optional<GgufSplitName> split = parse_gguf_split_name(url);
  const std::string key = split ? gguf_split_name(split->prefix, 0, split->count) : url;
  return dir + "/" + sha256_hex(key).substr(0, 16) + "/" + url_file_name(url);
}

std::string sha256_sidecar_path(const std::string& entry) { return entry + ".sha256"; }

std::string commit_sidecar_path(const std::string& entry) { return entry + ".commit"; }

}  // namespace arbiter::fetch
