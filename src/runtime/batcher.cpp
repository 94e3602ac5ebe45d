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

int64_t tokens_after_shared_prefix(const std::vector<int32_t>* previous, const std::vector<int32_t>& tokens,
                                   int64_t min_shared) {
  const int64_t len = int64_t(tokens.size());
  if (previous == nullptr) return len;
  const size_t limit = std::min(previous->size(), tokens.size());
  size_t shared = 0;
  while (shared < limit && (*previous)[shared] == tokens[shared]) ++shared;
  return int64_t(shared) >= min_shared ? len - int64_t(shared) : len;
}

std::vector<std::vector<size_t>> plan_batches_by_content(const std::vector<const std::vector<int32_t>*>& sequences,
                                                         int64_t max_tokens, int64_t max_sequences, int64_t min_shared) {
  std::vector<size_t> order(sequences.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return *sequences[a] < *sequences[b]; });
  std::vector<std::vector<size_t>> batches;
  std::vector<size_t> current;
  int64_t computed = 0, full = 0;
  const std::vector<int32_t>* previous = nullptr;
  for (size_t index : order) {
    const std::vector<int32_t>& tokens = *sequences[index];
    const int64_t len = int64_t(tokens.size());
    const int64_t cost = tokens_after_shared_prefix(previous, tokens, min_shared);
    if (!current.empty() && (computed + cost > max_tokens || full + len > kSharedBatchLengthFactor * max_tokens ||
                             int64_t(current.size()) >= max_sequences)) {
      batches.push_back(std::move(current));
      current.clear();
      computed = full = 0;
    }
    current.push_back(index);
    computed += current.size() == 1 ? len : cost;  // a batch's first sequence shares with nothing before it
    full += len;
    previous = &tokens;
  }
  if (!current.empty()) batches.push_back(std::move(current));
  return batches;
}

}  // namespace arbiter
