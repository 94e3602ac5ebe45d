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

PrefixStore::Match PrefixStore::find(const std::vector<int32_t>& tokens, int64_t limit) {
  Match best;
  Entry* used = nullptr;
  for (Entry& entry : entries_) {
    const int64_t shared = common_prefix(entry.tokens, tokens, limit);
    if (shared > best.length) {
      best = {&entry.kv, shared};
      used = &entry;
    }
  }
  if (used != nullptr) used->last_used = ++clock_;
  return best;
}

void PrefixStore::keep(std::vector<int32_t> tokens, KvCache kv) {
  const size_t size = tokens.size() * row_bytes_;
  if (tokens.empty() || size > budget_) return;
  for (Entry& entry : entries_) {
    if (begins(tokens, entry.tokens)) {  // nothing new: what this holds is kept already
      entry.last_used = ++clock_;
      return;
    }
  }
  // Sequences this one extends are within it now.
  std::erase_if(entries_, [&](const Entry& entry) {
    if (!begins(entry.tokens, tokens)) return false;
    bytes_ -= entry.tokens.size() * row_bytes_;
    return true;
  });
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
  entries_.push_back({std::move(tokens), std::move(kv), ++clock_});
  bytes_ += size;
}

void PrefixStore::evict_until(size_t bytes, size_t sequences) {
  while ((bytes_ > bytes || entries_.size() > sequences) && !entries_.empty()) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                   [](const Entry& a, const Entry& b) { return a.last_used < b.last_used; });
    bytes_ -= oldest->tokens.size() * row_bytes_;
    entries_.erase(oldest);
  }
}

}  // namespace arbiter::cpu
