#include "runtime/shared_prefix.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <numeric>

namespace arbiter {

namespace {

class PlanBuilder {
 public:
  PlanBuilder(const std::vector<SequenceInput>& sequences, const SharedPrefixOptions& options)
      : sequences_(sequences), options_(options) {
    plan_.node_of.assign(sequences.size(), -1);
    plan_.start.assign(sequences.size(), 0);
    // Sorted by content, sequences with a common prefix are neighbours, and the prefix a run of them
    // shares is the smallest common prefix of neighbours in the run.
    order_.resize(sequences.size());
    std::iota(order_.begin(), order_.end(), size_t(0));
    std::sort(order_.begin(), order_.end(), [&](size_t a, size_t b) {
      return sequences[a].tokens != sequences[b].tokens ? sequences[a].tokens < sequences[b].tokens : a < b;
    });
    // common_[i]: the common prefix of order_[i - 1] and order_[i].
    common_.assign(order_.size(), 0);
    for (size_t i = 1; i < order_.size(); ++i) {
      const auto& a = sequences[order_[i - 1]].tokens;
      const auto& b = sequences[order_[i]].tokens;
      const size_t limit = std::min(a.size(), b.size());
      size_t n = 0;
      while (n < limit && a[n] == b[n]) ++n;
      common_[i] = int64_t(n);
    }
  }

  SharedPrefixPlan build() {
    std::vector<size_t> everyone(order_.size());
    std::iota(everyone.begin(), everyone.end(), size_t(0));
    split(everyone, 0, -1, 0);
    for (const SharedPrefixNode& node : plan_.nodes) plan_.computed_tokens += node.end - node.begin;
    for (size_t s = 0; s < sequences_.size(); ++s)
      plan_.computed_tokens += int64_t(sequences_[s].tokens.size()) - plan_.start[s];
    return std::move(plan_);
  }

 private:
  // Sorted positions `members` (ascending), all sharing tokens [0, start) that node `parent` computes.
  // Members that may share too little beyond start continue `parent`; runs of the others whose common
  // prefix reaches min_tokens beyond start become child nodes, ending where the run's common prefix
  // or a member's limit ends; a member left alone continues `parent`.
  void split(const std::vector<size_t>& members, int64_t start, int parent, int level) {
    const int64_t needed = start + options_.min_tokens;
    std::vector<size_t> eligible;
    for (size_t m : members) {
      if (level < options_.max_levels && shareable_prefix(sequences_[order_[m]]) >= needed) {
        eligible.push_back(m);
      } else {
        leave(m, start, parent);
      }
    }
    size_t i = 0;
    while (i < eligible.size()) {
      size_t j = i + 1;
      int64_t end = shareable_prefix(sequences_[order_[eligible[i]]]);
      for (; j < eligible.size(); ++j) {
        const int64_t common = common_between(eligible[j - 1], eligible[j]);
        if (common < needed) break;
        end = std::min({end, common, shareable_prefix(sequences_[order_[eligible[j]]])});
      }
      if (j - i < 2) {
        leave(eligible[i], start, parent);
      } else {
        plan_.nodes.push_back({parent, level, start, end, order_[eligible[i]]});
        plan_.levels = std::max(plan_.levels, level + 1);
        split(std::vector<size_t>(eligible.begin() + i, eligible.begin() + j), end, int(plan_.nodes.size() - 1),
              level + 1);
      }
      i = j;
    }
  }

  // The common prefix of sorted positions a < b: the least common prefix of the neighbours between.
  int64_t common_between(size_t a, size_t b) const {
    int64_t common = INT64_MAX;
    for (size_t k = a + 1; k <= b; ++k) common = std::min(common, common_[k]);
    return common;
  }

  void leave(size_t m, int64_t start, int parent) {
    plan_.node_of[order_[m]] = parent;
    plan_.start[order_[m]] = start;
  }

  const std::vector<SequenceInput>& sequences_;
  const SharedPrefixOptions& options_;
  std::vector<size_t> order_;
  std::vector<int64_t> common_;
  SharedPrefixPlan plan_;
};

std::atomic<bool> g_prefix_sharing{true};
std::atomic<size_t> g_prefix_cache_bytes{kDefaultPrefixCacheBytes};

}  // namespace

void set_prefix_sharing(bool enabled) { g_prefix_sharing.store(enabled); }
bool prefix_sharing() { return g_prefix_sharing.load(); }
void set_prefix_cache_bytes(size_t bytes) { g_prefix_cache_bytes.store(bytes); }
size_t prefix_cache_bytes() { return g_prefix_cache_bytes.load(); }

int64_t shareable_prefix(const SequenceInput& sequence) {
  int64_t limit = int64_t(sequence.tokens.size()) - 1;
  if (!sequence.read_positions.empty()) limit = std::min<int64_t>(limit, sequence.read_positions.front());
  return std::max<int64_t>(limit, 0);
}

SharedPrefixPlan plan_shared_prefixes(const std::vector<SequenceInput>& sequences, const SharedPrefixOptions& options) {
  return PlanBuilder(sequences, options).build();
}

}  // namespace arbiter
