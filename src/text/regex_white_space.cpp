#include "text/regex_white_space.h"

namespace arbiter {

namespace {

// Unicode White_Space (PropList.txt), as Oniguruma's and Rust's \s: U+0009-000D, U+0020, U+0085, U+00A0,
// U+1680, U+2000-200A, U+2028, U+2029, U+202F, U+205F, U+3000. Written as class items, without brackets.
constexpr std::string_view kWhiteSpaceItems =
    "\\x{9}-\\x{d}\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}"
    "\\x{3000}";

// Every code point that is not White_Space, as class items: a \S inside a class ([\S\d]) cannot be a
// negated class of its own, so the complement is spelled out.
constexpr std::string_view kNonWhiteSpaceItems =
    "\\x{0}-\\x{8}\\x{e}-\\x{1f}\\x{21}-\\x{84}\\x{86}-\\x{9f}\\x{a1}-\\x{167f}\\x{1681}-\\x{1fff}"
    "\\x{200b}-\\x{2027}\\x{202a}-\\x{202e}\\x{2030}-\\x{205e}\\x{2060}-\\x{2fff}\\x{3001}-\\x{10ffff}";

}  // namespace

std::string with_unicode_white_space(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 64);
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[++i];
      if (next == 's' || next == 'S') {
        const std::string_view items = next == 's' ? kWhiteSpaceItems : kNonWhiteSpaceItems;
        if (in_class) {
          out += items;
        } else {
          out += '[';
          out += items;
          out += ']';
        }
      } else if (next == 'Q') {
        // Quoted text is literal up to \E (or the end).
        const size_t end = pattern.find("\\E", i + 1);
        const size_t stop = end == std::string_view::npos ? pattern.size() : end + 2;
        out += pattern.substr(i - 1, stop - (i - 1));
        i = stop - 1;
      } else {
        out += c;
        out += next;
      }
      continue;
    }
    out += c;
    if (in_class) {
      if (c == ']') in_class = false;
      else if (c == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {
        // A POSIX class ([:alpha:]) inside the class: copied through its closing ":]".
        const size_t end = pattern.find(":]", i + 2);
        if (end != std::string_view::npos) {
          out += pattern.substr(i + 1, end + 2 - (i + 1));
          i = end + 1;
        }
      }
    } else if (c == '[') {
      in_class = true;
      // A ']' first in the class (after an optional '^') is a literal, not its end.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
    }
  }
  return out;
}

}  // namespace arbiter
