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

std::string byte_piece_name(uint8_t byte) {
  static const char* hex = "0123456789ABCDEF";
  return std::string("<0x") + hex[byte >> 4] + hex[byte & 15] + ">";
}

}  // namespace

Result<std::unique_ptr<Bpe>> Bpe::create(const BpeConfig& config) {
  std::unique_ptr<Bpe> bpe(new Bpe());
  bpe->config_ = &config;
  const BpeConfig& c = config;
  bpe->piece_to_id_.reserve(c.pieces.size());
  for (size_t id = 0; id < c.pieces.size(); ++id) {
    if (!c.pieces[id].empty()) bpe->piece_to_id_.emplace(c.pieces[id], static_cast<int32_t>(id));
  }
  if (c.order == BpeMergeOrder::kPieceScore && c.scores.size() != c.pieces.size()) {
    return Status::error("BPE: " + std::to_string(c.scores.size()) + " scores for " +
                         std::to_string(c.pieces.size()) + " pieces");
  }
  bpe->merges_.reserve(c.merges.size());
  std::string joined;  // reused: one allocation, not one per merge
  for (size_t rank = 0; rank < c.merges.size(); ++rank) {
    const auto& [left, right] = c.merges[rank];
    auto l = bpe->piece_to_id_.find(left), r = bpe->piece_to_id_.find(right);
    joined.assign(left).append(right);
    auto m = bpe->piece_to_id_.find(joined);
    if (l == bpe->piece_to_id_.end() || r == bpe->piece_to_id_.end() || m == bpe->piece_to_id_.end()) {
      return Status::error("BPE merge " + std::to_string(rank) + " ('" + left + "' + '" + right +
                           "'): a piece is not in the vocabulary");
    }
    // A pair listed twice keeps its first (best) rank.
    bpe->merges_.emplace(pair_key(l->second, r->second), Merge{static_cast<uint32_t>(rank), m->second});
  }
  for (int b = 0; b < 256; ++b) {
    auto it = bpe->piece_to_id_.find(byte_piece_name(static_cast<uint8_t>(b)));
    bpe->byte_ids_[b] = it == bpe->piece_to_id_.end() ? -1 : it->second;
  }
  return bpe;
}

std::optional<int32_t> Bpe::piece_id(std::string_view piece) const {
  auto it = piece_to_id_.find(piece);
  if (it == piece_to_id_.end()) return std::nullopt;
  return it->second;
}

bool Bpe::merge_of(std::string_view word, const Symbol& left, const Symbol& right, double* priority,
                   int32_t* merged) const {
  if (config_->order == BpeMergeOrder::kRankedPairs) {
    if (left.id < 0 || right.id < 0) return false;
    auto it = merges_.find(pair_key(left.id, right.id));
    if (it == merges_.end()) return false;
    *priority = it->second.rank;
    *merged = it->second.merged;
    return true;
  }
  // Adjacent symbols are adjacent in the word, so their concatenation is a substring of it.
  auto it = piece_to_id_.find(word.substr(left.begin, left.len + right.len));
  if (it == piece_to_id_.end()) return false;
  int32_t id = it->second;
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
    auto it = piece_to_id_.find(word);
    if (it != piece_to_id_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  // symbols: the word's initial pieces (bytes or characters) as a linked list; merged symbols keep the
  // left one's slot and the right one's length becomes 0.
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  for (size_t pos = 0; pos < word.size();) {
    size_t len = config_->byte_level ? 1 : std::min(utf8_char_len(static_cast<uint8_t>(word[pos])), word.size() - pos);
    auto it = piece_to_id_.find(word.substr(pos, len));
    int32_t id = it == piece_to_id_.end() ? -1 : it->second;
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
