// SentencePiece's precompiled normalization map (NormalizerSpec.precompiled_charsmap): the rules of a
// named normalization such as nmt_nfkc compiled into a double-array trie over UTF-8 bytes plus a blob of
// replacement strings. Reading it directly reproduces the library's normalization byte for byte, which
// ICU's NFKC alone does not (nmt_nfkc also maps control characters and some spaces).
//
// Layout: u32 trie_bytes, then trie_bytes/4 u32 units (darts-clone format), then the replacements as
// NUL-terminated strings; a trie value is the offset of its replacement in that blob.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace arbiter {

class PrecompiledCharsmap {
 public:
  static Result<std::shared_ptr<const PrecompiledCharsmap>> parse(std::string_view blob);

  // At each position the longest rule that matches is replaced; otherwise one character is copied.
  std::string normalize(std::string_view text) const;

 private:
  // Length of the longest key that prefixes `text` and its replacement, or 0 when none does.
  size_t longest_match(std::string_view text, std::string_view* replacement) const;

  std::vector<uint32_t> units_;
  std::string replacements_;
};

}  // namespace arbiter
