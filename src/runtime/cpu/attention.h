// Causal self-attention over packed sequences (no padding), with GQA, an optional sliding window and
// optional logit softcapping. The keys of a sequence may include earlier positions held in a KV cache,
// so one kernel serves a whole-prompt prefill and a one-token decoding step alike.
#pragma once

#include <cstdint>
#include <vector>

namespace arbiter::cpu {

struct AttentionShape {
  int64_t num_heads = 0, num_kv_heads = 0, head_dim = 0;
  float scale = 0;            // multiplies q.k
  float softcap = 0;          // 0 = off
  int64_t sliding_window = 0;  // 0 = off; else query i sees key j when i - j < window
  // The weights x values product in bf16 arithmetic (attention_bf16.h) where the CPU has AVX512-BF16;
  // f32 otherwise. The query . key product and the softmax are f32 either way. The CPU backend sets it
  // when the layer's matmuls run in bf16.
  bool bf16_values = false;
};

// One sequence's queries and where its keys and values live.
struct AttentionSpan {
  int64_t query_row = 0;    // first packed row of its queries in q / out
  int64_t num_queries = 0;
  int64_t past = 0;         // positions before the first query; query i sits at position past + i
  const float* k = nullptr;  // [past + num_queries, kv_heads * head_dim], row p = position p
  const float* v = nullptr;  // same layout as k
};

// q, out: [N, heads * head_dim]. Query i of a span attends to positions max(0, p - window + 1)..p of its
// span's keys, p = past + i. The arithmetic of a query does not depend on `past` or on the other spans,
// so a decoding step gives the same bits as the same row of a whole-sequence prefill.
void causal_attention(const float* q, float* out, const std::vector<AttentionSpan>& spans, const AttentionShape& shape);

// Packed prefill without a cache: sequence s covers rows [offsets[s], offsets[s + 1]) of q, k, v and out.
// k, v: [N, kv_heads * head_dim].
void causal_attention(const float* q, const float* k, const float* v, float* out,
                      const std::vector<int64_t>& offsets, const AttentionShape& shape);

}  // namespace arbiter::cpu
