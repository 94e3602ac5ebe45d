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
// What a sequence adds to a batch that computes shared prefixes once, after `previous` (or alone, when
// previous is null): its tokens past their common prefix when that prefix has at least `min_shared`.
int64_t tokens_after_shared_prefix(const std::vector<int32_t>* previous, const std::vector<int32_t>& tokens,
                                   int64_t min_shared);
// A batch may hold this many times its token budget in full length when its sequences share prefixes
// (attention still reads every position).
constexpr int64_t kSharedBatchLengthFactor = 4;

std::vector<std::vector<size_t>> plan_batches_by_content(const std::vector<const std::vector<int32_t>*>& sequences,
                                                         int64_t max_tokens, int64_t max_sequences = 256,
                                                         int64_t min_shared = 64);

}  // namespace arbiter
