// Causal attention over packed sequences (GQA, sliding window, logit softcap).
//
// attention_mma: flash-attention style. A block takes 64 queries of one sequence and one head; each of its
// 4 warps owns 16 query rows. Key/value tiles are staged in shared memory; S = Q K^T and O += P V run on
// the tensor cores (mma.sync m16n8k16, bf16 in, f32 accumulate) and the softmax is online, in f32, in
// registers. The S accumulators are laid out exactly as the A operand of the P V product needs, so P never
// leaves registers (the FlashAttention-2 arrangement).
//
// Fragment layouts of mma.m16n8k16 (g = lane / 4, t = lane % 4), from the PTX ISA:
//   A (16x16, row-major): a0 = A[g][2t..2t+1], a1 = A[g+8][2t..], a2 = A[g][2t+8..], a3 = A[g+8][2t+8..]
//   B (16x8, k x n):      b0 = B[2t..2t+1][g],  b1 = B[2t+8..2t+9][g]
//   C (16x8 f32):         c0, c1 = C[g][2t], C[g][2t+1];  c2, c3 = C[g+8][2t], C[g+8][2t+1]
// Each 32-bit register holds two bf16, the lower index in the low half.
//
// attention_simple: one warp per (query row, head), keys one at a time; the reference the fast kernel is
// tested against, and the path for head sizes without an instantiation.
#include <cmath>

#include "runtime/cuda/kernels.h"

namespace arbiter::cuda {

namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
static_assert(kAttentionTileRows == kWarps * 16, "each warp owns 16 query rows");

template <int D>
struct TileShape {
  static constexpr int kKeys = D <= 128 ? 64 : 32;  // keys per shared-memory tile
  static constexpr int kStride = D + 8;             // bf16 per shared row: 16 bytes of padding spread the banks
  static constexpr size_t kSharedBytes = sizeof(bf16) * size_t(kAttentionTileRows + 2 * kKeys) * kStride;
};

__device__ __forceinline__ uint32_t load_pair(const bf16* p) { return *reinterpret_cast<const uint32_t*>(p); }

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

// c += a b (m16n8k16, bf16 operands, f32 accumulators)
__device__ __forceinline__ void mma_16816(float c[4], const uint32_t a[4], const uint32_t b[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Two 8x8 bf16 matrices, transposed: lanes 0-7 give the row addresses of the first, lanes 8-15 of the
// second. Lane (g, t) receives M[2t][g], M[2t+1][g] of each: the B operand for rows of V.
__device__ __forceinline__ void ldmatrix_x2_trans(uint32_t& r0, uint32_t& r1, const bf16* row_address) {
  const unsigned address = unsigned(__cvta_generic_to_shared(row_address));
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n" : "=r"(r0), "=r"(r1) : "r"(address));
}

// Copies `rows` rows of D bf16 (row stride `stride` elements in global memory) into shared memory rows
// of TileShape<D>::kStride; rows at or past `valid` are zero (so 0 * garbage never makes a NaN).
template <int D>
__device__ __forceinline__ void load_tile(bf16* dst, const bf16* src, int64_t stride, int rows, int valid) {
  constexpr int kChunks = D / 8;  // 16-byte chunks per row
  for (int c = threadIdx.x; c < rows * kChunks; c += kThreads) {
    const int r = c / kChunks, col = (c % kChunks) * 8;
    uint4 value = make_uint4(0, 0, 0, 0);
    if (r < valid) value = *reinterpret_cast<const uint4*>(src + int64_t(r) * stride + col);
    *reinterpret_cast<uint4*>(dst + r * TileShape<D>::kStride + col) = value;
  }
}

template <int D>
__global__ void __launch_bounds__(kThreads) attention_mma_kernel(AttentionParams p, const AttentionTile* tiles) {
  constexpr int M = kAttentionTileRows, N = TileShape<D>::kKeys, S = TileShape<D>::kStride;
  extern __shared__ __align__(16) unsigned char shared_raw[];
  bf16* q_s = reinterpret_cast<bf16*>(shared_raw);  // [M, S]
  bf16* k_s = q_s + M * S;                           // [N, S]
  bf16* v_s = k_s + N * S;                           // [N, S]

  const AttentionTile tile = tiles[blockIdx.x];
  const int head = blockIdx.y;
  const int kv_head = head / (p.num_heads / p.num_kv_heads);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int g = lane >> 2, t = lane & 3;
  const int64_t q_stride = int64_t(p.num_heads) * D, kv_stride = int64_t(p.num_kv_heads) * D;
  const bf16* k_base = p.k + int64_t(tile.seq_begin) * kv_stride + int64_t(kv_head) * D;
  const bf16* v_base = p.v + int64_t(tile.seq_begin) * kv_stride + int64_t(kv_head) * D;

  load_tile<D>(q_s, p.q + (int64_t(tile.seq_begin) + tile.q_begin) * q_stride + int64_t(head) * D, q_stride, M,
               tile.seq_len - tile.q_begin);

  const int qpos0 = tile.q_begin + warp * 16 + g, qpos1 = qpos0 + 8;  // this lane's two query rows
  float m0 = -INFINITY, m1 = -INFINITY;  // running row maxima
  float l0 = 0.0f, l1 = 0.0f;            // running row sums, over this lane's columns only
  float o[D / 8][4];                     // O: n-tile j holds dims 8j + 2t, 8j + 2t + 1 of rows g and g + 8
#pragma unroll
  for (int j = 0; j < D / 8; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.0f;

  const int q_last = min(tile.q_begin + M, tile.seq_len) - 1;
  int key_begin = p.window > 0 ? max(0, tile.q_begin - p.window + 1) : 0;
  key_begin -= key_begin % N;
  const bf16* q_warp = q_s + (warp * 16 + g) * S + 2 * t;

  for (int kb = key_begin; kb <= q_last; kb += N) {
    __syncthreads();  // the previous tile is consumed (and, the first time, nothing is pending)
    load_tile<D>(k_s, k_base + int64_t(kb) * kv_stride, kv_stride, N, tile.seq_len - kb);
    load_tile<D>(v_s, v_base + int64_t(kb) * kv_stride, kv_stride, N, tile.seq_len - kb);
    __syncthreads();

    // s: [16 rows, N keys] of this warp, as N/8 C fragments.
    float s[N / 8][4];
#pragma unroll
    for (int j = 0; j < N / 8; ++j) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < D; kk += 16) {
      uint32_t a[4];
      a[0] = load_pair(q_warp + kk);
      a[1] = load_pair(q_warp + 8 * S + kk);
      a[2] = load_pair(q_warp + kk + 8);
      a[3] = load_pair(q_warp + 8 * S + kk + 8);
#pragma unroll
      for (int j = 0; j < N / 8; ++j) {
        const bf16* key_row = k_s + (j * 8 + g) * S + kk + 2 * t;  // B[k][n] = K[key n][dim k]
        const uint32_t b[2] = {load_pair(key_row), load_pair(key_row + 8)};
        mma_16816(s[j], a, b);
      }
    }

    // Scale, softcap and mask; the new row maxima over this tile.
    float tile_max0 = -INFINITY, tile_max1 = -INFINITY;
#pragma unroll
    for (int j = 0; j < N / 8; ++j) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int key = kb + j * 8 + 2 * t + (e & 1);
        const int qpos = e < 2 ? qpos0 : qpos1;
        float x = s[j][e] * p.scale;
        if (p.softcap > 0.0f) x = p.softcap * tanhf(x / p.softcap);
        const bool visible = key <= qpos && key < tile.seq_len && (p.window <= 0 || qpos - key < p.window);
        x = visible ? x : -INFINITY;
        s[j][e] = x;
        if (e < 2) tile_max0 = fmaxf(tile_max0, x);
        else tile_max1 = fmaxf(tile_max1, x);
      }
    }
    // The four lanes of a row (same g) hold its columns.
    tile_max0 = fmaxf(tile_max0, __shfl_xor_sync(0xffffffffu, tile_max0, 1));
    tile_max0 = fmaxf(tile_max0, __shfl_xor_sync(0xffffffffu, tile_max0, 2));
    tile_max1 = fmaxf(tile_max1, __shfl_xor_sync(0xffffffffu, tile_max1, 1));
    tile_max1 = fmaxf(tile_max1, __shfl_xor_sync(0xffffffffu, tile_max1, 2));
    const float new_m0 = fmaxf(m0, tile_max0), new_m1 = fmaxf(m1, tile_max1);
    // A row with no visible key yet keeps max -inf: subtract 0 instead so that exp gives 0, not NaN.
    const float base0 = new_m0 == -INFINITY ? 0.0f : new_m0, base1 = new_m1 == -INFINITY ? 0.0f : new_m1;
    const float alpha0 = __expf(m0 - base0), alpha1 = __expf(m1 - base1);
    m0 = new_m0;
    m1 = new_m1;
    float sum0 = 0.0f, sum1 = 0.0f;
#pragma unroll
    for (int j = 0; j < N / 8; ++j) {
      s[j][0] = __expf(s[j][0] - base0);
      s[j][1] = __expf(s[j][1] - base0);
      s[j][2] = __expf(s[j][2] - base1);
      s[j][3] = __expf(s[j][3] - base1);
      sum0 += s[j][0] + s[j][1];
      sum1 += s[j][2] + s[j][3];
    }
    l0 = l0 * alpha0 + sum0;
    l1 = l1 * alpha1 + sum1;
#pragma unroll
    for (int j = 0; j < D / 8; ++j) {
      o[j][0] *= alpha0;
      o[j][1] *= alpha0;
      o[j][2] *= alpha1;
      o[j][3] *= alpha1;
    }

    // O += P V, 16 keys at a time: the C fragments of key n-tiles 2c and 2c+1 are the A fragment of P.
#pragma unroll
    for (int c = 0; c < N / 16; ++c) {
      const uint32_t a[4] = {pack_bf16(s[2 * c][0], s[2 * c][1]), pack_bf16(s[2 * c][2], s[2 * c][3]),
                             pack_bf16(s[2 * c + 1][0], s[2 * c + 1][1]), pack_bf16(s[2 * c + 1][2], s[2 * c + 1][3])};
      const bf16* v_rows = v_s + (c * 16 + (lane & 15)) * S;
#pragma unroll
      for (int j = 0; j < D / 8; ++j) {
        uint32_t b[2];
        ldmatrix_x2_trans(b[0], b[1], v_rows + j * 8);
        mma_16816(o[j], a, b);
      }
    }
  }

  l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
  l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
  l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
  l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
  const float inv0 = l0 > 0.0f ? 1.0f / l0 : 0.0f, inv1 = l1 > 0.0f ? 1.0f / l1 : 0.0f;
  bf16* out0 = p.out + (int64_t(tile.seq_begin) + qpos0) * q_stride + int64_t(head) * D + 2 * t;
  bf16* out1 = out0 + 8 * q_stride;
#pragma unroll
  for (int j = 0; j < D / 8; ++j) {
    if (qpos0 < tile.seq_len) *reinterpret_cast<uint32_t*>(out0 + j * 8) = pack_bf16(o[j][0] * inv0, o[j][1] * inv0);
    if (qpos1 < tile.seq_len) *reinterpret_cast<uint32_t*>(out1 + j * 8) = pack_bf16(o[j][2] * inv1, o[j][3] * inv1);
  }
}

template <int D>
cudaError_t launch_mma(const AttentionParams& params, const AttentionTile* tiles, int num_tiles, cudaStream_t stream) {
  constexpr size_t shared = TileShape<D>::kSharedBytes;
  // Above 48 KB a kernel must opt in to the larger dynamic shared memory.
  const cudaError_t attribute =
      cudaFuncSetAttribute(attention_mma_kernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(shared));
  if (attribute != cudaSuccess) return attribute;
  const dim3 grid(unsigned(num_tiles), unsigned(params.num_heads));
  attention_mma_kernel<D><<<grid, kThreads, shared, stream>>>(params, tiles);
  return cudaGetLastError();
}

constexpr int kMaxDimsPerLane = 8;  // head_dim <= 256

__global__ void attention_simple_kernel(AttentionParams p, const int32_t* positions, int64_t n) {
  const int64_t item = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (item >= n * p.num_heads) return;
  const int64_t row = item / p.num_heads;
  const int head = int(item % p.num_heads);
  const int kv_head = head / (p.num_heads / p.num_kv_heads);
  const int D = p.head_dim;
  const int64_t q_stride = int64_t(p.num_heads) * D, kv_stride = int64_t(p.num_kv_heads) * D;
  const int pos = positions[row];
  const int64_t seq_begin = row - pos;
  const int first = p.window > 0 ? max(0, pos - p.window + 1) : 0;

  float q[kMaxDimsPerLane], acc[kMaxDimsPerLane];
#pragma unroll
  for (int i = 0; i < kMaxDimsPerLane; ++i) {
    const int d = lane + 32 * i;
    q[i] = d < D ? __bfloat162float(p.q[row * q_stride + int64_t(head) * D + d]) : 0.0f;
    acc[i] = 0.0f;
  }
  float m = -INFINITY, l = 0.0f;
  for (int j = first; j <= pos; ++j) {
    const bf16* k = p.k + (seq_begin + j) * kv_stride + int64_t(kv_head) * D;
    const bf16* v = p.v + (seq_begin + j) * kv_stride + int64_t(kv_head) * D;
    float dot = 0.0f;
#pragma unroll
    for (int i = 0; i < kMaxDimsPerLane; ++i) {
      const int d = lane + 32 * i;
      if (d < D) dot += q[i] * __bfloat162float(k[d]);
    }
    for (int offset = 16; offset > 0; offset >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, offset);
    float x = dot * p.scale;
    if (p.softcap > 0.0f) x = p.softcap * tanhf(x / p.softcap);
    const float new_m = fmaxf(m, x);
    const float alpha = expf(m - new_m), weight = expf(x - new_m);
    l = l * alpha + weight;
#pragma unroll
    for (int i = 0; i < kMaxDimsPerLane; ++i) {
      const int d = lane + 32 * i;
      acc[i] = acc[i] * alpha + (d < D ? weight * __bfloat162float(v[d]) : 0.0f);
    }
    m = new_m;
  }
#pragma unroll
  for (int i = 0; i < kMaxDimsPerLane; ++i) {
    const int d = lane + 32 * i;
    if (d < D) p.out[row * q_stride + int64_t(head) * D + d] = __float2bfloat16(acc[i] / l);
  }
}

}  // namespace

bool attention_mma_supported(int head_dim) {
  return head_dim == 16 || head_dim == 32 || head_dim == 64 || head_dim == 128 || head_dim == 256;
}

cudaError_t attention_mma(const AttentionParams& params, const AttentionTile* tiles, int num_tiles, cudaStream_t stream) {
  if (num_tiles == 0) return cudaSuccess;
  switch (params.head_dim) {
    case 16: return launch_mma<16>(params, tiles, num_tiles, stream);
    case 32: return launch_mma<32>(params, tiles, num_tiles, stream);
    case 64: return launch_mma<64>(params, tiles, num_tiles, stream);
    case 128: return launch_mma<128>(params, tiles, num_tiles, stream);
    case 256: return launch_mma<256>(params, tiles, num_tiles, stream);
    default: return cudaErrorInvalidValue;
  }
}

cudaError_t attention_simple(const AttentionParams& params, const int32_t* positions, int64_t n, cudaStream_t stream) {
  if (params.head_dim > 32 * kMaxDimsPerLane) return cudaErrorInvalidValue;
  const int64_t warps = n * params.num_heads;
  if (warps <= 0) return cudaGetLastError();
  if ((warps + 7) / 8 > int64_t(INT32_MAX)) return cudaErrorInvalidValue;  // past the grid's limit
  attention_simple_kernel<<<unsigned((warps + 7) / 8), 256, 0, stream>>>(params, positions, n);
  return cudaGetLastError();
}

}  // namespace arbiter::cuda
