#include "fetch/cache.h"

#include <cstdlib>

#include "fetch/sha256.h"
#include "fetch/source.h"

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
  return dir + "/" + sha256_hex(url).substr(0, 16) + "/" + url_file_name(url);
}

std::string sha256_sidecar_path(const std::string& entry) { return entry + ".sha256"; }

}  // namespace arbiter::fetch
