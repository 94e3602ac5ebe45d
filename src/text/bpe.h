// Byte-pair encoding of one word. Two merge orders exist in the wild:
// - ranked pairs (HF tokenizers, GPT-2, tiktoken, llama.cpp BPE): the adjacent pair with the lowest
//   position in the merges list is merged first;
// - piece scores (SentencePiece BPE, llama.cpp SPM): the adjacent pair whose concatenation is a vocab
//   piece with the highest score is merged first.
// Both take the leftmost pair on ties. Either way the work is a heap over a linked list of symbols,
// O(n log n) in the word's length, so a word of 100k spaces costs milliseconds.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace arbiter {

enum class BpeMergeOrder { kRankedPairs, kPieceScore };

struct BpeConfig {
  // id -> the token's bytes as the model matches them (byte-level vocabularies already decoded from
  // their byte-to-unicode spelling). Ids the model does not own (added tokens) hold an empty string.
  std::vector<std::string> pieces;
  BpeMergeOrder order = BpeMergeOrder::kRankedPairs;
  std::vector<std::pair<std::string, std::string>> merges;  // kRankedPairs, in rank order (same spelling)
  std::vector<float> scores;                                 // kPieceScore, per id
  std::vector<bool> mergeable;  // kPieceScore: a merge may produce this id (normal/user pieces); empty: all
  bool byte_level = false;      // initial symbols are bytes (else UTF-8 characters)
  bool byte_fallback = false;   // unknown characters become <0xXX> tokens
  bool ignore_merges = false;   // a word that is itself a vocab piece is emitted whole (Llama 3)
  std::optional<int32_t> unk_id;
  bool fuse_unk = false;        // consecutive unknowns become one unk
};

class Bpe {
 public:
  // `config` is read, not copied (a large vocabulary's tables are the tokenizer's largest part): it must
  // outlive the Bpe, as the Tokenizer holding both keeps it.
  static Result<std::unique_ptr<Bpe>> create(const BpeConfig& config);

  // Appends the ids of `word` to `out`. Thread-safe.
  Status encode_word(std::string_view word, std::vector<int32_t>& out) const;

  std::optional<int32_t> piece_id(std::string_view piece) const;
  const BpeConfig& config() const { return *config_; }

 private:
  struct Merge { uint32_t rank; int32_t merged; };
  struct Symbol { uint32_t begin, len; int32_t id; int32_t prev, next; };

  void encode_uncached(std::string_view word, std::vector<int32_t>& out) const;
  // Priority of merging two adjacent symbols (lower first) and the id it makes; false: no merge.
  bool merge_of(std::string_view word, const Symbol& left, const Symbol& right, double* priority,
                int32_t* merged) const;
  void emit_unknown(std::string_view text, std::vector<int32_t>& out, bool* last_was_unk) const;

  const BpeConfig* config_ = nullptr;
  // Transparent hashing: lookups by string_view into the word need no allocation.
  struct PieceHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, int32_t, PieceHash, std::equal_to<>> piece_to_id_;
  std::unordered_map<uint64_t, Merge> merges_;  // (left id << 32 | right id) -> rank and result
  int32_t byte_ids_[256];                        // kByteFallback: id of <0xXX>, -1 when absent

  // Words repeat (" the", "\n"): their ids are cached. Bounded; cleared when full.
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace arbiter
