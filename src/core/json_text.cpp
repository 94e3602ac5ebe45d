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

std::string clip_for_message(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  const auto boundary = [&](size_t at) {  // back to the start of the character `at` falls in
    while (at > 0 && at < text.size() && (static_cast<uint8_t>(text[at]) & 0xC0) == 0x80) --at;
    return at;
  };
  const size_t head = boundary(max_bytes * 3 / 4), tail = boundary(text.size() - max_bytes / 4);
  return std::string(text.substr(0, head)) + "... (" + std::to_string(tail - head) + " bytes) ..." +
         std::string(text.substr(tail));
}

}  // namespace arbiter
