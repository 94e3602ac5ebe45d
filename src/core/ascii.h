// ASCII-only text helpers for names, schemes and type tags (never for user text, which is UTF-8).
#pragma once

#include <cctype>
#include <string>

namespace arbiter {

inline std::string ascii_lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace arbiter
