// Hugging Face tokenizers compile their Split and Replace patterns with Oniguruma, where \s is Unicode
// White_Space. PCRE2's \s (with UCP) is a fixed list plus category Z that still holds U+180E MONGOLIAN
// VOWEL SEPARATOR, which has not been White_Space since Unicode 6.3: compiled unchanged, " \u180ea"
// splits otherwise and Llama 3 or Qwen give other ids. The pattern is rewritten before PCRE2 sees it.
#pragma once

#include <string>
#include <string_view>

namespace arbiter {

// `pattern` with every \s and \S spelled as explicit White_Space code points (inside a character class
// too, so [^\s\p{L}] keeps its meaning). Everything else, escaped backslashes and \Q...\E included, is
// copied unchanged.
std::string with_unicode_white_space(std::string_view pattern);

}  // namespace arbiter
