// Normalizers: the text transformations applied before pre-tokenization (HF `normalizer` section, a
// SentencePiece model's normalizer_spec).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "text/normalize_charsmap.h"
#include "text/pretokenize_regex.h"

namespace arbiter {

enum class NormalizerKind { kNFC, kNFD, kNFKC, kNFKD, kLowercase, kPrepend, kReplace, kStrip, kCharsmap,
                            kCollapseSpaces };  // SentencePiece remove_extra_whitespaces

struct NormalizerStep {
  NormalizerKind kind = NormalizerKind::kNFC;
  std::string content;                          // kPrepend: prefix; kReplace: replacement
  std::shared_ptr<const Regex> pattern;         // kReplace
  bool strip_left = false, strip_right = false; // kStrip
  std::shared_ptr<const PrecompiledCharsmap> charsmap;  // kCharsmap

  static NormalizerStep of(NormalizerKind kind) {
    NormalizerStep step;
    step.kind = kind;
    return step;
  }
};

// Applies the steps in order. `text` is valid UTF-8 and stays so.
// skip_prepend: leave out Prepend steps (a SentencePiece tokenizer that is not "legacy" marks a word start
// only at the start of the input, not after each special token).
Result<std::string> normalize(const std::vector<NormalizerStep>& steps, std::string_view text, bool skip_prepend = false);

}  // namespace arbiter
