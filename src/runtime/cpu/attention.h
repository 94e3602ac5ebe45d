// Causal self-attention over packed sequences (no padding), with GQA, an optional sliding window and
// optional logit softcapping.
#pragma once

#include <cstdint>
#include <vector>

namespace arbiter::cpu {

struct AttentionShape {
  int64_t num_heads = 0, num_kv_heads = 0, head_dim = 0;
  float scale = 0;            // multiplies q.k
  float softcap = 0;          // 0 = off
  int64_t sliding_window = 0;  // 0 = off; else query i sees key j when i - j < window
};

// q: [N, heads * head_dim], k, v: [N, kv_heads * head_dim], out: [N, heads * head_dim];
// sequence s covers rows [offsets[s], offsets[s + 1]).
void causal_attention(const float* q, const float* k, const float* v, float* out,
                      const std::vector<int64_t>& offsets, const AttentionShape& shape);

}  // namespace arbiter::cpu
