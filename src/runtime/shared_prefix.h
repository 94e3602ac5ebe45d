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

// Every node is shared by at least two sequences and ends before each member's first read position and
// its last token, so a sequence's reads and at least one token are its own.
SharedPrefixPlan plan_shared_prefixes(const std::vector<SequenceInput>& sequences,
                                      const SharedPrefixOptions& options = {});

}  // namespace arbiter
