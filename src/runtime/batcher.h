// Token-budget batching: groups sequences so that each forward pass holds at most `max_tokens` tokens
// (a single longer sequence gets a batch of its own). Sorting by length first keeps batches of similar
// lengths together, which balances attention work; the caller restores input order from the indices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace arbiter {

// Returns batches of indices into `lengths`.
std::vector<std::vector<size_t>> plan_batches(const std::vector<int64_t>& lengths, int64_t max_tokens,
                                              int64_t max_sequences = 256, bool sort_by_length = true);

}  // namespace arbiter
