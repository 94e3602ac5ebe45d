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

// `path` made absolute with its links and dot segments resolved as far as it exists: two spellings of one
// place (x, ./x, /abs/x) give one string whether or not the file exists yet.
inline std::filesystem::path resolved_place(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  const std::filesystem::path resolved = std::filesystem::weakly_canonical(ec ? std::filesystem::path(path) : absolute, ec);
  return ec ? absolute.lexically_normal() : resolved;
}

// Whether two paths name one place, existing or not (an output spelled twice).
inline bool same_place(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  return same_file(a, b) || resolved_place(a) == resolved_place(b);
}

// Whether `path` lies inside the folder `folder` (a file of a model directory), however either is spelled.
inline bool is_inside(const std::string& path, const std::string& folder) {
  if (path.empty() || folder.empty()) return false;
  const std::filesystem::path p = resolved_place(path), f = resolved_place(folder);
  auto pi = p.begin();
  for (const std::filesystem::path& part : f) {
    if (part.empty()) continue;  // a trailing separator
    if (pi == p.end() || *pi != part) return false;
    ++pi;
  }
  return pi != p.end() && !pi->empty();
}

}  // namespace arbiter
