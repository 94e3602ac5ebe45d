// Shared prefixes of a batch: sequences that start with the same tokens (every row of a judge's grading
// prompt up to the prompt, the responses to one prompt, a trainer's samples of one prompt) compute those
// tokens once. The plan is a tree: a node is a run of tokens shared by all the sequences below it,
// continuing its parent's; each sequence (a leaf) computes only what follows its node. A backend runs
// the nodes level by level, keeping their keys and values, and then every sequence after its node's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/backend.h"

namespace arbiter {

struct SharedPrefixNode {
  int parent = -1;      // index of the node this one continues, or -1
  int level = 0;        // 0 for a root; parent's level + 1
  int64_t begin = 0;    // tokens [begin, end) of `source` (begin is the parent's end, 0 for a root)
  int64_t end = 0;
  size_t source = 0;    // a sequence that holds these tokens (they are the same in every member)
};

struct SharedPrefixPlan {
  std::vector<SharedPrefixNode> nodes;  // parents before children
  int levels = 0;                       // node levels: 1 + the deepest node's level, 0 without nodes
  std::vector<int> node_of;             // [S] the node each sequence continues, -1 for none
  std::vector<int64_t> start;           // [S] the sequence's first computed position: its node's end, or 0
  int64_t computed_tokens = 0;          // node segments plus every sequence's rest
};

struct SharedPrefixOptions {
  // A node must hold at least this many tokens: each level is one more pass over the weights, which a
  // few tokens do not pay for.
  int64_t min_tokens = 64;
  int max_levels = 3;
};

// Process-wide, like the thread count: whether forward passes compute shared prefixes once (default on;
// results are the same bytes either way, so this exists for measuring and for ruling it out).
void set_prefix_sharing(bool enabled);
bool prefix_sharing();

// Process-wide too: how many bytes of keys and values a backend that shares prefixes keeps from one
// forward pass to the next, for later sequences that begin alike (0 keeps none; nothing is kept while
// sharing is off). A pass may hold as much again of its own sequences' rows before it keeps them.
constexpr size_t kDefaultPrefixCacheBytes = size_t(512) << 20;
void set_prefix_cache_bytes(size_t bytes);
size_t prefix_cache_bytes();

// The longest prefix of a sequence that may be computed before (or apart from) it: everything before its
// first read and before its last token, so that its reads and at least one token are its own.
int64_t shareable_prefix(const SequenceInput& sequence);

// Every node is shared by at least two sequences and ends before each member's first read position and
// its last token, so a sequence's reads and at least one token are its own.
SharedPrefixPlan plan_shared_prefixes(const std::vector<SequenceInput>& sequences,
                                      const SharedPrefixOptions& options = {});

}  // namespace arbiter
