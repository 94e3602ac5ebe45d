// Whether two paths name one file: an output must never be a file the command still reads, however the
// two are spelled (./x and x, an absolute path, a link).
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

namespace arbiter {

// True when both exist and are the same file, or are the same string; false otherwise (an output not
// written yet is no input).
inline bool same_file(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  if (a == b) return true;
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec) && !ec;
}

}  // namespace arbiter
