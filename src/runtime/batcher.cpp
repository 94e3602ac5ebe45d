#include "runtime/batcher.h"

#include <algorithm>
#include <numeric>

namespace arbiter {

std::vector<std::vector<size_t>> plan_batches(const std::vector<int64_t>& lengths, int64_t max_tokens,
                                              int64_t max_sequences, bool sort_by_length) {
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), size_t(0));
  if (sort_by_length)
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<size_t>> batches;
  std::vector<size_t> current;
  int64_t tokens = 0;
  for (size_t index : order) {
    const int64_t len = lengths[index];
    if (!current.empty() && (tokens + len > max_tokens || int64_t(current.size()) >= max_sequences)) {
      batches.push_back(std::move(current));
      current.clear();
      tokens = 0;
    }
    current.push_back(index);
    tokens += len;
  }
  if (!current.empty()) batches.push_back(std::move(current));
  return batches;
}

}  // namespace arbiter
