// A compiled PCRE2 pattern (UTF + Unicode properties, JIT when available). Hugging Face pre-tokenizer
// and normalizer patterns are written for Oniguruma; PCRE2 accepts their syntax verbatim (\p{L},
// (?i:...), lookahead). One class means something else in PCRE2, \s, so it is rewritten as Oniguruma's
// (regex_white_space.h); an error message quotes the pattern as written.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace arbiter {

class Regex {
 public:
  // literal: the pattern is a plain string to find (HF's {"String": ...} patterns).
  static Result<std::shared_ptr<const Regex>> compile(const std::string& pattern, bool literal = false);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Leftmost, non-overlapping matches as [begin, end) byte ranges. `text` must be valid UTF-8 (checked
  // once by the caller, so PCRE2's own check is skipped). An empty match advances by one character.
  Result<std::vector<std::pair<size_t, size_t>>> find_all(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }

 private:
  Regex() = default;
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*, kept opaque so the header does not pull in pcre2.h
  bool jit_ = false;
};

}  // namespace arbiter
