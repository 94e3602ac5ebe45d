#include "runtime/cpu/prefix_store.h"

#include <algorithm>

namespace arbiter::cpu {

namespace {

// How many leading tokens a and b share, at most `limit`.
int64_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b, int64_t limit) {
  const int64_t n = std::min<int64_t>({int64_t(a.size()), int64_t(b.size()), limit});
  int64_t i = 0;
  while (i < n && a[size_t(i)] == b[size_t(i)]) ++i;
  return i;
}

// Whether `a` is `b` or begins it.
bool begins(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

void PrefixStore::set_budget(size_t bytes) {
  budget_ = bytes;
  evict_until(budget_, kMaxSequences);
}

std::pair<PrefixStore::Entry*, int64_t> PrefixStore::nearest(const std::vector<int32_t>& tokens,
                                                             int64_t limit) const {
  // The first kept sequence not before `tokens`, and the one before it.
  const auto after = std::lower_bound(sorted_.begin(), sorted_.end(), tokens,
                                      [](const Entry* entry, const std::vector<int32_t>& t) { return entry->tokens < t; });
  std::pair<Entry*, int64_t> best{nullptr, 0};
  for (auto it : {after, after == sorted_.begin() ? sorted_.end() : after - 1}) {
    if (it == sorted_.end()) continue;
    const int64_t shared = common_prefix((*it)->tokens, tokens, limit);
    if (shared > best.second) best = {*it, shared};
  }
  return best;
}

int64_t PrefixStore::longest_kept(const std::vector<int32_t>& tokens, int64_t limit) const {
  return nearest(tokens, limit).second;
}

PrefixStore::Match PrefixStore::find(const std::vector<int32_t>& tokens, int64_t limit) {
  const auto [entry, shared] = nearest(tokens, limit);
  if (entry == nullptr) return {};
  entry->last_used = ++clock_;
  return {&entry->kv, shared};
}

void PrefixStore::erase(const Entry* entry) {
  bytes_ -= entry->tokens.size() * row_bytes_;
  // No two kept sequences are equal (keep() refuses one that begins another), so the first not before
  // its tokens is the entry itself.
  const auto sorted = std::lower_bound(sorted_.begin(), sorted_.end(), entry->tokens,
                                       [](const Entry* e, const std::vector<int32_t>& t) { return e->tokens < t; });
  sorted_.erase(sorted);
  std::erase_if(entries_, [&](const std::unique_ptr<Entry>& e) { return e.get() == entry; });
}

void PrefixStore::keep(std::vector<int32_t> tokens, KvCache kv) {
  const size_t size = tokens.size() * row_bytes_;
  if (tokens.empty() || size > budget_) return;
  for (const std::unique_ptr<Entry>& entry : entries_) {
    if (begins(tokens, entry->tokens)) {  // nothing new: what this holds is kept already
      entry->last_used = ++clock_;
      return;
    }
  }
  // Sequences this one extends are within it now.
  std::vector<const Entry*> within;
  for (const std::unique_ptr<Entry>& entry : entries_)
    if (begins(entry->tokens, tokens)) within.push_back(entry.get());
  for (const Entry* entry : within) erase(entry);
  evict_until(budget_ - size, kMaxSequences - 1);
  // Exactly its rows: a cache sized for more (a prompt's room for what it writes) gives back the rest.
  const size_t floats_per_layer = tokens.size() * size_t(kv_dim_);
  for (auto* layers : {&kv.k, &kv.v})
    for (std::vector<float>& rows : *layers)
      if (rows.size() != floats_per_layer) {
        rows.resize(floats_per_layer);
        rows.shrink_to_fit();
      }
  kv.length = int64_t(tokens.size());
  entries_.push_back(std::make_unique<Entry>(Entry{std::move(tokens), std::move(kv), ++clock_}));
  Entry* kept = entries_.back().get();
  sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), kept,
                                  [](const Entry* a, const Entry* b) { return a->tokens < b->tokens; }),
                 kept);
  bytes_ += size;
}

int64_t PrefixStore::make_room(int64_t rows) {
  if (rows <= 0 || row_bytes_ == 0) return 0;
  const size_t wanted = std::min(size_t(rows), budget_ / row_bytes_) * row_bytes_;
  evict_until(budget_ - wanted, kMaxSequences, /*spare_from_pass=*/true);
  const size_t free = budget_ > bytes_ ? budget_ - bytes_ : 0;
  return std::min(rows, int64_t(free / row_bytes_));
}

void PrefixStore::evict_until(size_t bytes, size_t sequences, bool spare_from_pass) {
  while (bytes_ > bytes || entries_.size() > sequences) {
    auto oldest = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (spare_from_pass && (*it)->last_used > pass_start_) continue;
      if (oldest == entries_.end() || (*it)->last_used < (*oldest)->last_used) oldest = it;
    }
    if (oldest == entries_.end()) return;  // what is left, the pass reads
    erase(oldest->get());
  }
}

}  // namespace arbiter::cpu
