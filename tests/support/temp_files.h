// Whether a writer of `path` left its temporary file (PATH.tmp-PID-N, core/atomic_file.h) beside it.
#pragma once

#include <filesystem>
#include <string>

namespace arbiter::test {

inline bool temp_file_left_beside(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string prefix = target.filename().string() + ".tmp";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().filename().string().rfind(prefix, 0) == 0) return true;
  return false;
}

}  // namespace arbiter::test
