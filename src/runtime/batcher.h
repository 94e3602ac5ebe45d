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

// For forward passes that compute shared prefixes once: sequences in content order, so that the ones
// starting alike (the responses to one prompt, rows of one grading prompt) share a batch, and a batch's
// budget counts what it will compute: a sequence's tokens after the longest prefix (of at least
// `min_shared` tokens) it shares with the one before it. `max_tokens` still bounds the batch's full
// length times four (memory for attention over shared prefixes).
std::vector<std::vector<size_t>> plan_batches_by_content(const std::vector<const std::vector<int32_t>*>& sequences,
                                                         int64_t max_tokens, int64_t max_sequences = 256,
                                                         int64_t min_shared = 64);

}  // namespace arbiter
