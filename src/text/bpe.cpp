#include "text/bpe.h"

#include <algorithm>
#include <queue>

#include "text/unicode.h"

namespace arbiter {

namespace {

constexpr size_t kCacheMaxEntries = 1 << 16;
constexpr size_t kCacheMaxWordBytes = 128;

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// Fibonacci hashing: the top `bits` bits of the product mix every bit of the pair (the low bits of a right
// id alone would cluster).
uint64_t slot_of(uint64_t pair, int bits) { return (pair * 0x9E3779B97F4A7C15ull) >> (64 - bits); }

std::string byte_piece_name(uint8_t byte) {
  static const char* hex = "0123456789ABCDEF";
  return std::string("<0x") + hex[byte >> 4] + hex[byte & 15] + ">";
}

}  // namespace

Result<std::unique_ptr<Bpe>> Bpe::create(const BpeConfig& config) {
  std::unique_ptr<Bpe> bpe(new Bpe());
  bpe->config_ = &config;
  const BpeConfig& c = config;
  bpe->piece_to_id_ = StringIndex(c.pieces);
  if (c.order == BpeMergeOrder::kPieceScore && c.scores.size() != c.pieces.size()) {
    return Status::error("BPE: " + std::to_string(c.scores.size()) + " scores for " +
                         std::to_string(c.pieces.size()) + " pieces");
  }
  if (!c.merges.empty()) {
    bpe->merge_bits_ = 4;
    while ((size_t{7} << bpe->merge_bits_) < c.merges.size() * 10) ++bpe->merge_bits_;
    bpe->merge_slots_.assign(size_t{1} << bpe->merge_bits_, MergeSlot{kNoPair, Merge{}});
    bpe->merge_mask_ = bpe->merge_slots_.size() - 1;
  }
  const int64_t n_pieces = static_cast<int64_t>(c.pieces.size());
  auto valid = [&](int32_t id) { return id >= 0 && id < n_pieces; };
  for (size_t rank = 0; rank < c.merges.size(); ++rank) {
    const BpeMerge& m = c.merges[rank];
    if (!valid(m.left) || !valid(m.right) || !valid(m.merged)) {
      return Status::error("BPE merge " + std::to_string(rank) + ": an id outside the vocabulary of " +
                           std::to_string(n_pieces));
    }
    const uint64_t pair = pair_key(m.left, m.right);
    uint64_t slot = slot_of(pair, bpe->merge_bits_);
    while (bpe->merge_slots_[slot].pair != kNoPair && bpe->merge_slots_[slot].pair != pair) {
      slot = (slot + 1) & bpe->merge_mask_;
    }
    // A pair listed twice keeps its first (best) rank.
    if (bpe->merge_slots_[slot].pair == pair) continue;
    bpe->merge_slots_[slot] = MergeSlot{pair, Merge{static_cast<uint32_t>(rank), m.merged}};
  }
  for (int b = 0; b < 256; ++b) {
    bpe->byte_ids_[b] = bpe->piece_to_id_.find(byte_piece_name(static_cast<uint8_t>(b))).value_or(-1);
  }
  return bpe;
}

const Bpe::MergeSlot* Bpe::find_merge(uint64_t pair) const {
  if (merge_slots_.empty()) return nullptr;
  for (uint64_t slot = slot_of(pair, merge_bits_);; slot = (slot + 1) & merge_mask_) {
    const MergeSlot& s = merge_slots_[slot];
    if (s.pair == pair) return &s;
    if (s.pair == kNoPair) return nullptr;
  }
}

std::optional<int32_t> Bpe::piece_id(std::string_view piece) const {
  return piece_to_id_.find(piece);
}

bool Bpe::merge_of(std::string_view word, const Symbol& left, const Symbol& right, double* priority,
                   int32_t* merged) const {
  if (config_->order == BpeMergeOrder::kRankedPairs) {
    if (left.id < 0 || right.id < 0) return false;
    const MergeSlot* slot = find_merge(pair_key(left.id, right.id));
    if (!slot) return false;
    *priority = slot->merge.rank;
    *merged = slot->merge.merged;
    return true;
  }
  // Adjacent symbols are adjacent in the word, so their concatenation is a substring of it.
  std::optional<int32_t> found = piece_to_id_.find(word.substr(left.begin, left.len + right.len));
  if (!found) return false;
  int32_t id = *found;
  if (!config_->mergeable.empty() && !config_->mergeable[id]) return false;
  *priority = -static_cast<double>(config_->scores[id]);
  *merged = id;
  return true;
}

void Bpe::emit_unknown(std::string_view text, std::vector<int32_t>& out, bool* last_was_unk) const {
  if (config_->byte_fallback) {
    bool all_bytes = std::all_of(text.begin(), text.end(),
                                 [&](char c) { return byte_ids_[static_cast<uint8_t>(c)] >= 0; });
    if (all_bytes) {
      for (char c : text) out.push_back(byte_ids_[static_cast<uint8_t>(c)]);
      *last_was_unk = false;
      return;
    }
  }
  if (!config_->unk_id) return;  // HF drops what it cannot represent when there is no unk token
  if (config_->fuse_unk && *last_was_unk) return;
  out.push_back(*config_->unk_id);
  *last_was_unk = true;
}

void Bpe::encode_uncached(std::string_view word, std::vector<int32_t>& out) const {
  if (config_->ignore_merges) {
    if (std::optional<int32_t> whole = piece_to_id_.find(word)) {
      out.push_back(*whole);
      return;
    }
  }
  // symbols: the word's initial pieces (bytes or characters) as a linked list; merged symbols keep the
  // left one's slot and the right one's length becomes 0.
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  for (size_t pos = 0; pos < word.size();) {
    size_t len = config_->byte_level ? 1 : std::min(utf8_char_len(static_cast<uint8_t>(word[pos])), word.size() - pos);
    int32_t id = piece_to_id_.find(word.substr(pos, len)).value_or(-1);
    int32_t index = static_cast<int32_t>(symbols.size());
    symbols.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(len), id, index - 1, index + 1});
    pos += len;
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  struct Candidate {
    double priority;
    int32_t left, right;
    uint32_t len;  // combined length when pushed: a changed neighbour makes the candidate stale
    bool operator>(const Candidate& o) const {
      return priority != o.priority ? priority > o.priority : left > o.left;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto push_pair = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    double priority;
    int32_t merged;
    if (merge_of(word, symbols[left], symbols[right], &priority, &merged)) {
      queue.push({priority, left, right, symbols[left].len + symbols[right].len});
    }
  };
  for (size_t i = 0; i + 1 < symbols.size(); ++i) push_pair(static_cast<int32_t>(i), static_cast<int32_t>(i + 1));

  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.left];
    Symbol& right = symbols[top.right];
    if (left.len == 0 || right.len == 0 || left.next != top.right || left.len + right.len != top.len) continue;
    double priority;
    int32_t merged;
    if (!merge_of(word, left, right, &priority, &merged)) continue;
    left.len += right.len;
    left.id = merged;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.left;
    right.len = 0;
    push_pair(left.prev, top.left);
    push_pair(top.left, left.next);
  }

  bool last_was_unk = false;
  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    const Symbol& s = symbols[i];
    if (s.id >= 0) {
      out.push_back(s.id);
      last_was_unk = false;
    } else {
      emit_unknown(word.substr(s.begin, s.len), out, &last_was_unk);
    }
  }
}

Status Bpe::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.size() > kCacheMaxWordBytes) {
    encode_uncached(word, out);
    return Status::ok();
  }
  std::string key(word);
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return Status::ok();
    }
  }
  size_t start = out.size();
  encode_uncached(word, out);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= kCacheMaxEntries) cache_.clear();
  cache_.emplace(std::move(key), std::vector<int32_t>(out.begin() + start, out.end()));
  return Status::ok();
}

}  // namespace arbiter
