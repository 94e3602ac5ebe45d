// Keys and values kept from one forward pass to the next, so that a later pass whose sequences begin with
// tokens an earlier one computed (a judge's grading prompt in every batch, a trainer's next samples of a
// prompt, the next turn of a conversation) starts after them.
//
// The keys and values of a position depend only on the tokens up to it, and every pass computes them with
// the same arithmetic (runtime/shared_prefix.h), so rows [0, m) of any kept sequence are the bytes that
// computing them again would give, for every sequence sharing its first m tokens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "runtime/cpu/kv_cache.h"

namespace arbiter::cpu {

class PrefixStore {
 public:
  // A bound on the number of kept sequences: keep() and eviction scan them all, and a tiny model's rows are
  // so small that the byte budget alone would hold thousands.
  static constexpr size_t kMaxSequences = 256;

  // The keys and values of the first `length` tokens of a sequence: rows [0, length) of `kv`.
  struct Match {
    const KvCache* kv = nullptr;
    int64_t length = 0;
  };

  // A model's layer count and the width of its keys (and values) at one position.
  PrefixStore(int64_t num_layers, int64_t kv_dim)
      : kv_dim_(kv_dim), row_bytes_(size_t(2 * num_layers * kv_dim) * sizeof(float)) {}

  // Lowering the budget lets the least recently used sequences go until the rest fit.
  void set_budget(size_t bytes);
  // Positions the budget holds: the most a pass may keep.
  int64_t budget_rows() const { return row_bytes_ > 0 ? int64_t(budget_ / row_bytes_) : 0; }

  // Starts a forward pass: the sequences find() returns from now on are the pass's to read, and
  // make_room() leaves them in place until the pass keeps its own.
  void begin_pass() { pass_start_ = clock_; }

  // The kept sequence sharing the most of tokens[0, limit); none below one token. Marks it used. The match
  // stays valid until the next keep() or set_budget().
  Match find(const std::vector<int32_t>& tokens, int64_t limit);

  // What find() would match, without marking anything used.
  int64_t longest_kept(const std::vector<int32_t>& tokens, int64_t limit) const;

  // Room for a pass to fill caches of up to `rows` positions that it will keep: the least recently used
  // sequences the pass has not read leave until the budget holds them beside what stays. Returns the
  // positions the pass may fill (at most `rows`), so that the store and the caches a pass fills to keep
  // never hold more than the budget between them.
  int64_t make_room(int64_t rows);

  // Keeps `tokens` with `kv`, whose rows [0, tokens.size()) are their keys and values. A kept sequence
  // that this one extends leaves; one that extends this one (or equals it) makes keeping it pointless.
  // Older sequences leave to make room, and beyond kMaxSequences; one larger than the budget is not kept.
  void keep(std::vector<int32_t> tokens, KvCache kv);

  size_t bytes() const { return bytes_; }
  size_t sequences() const { return entries_.size(); }

 private:
  struct Entry {
    std::vector<int32_t> tokens;
    KvCache kv;
    uint64_t last_used = 0;
  };
  // The least recently used leave until at most `bytes` and `sequences` remain; with `spare_from_pass`,
  // those the current pass has read stay.
  void evict_until(size_t bytes, size_t sequences, bool spare_from_pass = false);
  // The kept sequence sharing the most of tokens[0, limit), and how much; nullptr below one token.
  std::pair<Entry*, int64_t> nearest(const std::vector<int32_t>& tokens, int64_t limit) const;
  void erase(const Entry* entry);

  int64_t kv_dim_;
  size_t row_bytes_;  // keys and values of one position at every layer
  size_t budget_ = 0;
  size_t bytes_ = 0;
  uint64_t clock_ = 0;
  uint64_t pass_start_ = 0;  // clock_ when the current pass began: entries used later are the pass's
  // Each entry on the heap: a match keeps pointing at its rows while make_room() lets others go.
  std::vector<std::unique_ptr<Entry>> entries_;
  // The same entries in the lexicographic order of their tokens. Among sorted sequences, the one sharing
  // the most with a query is next to where the query would go (for a <= b <= c, what a shares with c is
  // at most what b shares with c), so a lookup is a binary search and two comparisons, not a scan: the
  // server asks for every sequence it weighs for a batch, with its queue locked.
  std::vector<Entry*> sorted_;
};

}  // namespace arbiter::cpu
