#include "core/json_text.h"

namespace arbiter {

bool json_nested_deeper_than(std::string_view text, int max_depth) {
  int depth = 0;
  JsonStringTracker strings;
  for (const char c : text) {
    if (strings.holds(c)) continue;
    if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

std::string json_without_layout(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  JsonStringTracker strings;
  for (const char c : text)
    if (strings.holds(c) || (c != ' ' && c != '\n' && c != '\r' && c != '\t')) out += c;
  return out;
}

}  // namespace arbiter
