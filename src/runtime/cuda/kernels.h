// The CUDA backend's kernels, as plain launch functions over raw device pointers (no arbiter types, so
// the .cu files compile without the C++20 headers). Each returns the launch's error code.
// Rows are packed tokens; every matrix is row-major with its last dimension contiguous.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace arbiter::cuda {

using bf16 = __nv_bfloat16;

// x: [n, d] f32 = embedding[tokens[r]] * scale; embedding: [vocab, d] bf16
cudaError_t embed_rows(const bf16* embedding, const int32_t* tokens, int64_t n, int64_t d, float scale, float* x,
                       cudaStream_t stream);

// out: [rows, d] bf16 = x / rms(x) * weight
cudaError_t rms_norm_to_bf16(const float* x, const float* weight, int64_t rows, int64_t d, float eps, bf16* out,
                             cudaStream_t stream);
// The same in f32; out may be x.
cudaError_t rms_norm_f32(const float* x, const float* weight, int64_t rows, int64_t d, float eps, float* out,
                         cudaStream_t stream);

// One fused pass per row after a block's output projection:
//   x += post_weight ? proj / rms(proj) * post_weight : proj          (x, proj: [rows, d] f32)
//   normed = x / rms(x) * next_weight  (bf16, the next block's input) when next_weight is not null
cudaError_t add_residual_and_norm(const float* proj, const float* post_weight, float* x, const float* next_weight,
                                  int64_t rows, int64_t d, float eps, bf16* normed, cudaStream_t stream);

struct QkvShape {
  int num_heads = 0, num_kv_heads = 0, head_dim = 0, rope_dim = 0;
  bool adjacent_pairs = false;  // RoPE rotates (2i, 2i+1) instead of (i, i + rope_dim/2)
};

// qkv: [n, q_dim + 2 kv_dim] f32, the fused projection's output. Adds the bias (may be null), applies the
// per-head RMSNorm to q and k (q_norm, k_norm: [head_dim], may be null) and RoPE at positions[r]
// (cos_sin: [max_position + 1, rope_dim / 2, 2]), in that order.
// q: [n, heads, head_dim]; k, v: [n, kv_heads, head_dim] bf16
cudaError_t qkv_bias_norm_rope(const float* qkv, const float* bias, const float* q_norm, const float* k_norm,
                               const int32_t* positions, const float* cos_sin, int64_t n, const QkvShape& shape,
                               float eps, bf16* q, bf16* k, bf16* v, cudaStream_t stream);

// gate_up: [n, 2 ffn] bf16 (gate columns first) -> out: [n, ffn] bf16 = act(gate) * up
// act: SiLU, or GELU with the tanh approximation.
cudaError_t gated_activation(const bf16* gate_up, int64_t n, int64_t ffn, bool gelu_tanh, bf16* out, cudaStream_t stream);

// dst: [count, d] = src[rows[i], :]
cudaError_t gather_rows(const float* src, const int32_t* rows, int64_t count, int64_t d, float* dst, cudaStream_t stream);

cudaError_t f32_to_bf16(const float* src, int64_t count, bf16* dst, cudaStream_t stream);
// x = cap * tanh(x / cap)
cudaError_t softcap(float* x, int64_t count, float cap, cudaStream_t stream);

// out: [rows, k] f32, out[r, j] = dot(weight[ids ? ids[j] : j, :], x[r, :]) + (bias ? bias[j] : 0)
// weight: [*, d] bf16 or f32; x: [rows, d] f32. For a few outputs per row (selected logits, heads).
cudaError_t rows_dot_bf16(const bf16* weight, const int32_t* ids, int64_t k, const float* x, int64_t rows, int64_t d,
                          const float* bias, float* out, cudaStream_t stream);
cudaError_t rows_dot_f32(const float* weight, const int32_t* ids, int64_t k, const float* x, int64_t rows, int64_t d,
                         const float* bias, float* out, cudaStream_t stream);

// Deterministic pseudo-random fills (a hash of seed and index; uniform with the given mean and std).
cudaError_t fill_random_bf16(bf16* dst, int64_t count, float mean, float std, uint64_t seed, cudaStream_t stream);
cudaError_t fill_random_f32(float* dst, int64_t count, float mean, float std, uint64_t seed, cudaStream_t stream);

// Causal attention over packed sequences.
struct AttentionParams {
  const bf16* q = nullptr;  // [n, heads, head_dim]
  const bf16* k = nullptr;  // [n, kv_heads, head_dim]
  const bf16* v = nullptr;  // [n, kv_heads, head_dim]
  bf16* out = nullptr;      // [n, heads, head_dim]
  int num_heads = 0, num_kv_heads = 0, head_dim = 0;
  float scale = 1.0f;    // multiplies q.k
  float softcap = 0.0f;  // 0 = off; else s = softcap * tanh(s / softcap)
  int window = 0;        // 0 = off; else query i sees key j when i - j < window
};

// One thread block's work in the tensor-core kernel: kAttentionTileRows queries of one sequence (all heads
// are the grid's second dimension).
struct AttentionTile {
  int32_t seq_begin;  // packed row of the sequence's first token
  int32_t seq_len;
  int32_t q_begin;    // first query position of the tile within the sequence
};
constexpr int kAttentionTileRows = 64;

// Whether the tensor-core kernel has an instantiation for this head size (16, 32, 64, 128, 256).
bool attention_mma_supported(int head_dim);
// Flash-attention style: bf16 mma.sync tiles, online softmax in f32. tiles: device array of num_tiles.
cudaError_t attention_mma(const AttentionParams& params, const AttentionTile* tiles, int num_tiles, cudaStream_t stream);
// One warp per (row, head), keys one at a time: the simple reference, any head_dim <= 256.
// positions: [n] each row's position in its sequence (the sequence starts at row - position).
cudaError_t attention_simple(const AttentionParams& params, const int32_t* positions, int64_t n, cudaStream_t stream);

}  // namespace arbiter::cuda
