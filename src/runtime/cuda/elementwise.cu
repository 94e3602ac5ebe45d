// Row-wise and elementwise kernels of the CUDA backend: embedding, RMSNorm (alone and fused with the
// residual add), the q/k/v epilogue (bias, q/k-norm, RoPE), gated activations, gathers, small dot
// products for heads and selected logits, random fills. All arithmetic in f32; bf16 only in storage.
#include <cmath>

#include "runtime/cuda/kernels.h"

namespace arbiter::cuda {

namespace {

constexpr int kRowThreads = 256;

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// The sum over the block, returned to every thread. Safe to call repeatedly in one kernel.
__device__ float block_sum(float v) {
  __shared__ float partial[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // an earlier call's readers are done with `partial`
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  float total = 0;
  const int warps = (blockDim.x + 31) >> 5;
  for (int w = 0; w < warps; ++w) total += partial[w];
  return total;
}

__device__ __forceinline__ float sum_of_squares_strided(const float* x, int64_t d) {
  float ss = 0;
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) ss += x[i] * x[i];
  return ss;
}

__global__ void embed_kernel(const bf16* embedding, const int32_t* tokens, int64_t d, float scale, float* x) {
  const int64_t row = blockIdx.x;
  const bf16* src = embedding + int64_t(tokens[row]) * d;
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) x[row * d + i] = __bfloat162float(src[i]) * scale;
}

__global__ void rms_norm_bf16_kernel(const float* x, const float* weight, int64_t d, float eps, bf16* out) {
  const int64_t row = blockIdx.x;
  const float* xr = x + row * d;
  const float inv_rms = rsqrtf(block_sum(sum_of_squares_strided(xr, d)) / float(d) + eps);
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) out[row * d + i] = __float2bfloat16(xr[i] * inv_rms * weight[i]);
}

__global__ void rms_norm_f32_kernel(const float* x, const float* weight, int64_t d, float eps, float* out) {
  const int64_t row = blockIdx.x;
  const float* xr = x + row * d;
  const float inv_rms = rsqrtf(block_sum(sum_of_squares_strided(xr, d)) / float(d) + eps);
  // Every thread has read its elements of xr before block_sum's barriers, so out may alias x.
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) out[row * d + i] = xr[i] * inv_rms * weight[i];
}

__global__ void add_residual_and_norm_kernel(const float* proj, const float* post_weight, float* x,
                                             const float* next_weight, int64_t d, float eps, bf16* normed) {
  const int64_t row = blockIdx.x;
  const float* pr = proj + row * d;
  float* xr = x + row * d;
  float post_inv_rms = 1.0f;
  if (post_weight) post_inv_rms = rsqrtf(block_sum(sum_of_squares_strided(pr, d)) / float(d) + eps);
  float ss = 0;
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) {
    const float added = post_weight ? pr[i] * post_inv_rms * post_weight[i] : pr[i];
    const float value = xr[i] + added;
    xr[i] = value;
    ss += value * value;
  }
  if (!next_weight) return;
  const float inv_rms = rsqrtf(block_sum(ss) / float(d) + eps);
  // Each thread reads back only the elements it wrote itself.
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) normed[row * d + i] = __float2bfloat16(xr[i] * inv_rms * next_weight[i]);
}

constexpr int kQkvWarps = 4;

// grid: (n, ceil((heads + 2 kv_heads) / kQkvWarps)); one warp per head of one row.
// Dynamic shared memory: kQkvWarps * head_dim floats.
__global__ void qkv_kernel(const float* qkv, const float* bias, const float* q_norm, const float* k_norm,
                           const int32_t* positions, const float* cos_sin, QkvShape shape, float eps, bf16* q,
                           bf16* k, bf16* v) {
  extern __shared__ float head_buffers[];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int head = blockIdx.y * kQkvWarps + warp;
  const int hd = shape.head_dim, heads = shape.num_heads, kv_heads = shape.num_kv_heads;
  if (head >= heads + 2 * kv_heads) return;  // no block-wide barrier follows
  const int64_t row = blockIdx.x;
  const int64_t q_dim = int64_t(heads) * hd, kv_dim = int64_t(kv_heads) * hd, width = q_dim + 2 * kv_dim;
  float* buf = head_buffers + warp * hd;

  const float* norm = nullptr;
  bf16* dst = nullptr;
  int64_t column = 0;
  bool rotate = true;
  if (head < heads) {
    column = int64_t(head) * hd;
    norm = q_norm;
    dst = q + row * q_dim + column;
  } else if (head < heads + kv_heads) {
    column = q_dim + int64_t(head - heads) * hd;
    norm = k_norm;
    dst = k + row * kv_dim + int64_t(head - heads) * hd;
  } else {
    column = q_dim + kv_dim + int64_t(head - heads - kv_heads) * hd;
    dst = v + row * kv_dim + int64_t(head - heads - kv_heads) * hd;
    rotate = false;
  }
  const float* src = qkv + row * width + column;
  for (int i = lane; i < hd; i += 32) buf[i] = src[i] + (bias ? bias[column + i] : 0.0f);
  __syncwarp();
  if (!rotate) {
    for (int i = lane; i < hd; i += 32) dst[i] = __float2bfloat16(buf[i]);
    return;
  }
  if (norm) {
    float ss = 0;
    for (int i = lane; i < hd; i += 32) ss += buf[i] * buf[i];
    const float inv_rms = rsqrtf(warp_sum(ss) / float(hd) + eps);
    for (int i = lane; i < hd; i += 32) buf[i] = buf[i] * inv_rms * norm[i];
    __syncwarp();
  }
  const int half = shape.rope_dim / 2;
  const float* cs = cos_sin + int64_t(positions[row]) * half * 2;
  for (int i = lane; i < half; i += 32) {
    const int a = shape.adjacent_pairs ? 2 * i : i;
    const int b = shape.adjacent_pairs ? 2 * i + 1 : i + half;
    const float c = cs[2 * i], s = cs[2 * i + 1];
    const float x1 = buf[a], x2 = buf[b];
    dst[a] = __float2bfloat16(x1 * c - x2 * s);
    dst[b] = __float2bfloat16(x2 * c + x1 * s);
  }
  for (int i = shape.rope_dim + lane; i < hd; i += 32) dst[i] = __float2bfloat16(buf[i]);
}

__device__ __forceinline__ float activate(float g, bool gelu_tanh) {
  if (!gelu_tanh) return g / (1.0f + expf(-g));
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  return 0.5f * g * (1.0f + tanhf(kSqrt2OverPi * (g + 0.044715f * g * g * g)));
}

// Two adjacent columns per thread (ffn even).
__global__ void gated_activation_pairs_kernel(const bf16* gate_up, int64_t n, int64_t ffn, bool gelu_tanh, bf16* out) {
  const int64_t pairs_per_row = ffn / 2, total = n * pairs_per_row;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = i / pairs_per_row, col = (i % pairs_per_row) * 2;
    const __nv_bfloat162 g = *reinterpret_cast<const __nv_bfloat162*>(gate_up + row * 2 * ffn + col);
    const __nv_bfloat162 u = *reinterpret_cast<const __nv_bfloat162*>(gate_up + row * 2 * ffn + ffn + col);
    const float r0 = activate(__bfloat162float(g.x), gelu_tanh) * __bfloat162float(u.x);
    const float r1 = activate(__bfloat162float(g.y), gelu_tanh) * __bfloat162float(u.y);
    *reinterpret_cast<__nv_bfloat162*>(out + row * ffn + col) = __floats2bfloat162_rn(r0, r1);
  }
}

__global__ void gated_activation_kernel(const bf16* gate_up, int64_t n, int64_t ffn, bool gelu_tanh, bf16* out) {
  const int64_t total = n * ffn;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = i / ffn, col = i % ffn;
    const float g = __bfloat162float(gate_up[row * 2 * ffn + col]);
    const float u = __bfloat162float(gate_up[row * 2 * ffn + ffn + col]);
    out[i] = __float2bfloat16(activate(g, gelu_tanh) * u);
  }
}

__global__ void gather_rows_kernel(const float* src, const int32_t* rows, int64_t d, float* dst) {
  const int64_t i = blockIdx.x;
  const float* s = src + int64_t(rows[i]) * d;
  for (int64_t c = threadIdx.x; c < d; c += blockDim.x) dst[i * d + c] = s[c];
}

__global__ void f32_to_bf16_kernel(const float* src, int64_t count, bf16* dst) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = __float2bfloat16(src[i]);
}

__global__ void softcap_kernel(float* x, int64_t count, float cap) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    x[i] = cap * tanhf(x[i] / cap);
}

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(bf16 v) { return __bfloat162float(v); }

// One warp per output element.
template <typename W>
__global__ void rows_dot_kernel(const W* weight, const int32_t* ids, int64_t k, const float* x, int64_t rows, int64_t d,
                                const float* bias, float* out) {
  const int64_t item = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (item >= rows * k) return;
  const int64_t r = item / k, j = item % k;
  const W* w = weight + int64_t(ids ? ids[j] : j) * d;
  const float* xr = x + r * d;
  float acc = 0;
  for (int64_t i = lane; i < d; i += 32) acc += to_float(w[i]) * xr[i];
  acc = warp_sum(acc);
  if (lane == 0) out[item] = acc + (bias ? bias[j] : 0.0f);
}

__device__ __forceinline__ uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform on [mean - std sqrt(3), mean + std sqrt(3)): that interval has the given std.
__device__ __forceinline__ float random_value(uint64_t seed, int64_t i, float mean, float std) {
  const uint64_t bits = splitmix64(seed * 0x100000001b3ull + uint64_t(i));
  const float unit = float(bits >> 40) * (1.0f / 16777216.0f);  // [0, 1)
  return mean + (2.0f * unit - 1.0f) * std * 1.7320508f;
}

__global__ void fill_random_bf16_kernel(bf16* dst, int64_t count, float mean, float std, uint64_t seed) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = __float2bfloat16(random_value(seed, i, mean, std));
}

__global__ void fill_random_f32_kernel(float* dst, int64_t count, float mean, float std, uint64_t seed) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = random_value(seed, i, mean, std);
}

// Blocks for a grid-stride loop over `count` elements.
unsigned grid_for(int64_t count, int threads) {
  const int64_t blocks = (count + threads - 1) / threads;
  return unsigned(blocks < 1 ? 1 : blocks > 65535 * 8 ? 65535 * 8 : blocks);
}

// Blocks of 8 warps for `warps` warps (one per row or per row and output), or 0 past the grid's limit of
// 2^31 - 1 blocks, which the caller reports as an invalid launch rather than wrapping the count.
unsigned warp_blocks(int64_t warps) {
  const int64_t blocks = (warps + 7) / 8;
  return blocks > int64_t(INT32_MAX) ? 0u : unsigned(blocks);
}

int row_threads(int64_t d) { return d >= kRowThreads ? kRowThreads : d > 128 ? 128 : d > 64 ? 64 : 32; }

}  // namespace

cudaError_t embed_rows(const bf16* embedding, const int32_t* tokens, int64_t n, int64_t d, float scale, float* x,
                       cudaStream_t stream) {
  if (n > 0) embed_kernel<<<unsigned(n), row_threads(d), 0, stream>>>(embedding, tokens, d, scale, x);
  return cudaGetLastError();
}

cudaError_t rms_norm_to_bf16(const float* x, const float* weight, int64_t rows, int64_t d, float eps, bf16* out,
                             cudaStream_t stream) {
  if (rows > 0) rms_norm_bf16_kernel<<<unsigned(rows), row_threads(d), 0, stream>>>(x, weight, d, eps, out);
  return cudaGetLastError();
}

cudaError_t rms_norm_f32(const float* x, const float* weight, int64_t rows, int64_t d, float eps, float* out,
                         cudaStream_t stream) {
  if (rows > 0) rms_norm_f32_kernel<<<unsigned(rows), row_threads(d), 0, stream>>>(x, weight, d, eps, out);
  return cudaGetLastError();
}

cudaError_t add_residual_and_norm(const float* proj, const float* post_weight, float* x, const float* next_weight,
                                  int64_t rows, int64_t d, float eps, bf16* normed, cudaStream_t stream) {
  if (rows > 0)
    add_residual_and_norm_kernel<<<unsigned(rows), row_threads(d), 0, stream>>>(proj, post_weight, x, next_weight, d,
                                                                                eps, normed);
  return cudaGetLastError();
}

cudaError_t qkv_bias_norm_rope(const float* qkv, const float* bias, const float* q_norm, const float* k_norm,
                               const int32_t* positions, const float* cos_sin, int64_t n, const QkvShape& shape,
                               float eps, bf16* q, bf16* k, bf16* v, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  const int total_heads = shape.num_heads + 2 * shape.num_kv_heads;
  const dim3 grid(unsigned(n), unsigned((total_heads + kQkvWarps - 1) / kQkvWarps));
  const size_t shared = sizeof(float) * size_t(kQkvWarps) * size_t(shape.head_dim);
  qkv_kernel<<<grid, kQkvWarps * 32, shared, stream>>>(qkv, bias, q_norm, k_norm, positions, cos_sin, shape, eps, q, k, v);
  return cudaGetLastError();
}

cudaError_t gated_activation(const bf16* gate_up, int64_t n, int64_t ffn, bool gelu_tanh, bf16* out, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  if (ffn % 2 == 0)
    gated_activation_pairs_kernel<<<grid_for(n * ffn / 2, 256), 256, 0, stream>>>(gate_up, n, ffn, gelu_tanh, out);
  else
    gated_activation_kernel<<<grid_for(n * ffn, 256), 256, 0, stream>>>(gate_up, n, ffn, gelu_tanh, out);
  return cudaGetLastError();
}

cudaError_t gather_rows(const float* src, const int32_t* rows, int64_t count, int64_t d, float* dst, cudaStream_t stream) {
  if (count > 0) gather_rows_kernel<<<unsigned(count), row_threads(d), 0, stream>>>(src, rows, d, dst);
  return cudaGetLastError();
}

cudaError_t f32_to_bf16(const float* src, int64_t count, bf16* dst, cudaStream_t stream) {
  if (count > 0) f32_to_bf16_kernel<<<grid_for(count, 256), 256, 0, stream>>>(src, count, dst);
  return cudaGetLastError();
}

cudaError_t softcap(float* x, int64_t count, float cap, cudaStream_t stream) {
  if (count > 0) softcap_kernel<<<grid_for(count, 256), 256, 0, stream>>>(x, count, cap);
  return cudaGetLastError();
}

cudaError_t rows_dot_bf16(const bf16* weight, const int32_t* ids, int64_t k, const float* x, int64_t rows, int64_t d,
                          const float* bias, float* out, cudaStream_t stream) {
  const int64_t warps = rows * k;
  if (warps <= 0) return cudaGetLastError();
  if (warp_blocks(warps) == 0) return cudaErrorInvalidValue;
  rows_dot_kernel<bf16><<<warp_blocks(warps), 256, 0, stream>>>(weight, ids, k, x, rows, d, bias, out);
  return cudaGetLastError();
}

cudaError_t rows_dot_f32(const float* weight, const int32_t* ids, int64_t k, const float* x, int64_t rows, int64_t d,
                         const float* bias, float* out, cudaStream_t stream) {
  const int64_t warps = rows * k;
  if (warps <= 0) return cudaGetLastError();
  if (warp_blocks(warps) == 0) return cudaErrorInvalidValue;
  rows_dot_kernel<float><<<warp_blocks(warps), 256, 0, stream>>>(weight, ids, k, x, rows, d, bias, out);
  return cudaGetLastError();
}

cudaError_t fill_random_bf16(bf16* dst, int64_t count, float mean, float std, uint64_t seed, cudaStream_t stream) {
  if (count > 0) fill_random_bf16_kernel<<<grid_for(count, 256), 256, 0, stream>>>(dst, count, mean, std, seed);
  return cudaGetLastError();
}

cudaError_t fill_random_f32(float* dst, int64_t count, float mean, float std, uint64_t seed, cudaStream_t stream) {
  if (count > 0) fill_random_f32_kernel<<<grid_for(count, 256), 256, 0, stream>>>(dst, count, mean, std, seed);
  return cudaGetLastError();
}

}  // namespace arbiter::cuda
