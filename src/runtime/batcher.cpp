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

std::vector<std::vector<size_t>> plan_batches_by_content(const std::vector<const std::vector<int32_t>*>& sequences,
                                                         int64_t max_tokens, int64_t max_sequences, int64_t min_shared) {
  std::vector<size_t> order(sequences.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return *sequences[a] < *sequences[b]; });
  constexpr int64_t kFullLengthFactor = 4;
  std::vector<std::vector<size_t>> batches;
  std::vector<size_t> current;
  int64_t computed = 0, full = 0;
  const std::vector<int32_t>* previous = nullptr;
  for (size_t index : order) {
    const std::vector<int32_t>& tokens = *sequences[index];
    const int64_t len = int64_t(tokens.size());
    int64_t shared = 0;
    if (previous != nullptr) {
      const size_t limit = std::min(previous->size(), tokens.size());
      while (size_t(shared) < limit && (*previous)[size_t(shared)] == tokens[size_t(shared)]) ++shared;
      if (shared < min_shared) shared = 0;
    }
    const int64_t cost = len - shared;
    if (!current.empty() && (computed + cost > max_tokens || full + len > kFullLengthFactor * max_tokens ||
                             int64_t(current.size()) >= max_sequences)) {
      batches.push_back(std::move(current));
      current.clear();
      computed = full = 0;
      previous = nullptr;
    }
    current.push_back(index);
    computed += current.size() == 1 ? len : cost;
    full += len;
    previous = &tokens;
  }
  if (!current.empty()) batches.push_back(std::move(current));
  return batches;
}

}  // namespace arbiter
