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
#include "text/string_index.h"

namespace arbiter {

enum class BpeMergeOrder { kRankedPairs, kPieceScore };

// A ranked merge: adjacent pieces `left` and `right` become `merged` (ids into BpeConfig::pieces).
struct BpeMerge {
  int32_t left = -1, right = -1, merged = -1;
};

// Resolves the merge "left right" (rank `rank`, for the error) as HF tokenizers does: in the vocabulary's own
// spelling (byte-level vocabularies in their byte-to-unicode characters), the merged piece being the
// concatenation of the two. `id_of` looks a token up in that spelling (nullopt: not in the vocabulary).
template <class IdOf>
Result<BpeMerge> resolve_bpe_merge(const IdOf& id_of, std::string_view left, std::string_view right, size_t rank) {
  std::string joined;
  joined.reserve(left.size() + right.size());
  joined.append(left).append(right);
  std::optional<int32_t> l = id_of(left), r = id_of(right), m = id_of(std::string_view(joined));
  if (!l || !r || !m) {
    return Status::error("BPE merge " + std::to_string(rank) + " ('" + std::string(left) + "' + '" +
                         std::string(right) + "'): a piece is not in the vocabulary");
  }
  return BpeMerge{*l, *r, *m};
}

struct BpeConfig {
  // id -> the token's bytes as the model matches them (byte-level vocabularies already decoded from
  // their byte-to-unicode spelling). Ids the model never matches (added tokens, byte-level tokens not in
  // that spelling) hold an empty string.
  std::vector<std::string> pieces;
  BpeMergeOrder order = BpeMergeOrder::kRankedPairs;
  std::vector<BpeMerge> merges;  // kRankedPairs, in rank order
  std::vector<float> scores;     // kPieceScore, per id
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
  StringIndex piece_to_id_;  // over config_->pieces

  // (left id, right id) -> rank and result, by open addressing (linear probing, at most 70% full): a lookup
  // reads one or two adjacent slots, where a node-based map chases a pointer per lookup, and encoding looks up
  // every adjacent pair of a word. Empty slots hold kNoPair, which no two ids >= 0 make.
  struct MergeSlot {
    uint64_t pair;
    Merge merge;
  };
  static constexpr uint64_t kNoPair = ~uint64_t{0};
  std::vector<MergeSlot> merge_slots_;
  uint64_t merge_mask_ = 0;  // slots - 1
  int merge_bits_ = 0;       // log2(slots)
  const MergeSlot* find_merge(uint64_t pair) const;
  int32_t byte_ids_[256];                        // kByteFallback: id of <0xXX>, -1 when absent

  // Words repeat (" the", "\n"): their ids are cached. Bounded; cleared when full.
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace arbiter
