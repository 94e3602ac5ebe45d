// Pre-tokenizers: split normalized text into the words the model encodes one by one (HF
// `pre_tokenizer`). Byte-level vocabularies are handled in raw bytes throughout, so the ByteLevel step
// only adds its prefix space and optional GPT-2 split; its byte-to-unicode spelling is undone once, when
// the vocabulary is loaded.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "text/pretokenize_regex.h"

namespace arbiter {

// HF SplitDelimiterBehavior: what happens to the delimiter spans (the matches, or with `invert` the
// text between them).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

enum class PreTokenizerKind { kSplit, kByteLevel, kMetaspace };

// Metaspace's prepend scheme: always, only at the very start of the input, or never.
enum class PrependScheme { kAlways, kFirst, kNever };

struct PreTokenizerStep {
  PreTokenizerKind kind = PreTokenizerKind::kSplit;
  std::shared_ptr<const Regex> pattern;             // kSplit; kByteLevel when use_regex
  SplitBehavior behavior = SplitBehavior::kIsolated;  // kSplit
  bool invert = false;                              // kSplit
  bool add_prefix_space = false;                    // kByteLevel
  std::string replacement = "\xE2\x96\x81";        // kMetaspace: "▁"
  PrependScheme prepend_scheme = PrependScheme::kAlways;  // kMetaspace
  bool split = false;                               // kMetaspace: split before each replacement
};

// The patterns HF and llama.cpp use, verbatim.
extern const char* const kGpt2Pattern;
extern const char* const kLlama3Pattern;
extern const char* const kQwen2Pattern;
extern const char* const kTekkenPattern;       // Mistral's Tekken (tokenizer.json's Split pattern)
extern const char* const kSingleDigitPattern;  // HF's Digits(individual_digits) as a Split

// Words of `text` in order; empty words are dropped. `at_input_start`: the segment begins the whole
// input (not after an added token), which Metaspace's "first" scheme needs.
Result<std::vector<std::string>> pre_tokenize(const std::vector<PreTokenizerStep>& steps, std::string_view text,
                                              bool at_input_start);

// One split of `text` by the regex's matches, as a list of [begin, end) spans.
Result<std::vector<std::pair<size_t, size_t>>> split_spans(const Regex& pattern, SplitBehavior behavior, bool invert,
                                                           std::string_view text);

}  // namespace arbiter
