#include "runtime/cpu/gemm_bf16.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "core/half.h"
#include "quant/blocks.h"

#if defined(__x86_64__)
#include <immintrin.h>
// Every function that touches AVX-512 registers carries the target itself, so that a build for an older
// baseline (ARBITER_NATIVE=OFF) still has the kernel and picks it at run time.
#define ARB_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,fma,f16c")))
#define ARB_HAVE_BF16_KERNEL 1
#endif

namespace arbiter {
namespace {

#if defined(ARB_HAVE_BF16_KERNEL)
// src[0..2 * pairs) as bf16 pairs: dst[p] = bf16(src[2p]) | bf16(src[2p + 1]) << 16. src holds an even
// count (callers pad an odd row with a zero).
ARB_BF16_TARGET void f32_to_bf16_pairs(const float* src, int64_t pairs, uint32_t* dst) {
  int64_t p = 0;
  for (; p + 16 <= pairs; p += 16) {
    const __m512 lo = _mm512_loadu_ps(src + 2 * p), hi = _mm512_loadu_ps(src + 2 * p + 16);
    _mm512_storeu_si512(dst + p, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)));
  }
  // The tail with the scalar rounding (nearest even, as VCVTNE2PS2BF16 rounds).
  for (; p < pairs; ++p) dst[p] = uint32_t(f32_to_bf16(src[2 * p])) | uint32_t(f32_to_bf16(src[2 * p + 1])) << 16;
}
#endif

}  // namespace

bool bf16_gemm_supported() {
#if defined(ARB_HAVE_BF16_KERNEL)
  static const bool supported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
  }();
  return supported;
#else
  return false;
#endif
}

#if defined(ARB_HAVE_BF16_KERNEL)

// out[p] = (rows[0][p], ..., rows[R - 1][p]) for p in [0, count), count <= 16, R = 16 or 8: a 16 x 16
// transpose of 32-bit elements in four shuffle stages (pairs within 128-bit lanes, quads, then lanes
// across registers). rows[r] == nullptr is a zero row; with R = 8 the missing rows are zero and only
// the first 8 elements of each out[p] are stored. out[p] is written at out + p * out_stride.
template <int R>
ARB_BF16_TARGET void transpose_16x16(const uint32_t* const* rows, int64_t count, uint32_t* out, int64_t out_stride) {
  static_assert(R == 16 || R == 8, "16 rows, or 8 stored as half vectors");
  // The zero-masking forms with every lane on are the plain instructions; g++ 12 warns falsely about the
  // unmasked intrinsics' undefined pass-through operand.
  constexpr __mmask16 kAll = 0xffff;
  constexpr __mmask8 kAll8 = 0xff;
  const __mmask16 live = __mmask16((1u << count) - 1u);
  __m512i a[16], b[16], c[16];
#pragma GCC unroll 16
  for (int r = 0; r < 16; ++r)
    a[r] = r < R && rows[r] ? _mm512_maskz_loadu_epi32(live, rows[r]) : _mm512_setzero_si512();
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    b[2 * i] = _mm512_maskz_unpacklo_epi32(kAll, a[2 * i], a[2 * i + 1]);
    b[2 * i + 1] = _mm512_maskz_unpackhi_epi32(kAll, a[2 * i], a[2 * i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {  // c[4i + e], lane L: rows 4i..4i+3 at column 4L + e
    c[4 * i] = _mm512_maskz_unpacklo_epi64(kAll8, b[4 * i], b[4 * i + 2]);
    c[4 * i + 1] = _mm512_maskz_unpackhi_epi64(kAll8, b[4 * i], b[4 * i + 2]);
    c[4 * i + 2] = _mm512_maskz_unpacklo_epi64(kAll8, b[4 * i + 1], b[4 * i + 3]);
    c[4 * i + 3] = _mm512_maskz_unpackhi_epi64(kAll8, b[4 * i + 1], b[4 * i + 3]);
  }
  __m512i t[16];
#pragma GCC unroll 4
  for (int e = 0; e < 4; ++e) {  // column 4L + e gathers lane L of c[e], c[4 + e], c[8 + e], c[12 + e]
    // d0, d1: lanes 0-1 of (c[e], c[4 + e]) and of (c[8 + e], c[12 + e]); d2, d3: their lanes 2-3.
    const __m512i d0 = _mm512_maskz_shuffle_i32x4(kAll, c[e], c[4 + e], 0x44);
    const __m512i d1 = _mm512_maskz_shuffle_i32x4(kAll, c[8 + e], c[12 + e], 0x44);
    const __m512i d2 = _mm512_maskz_shuffle_i32x4(kAll, c[e], c[4 + e], 0xee);
    const __m512i d3 = _mm512_maskz_shuffle_i32x4(kAll, c[8 + e], c[12 + e], 0xee);
    t[e] = _mm512_maskz_shuffle_i32x4(kAll, d0, d1, 0x88);
    t[4 + e] = _mm512_maskz_shuffle_i32x4(kAll, d0, d1, 0xdd);
    t[8 + e] = _mm512_maskz_shuffle_i32x4(kAll, d2, d3, 0x88);
    t[12 + e] = _mm512_maskz_shuffle_i32x4(kAll, d2, d3, 0xdd);
  }
  for (int64_t p = 0; p < count; ++p) {
    if constexpr (R == 16) {
      _mm512_storeu_si512(out + p * out_stride, t[p]);
    } else {
      _mm512_mask_storeu_epi32(out + p * out_stride, __mmask16(0x00ff), t[p]);
    }
  }
}

ARB_BF16_TARGET void pack_weight_block_bf16(const WeightRows& w, int64_t o0, int64_t nc, int64_t k0, int64_t kc,
                                            uint16_t* dst, float* scratch) {
  const int64_t pairs = (kc + 1) / 2;
  uint32_t* out = reinterpret_cast<uint32_t*>(dst);  // one uint32 = one feature's pair
  // Rows not stored as bf16 pairs are decoded to f32 (scratch[0, kc + 1)) and converted into their own
  // slot of the scratch (pairs + 1 uint32 each); the panel then takes 16 x 16 blocks of pairs transposed:
  // out[p * NR + r] = row r's pair p.
  const bool stored_pairs = w.dtype == DType::BF16 && w.in % 2 == 0;
  uint32_t* converted = reinterpret_cast<uint32_t*>(scratch + kc + 2);
  for (int64_t f0 = 0; f0 < nc; f0 += kBf16NR) {
    const int64_t live = std::min<int64_t>(kBf16NR, nc - f0);
    uint32_t* panel = out + f0 * pairs;
    const uint32_t* rows[kBf16NR];
    for (int64_t r = 0; r < kBf16NR; ++r) {
      if (r >= live) {  // past the last row: zero, so the edge tile's extra outputs are zero
        rows[r] = nullptr;
        continue;
      }
      const uint8_t* row = w.row(o0 + f0 + r);
      if (stored_pairs) {
        // Already bf16: an even row width keeps rows, k0 and kc even, so the pairs are whole and aligned.
        rows[r] = reinterpret_cast<const uint32_t*>(row + 2 * k0);
      } else {
        decode_row_span(w, row, k0, kc, scratch);
        scratch[kc] = 0.0f;  // the odd element's partner
        uint32_t* slot = converted + r * (pairs + 1);
        f32_to_bf16_pairs(scratch, pairs, slot);
        rows[r] = slot;
      }
    }
    for (int64_t p0 = 0; p0 < pairs; p0 += 16) {
      const int64_t count = std::min<int64_t>(16, pairs - p0);
      for (int half = 0; half < 2; ++half) {
        const uint32_t* block[16];
        for (int r = 0; r < 16; ++r) block[r] = rows[half * 16 + r] ? rows[half * 16 + r] + p0 : nullptr;
        transpose_16x16<16>(block, count, panel + p0 * kBf16NR + half * 16, kBf16NR);
      }
    }
  }
}

ARB_BF16_TARGET void convert_tokens_bf16(const float* x, int64_t ldx, int64_t n, int64_t in, uint32_t* dst) {
  const int64_t pairs = (in + 1) / 2, even_pairs = in / 2;
  for (int64_t t = 0; t < n; ++t) {
    const float* src = x + t * ldx;
    uint32_t* row = dst + t * pairs;
    f32_to_bf16_pairs(src, even_pairs, row);
    if (in % 2 != 0) {
      const float padded[2] = {src[in - 1], 0.0f};
      f32_to_bf16_pairs(padded, 1, row + even_pairs);
    }
  }
}

ARB_BF16_TARGET void pack_token_block_bf16(const uint32_t* xp, int64_t ldp, int64_t mc, int64_t kc, uint32_t* dst) {
  static_assert(kBf16MR == 8, "token panels are transposed as 8-row halves");
  const int64_t pairs = (kc + 1) / 2;
  for (int64_t i = 0; i < mc; i += kBf16MR) {
    const int64_t live = std::min<int64_t>(kBf16MR, mc - i);
    uint32_t* panel = dst + i * pairs;
    for (int64_t p0 = 0; p0 < pairs; p0 += 16) {
      const uint32_t* rows[16] = {};
      for (int64_t r = 0; r < live; ++r) rows[r] = xp + (i + r) * ldp + p0;
      transpose_16x16<8>(rows, std::min<int64_t>(16, pairs - p0), panel + p0 * kBf16MR, kBf16MR);
    }
  }
}

// Two zmm of weight pairs per step and one broadcast token pair per row: 16 VDPBF16PS per 2 loads + 8
// broadcasts, each adding 32 products; the same shape as the f32 kernel at twice the products per
// instruction.
ARB_BF16_TARGET void gemm_bf16_micro_kernel(int64_t pairs, const uint32_t* x_panel, const uint16_t* w_panel, float* c,
                                            int64_t ldc, bool add) {
  __m512 acc[kBf16MR][2];
#pragma GCC unroll 8
  for (int r = 0; r < kBf16MR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  const uint32_t* a = x_panel;
  const uint16_t* b = w_panel;
  for (int64_t p = 0; p < pairs; ++p) {
    const __m512bh b0 = reinterpret_cast<__m512bh>(_mm512_load_si512(b));
    const __m512bh b1 = reinterpret_cast<__m512bh>(_mm512_load_si512(b + 32));
#pragma GCC unroll 8
    for (int r = 0; r < kBf16MR; ++r) {
      const __m512bh av = reinterpret_cast<__m512bh>(_mm512_set1_epi32(int(a[r])));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
    }
    a += kBf16MR;
    b += 2 * kBf16NR;
  }
#pragma GCC unroll 8
  for (int r = 0; r < kBf16MR; ++r) {
    float* row = c + r * ldc;
    __m512 lo = acc[r][0], hi = acc[r][1];
    if (add) {
      lo = _mm512_add_ps(_mm512_loadu_ps(row), lo);
      hi = _mm512_add_ps(_mm512_loadu_ps(row + 16), hi);
    }
    _mm512_storeu_ps(row, lo);
    _mm512_storeu_ps(row + 16, hi);
  }
}

// Sum of the 16 lanes in a fixed pairwise order: lane i + lane i + 8, then + i + 4, + i + 2, + i + 1,
// each step one vector add of moved lanes (in 512-bit registers: g++ 12's 256-bit casts trip the false
// warnings mentioned at transpose_16x16).
ARB_BF16_TARGET float lane_sum(__m512 v) {
  constexpr __mmask16 kAll = 0xffff;
  const __m512 eight = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(kAll, v, v, 0xee));
  const __m512 four = _mm512_add_ps(eight, _mm512_maskz_shuffle_f32x4(kAll, eight, eight, 0x01));
  const __m512 two = _mm512_add_ps(four, _mm512_maskz_permute_ps(kAll, four, 0x0e));
  return _mm512_cvtss_f32(_mm512_add_ps(two, _mm512_maskz_permute_ps(kAll, two, 0x01)));
}

template <int T>
ARB_BF16_TARGET void dot_tokens_bf16(const uint32_t* row, const uint32_t* tokens, int64_t ld, int64_t pairs,
                                     float* sums) {
  __m512 acc[T];
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t p = 0; p < pairs; p += 16) {
    const __mmask16 live = pairs - p >= 16 ? __mmask16(0xffff) : __mmask16((1u << (pairs - p)) - 1u);
    const __m512bh r = reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi32(live, row + p));
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const __m512bh x = reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi32(live, tokens + t * ld + p));
      acc[t] = _mm512_dpbf16_ps(acc[t], r, x);
    }
  }
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) sums[t] = lane_sum(acc[t]);
}

// The sums of T tokens over a row of scaled blocks: each block's (or run's) VDPBF16PS products times its
// scale go to one of two FMA chains, so that consecutive blocks do not wait on each other; the chains
// are added at the end in the same order for any T.
template <int T>
struct ScaledSums {
  __m512 chain[2][T];

  ARB_BF16_TARGET ScaledSums() {
#pragma GCC unroll 8
    for (int i = 0; i < 2 * T; ++i) chain[i / T][i % T] = _mm512_setzero_ps();
  }
  // chain c, token t (+)= (q . x) * scale, q and x as bf16 pairs
  ARB_BF16_TARGET void add(int c, int t, __m512bh q, __m512bh x, __m512 scale) {
    chain[c][t] = _mm512_fmadd_ps(_mm512_dpbf16_ps(_mm512_setzero_ps(), q, x), scale, chain[c][t]);
  }
  ARB_BF16_TARGET float sum(int t) const { return lane_sum(_mm512_add_ps(chain[0][t], chain[1][t])); }
};

// 32 signed bytes as 16 bf16 pairs (exact), pair p holding bytes 2p and 2p + 1.
// (The all-lanes masked forms: see transpose_16x16 on g++ 12's false warnings.)
ARB_BF16_TARGET inline __m512bh byte_pairs(__m256i bytes) {
  const __m512 low = _mm512_maskz_cvtepi32_ps(0xffff, _mm512_maskz_cvtepi8_epi32(0xffff, _mm256_castsi256_si128(bytes)));
  const __m512 high =
      _mm512_maskz_cvtepi32_ps(0xffff, _mm512_maskz_cvtepi8_epi32(0xffff, _mm256_extracti128_si256(bytes, 1)));
  return _mm512_cvtne2ps_pbh(high, low);
}

// Q8_0 rows without rounding the weights: a block's 32 int8 values are exact in bf16, so VDPBF16PS sums
// q_i x_i over the block exactly per product and the block's f16 scale multiplies its 16 lane sums.
// Reading the blocks as they are instead of decoding them to f32 and rounding those to bf16 (d q_i
// needs up to 18 bits) is both exact and about twice as fast: a decoding step no longer waits on the
// decoding of its blocks.
template <int T>
ARB_BF16_TARGET void dot_tokens_q8_0(const BlockQ8_0* blocks, int64_t count, const uint32_t* tokens, int64_t ld,
                                     float* sums) {
  ScaledSums<T> acc;  // even and odd blocks on the two chains
  for (int64_t b = 0; b < count; ++b) {
    const __m512bh q = byte_pairs(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[b].qs)));
    const __m512 scale = _mm512_set1_ps(_cvtsh_ss(blocks[b].d));
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const __m512bh x = reinterpret_cast<__m512bh>(_mm512_loadu_si512(tokens + t * ld + b * 16));
      acc.add(int(b & 1), t, q, x, scale);
    }
  }
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) sums[t] = acc.sum(t);
}

// Q4_K and Q5_K rows without rounding the weights, as for Q8_0: x = (d * scale_g) * q - dmin * min_g
// over group g of 32, so a token's sum is sum_g [(d * scale_g) * sum q x - (dmin * min_g) * sum x], the
// q values (0..15, Q5_K's 0..31 with its fifth bit) exact in bf16. group_sums: [T, in / 32], each
// token's bf16 values summed per group.
template <int T, class Block>
ARB_BF16_TARGET void dot_tokens_k_min(const Block* blocks, int64_t count, const uint32_t* tokens, int64_t ld,
                                      const float* group_sums, int64_t groups_per_token, float* sums) {
  constexpr bool kFifthBit = std::is_same_v<Block, BlockQ5_K>;
  ScaledSums<T> acc;  // low- and high-nibble groups on the two chains
  float offset[T] = {};
  const __m256i low_bits = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < count; ++b) {
    const Block& block = blocks[b];
    const float d = _cvtsh_ss(block.d), dmin = _cvtsh_ss(block.dmin);
    for (int c = 0; c < 4; ++c) {  // groups 2c (low nibbles) and 2c + 1 (high nibbles)
      const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qs + 32 * c));
      __m256i nibbles[2] = {_mm256_and_si256(bytes, low_bits), _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low_bits)};
      if constexpr (kFifthBit) {  // bit 4 of group g's element l is bit g of qh[l]
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qh));
        for (int n = 0; n < 2; ++n) {
          const __m256i bit = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + n), one);
          nibbles[n] = _mm256_or_si256(nibbles[n], _mm256_slli_epi16(bit, 4));
        }
      }
      const __m512bh q[2] = {byte_pairs(nibbles[0]), byte_pairs(nibbles[1])};
#pragma GCC unroll 2
      for (int n = 0; n < 2; ++n) {
        const int g = 2 * c + n;
        uint8_t scale, min;
        k_scale_min(block.scales, g, &scale, &min);
        const __m512 group_scale = _mm512_set1_ps(d * float(scale));
        const float group_min = dmin * float(min);
        const int64_t group = b * 8 + g;  // of the row
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
          const __m512bh x = reinterpret_cast<__m512bh>(_mm512_loadu_si512(tokens + t * ld + group * 16));
          acc.add(n, t, q[n], x, group_scale);
          offset[t] = std::fma(group_min, group_sums[t * groups_per_token + group], offset[t]);
        }
      }
    }
  }
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) sums[t] = acc.sum(t) - offset[t];
}

// Q6_K rows without rounding the weights: x = (d * scale) * (q - 32) over groups of 16, q - 32 exact in
// bf16. Each run of 32 elements is one dot product whose lanes 0-7 hold the first group's sums and
// lanes 8-15 the second's, so one vector of the two scales multiplies it.
template <int T>
ARB_BF16_TARGET void dot_tokens_q6_k(const BlockQ6_K* blocks, int64_t count, const uint32_t* tokens, int64_t ld,
                                     float* sums) {
  ScaledSums<T> acc;  // even and odd runs on the two chains
  const __m256i low_bits = _mm256_set1_epi8(0x0f), two_bits = _mm256_set1_epi8(3), bias = _mm256_set1_epi8(32);
  for (int64_t b = 0; b < count; ++b) {
    const BlockQ6_K& block = blocks[b];
    const float d = _cvtsh_ss(block.d);
    for (int h = 0; h < 2; ++h) {
      const __m256i high_bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qh + 32 * h));
      for (int s = 0; s < 4; ++s) {  // elements 128 h + 32 s + l, l < 32
        const __m256i ql = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.ql + 64 * h + 32 * (s % 2)));
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(ql, 4 * (s / 2)), low_bits);
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(high_bits, 2 * s), two_bits);
        const __m256i q = _mm256_sub_epi8(_mm256_or_si256(low, _mm256_slli_epi16(high, 4)), bias);
        const __m512bh pairs = byte_pairs(q);
        const int group = 8 * h + 2 * s;
        const __m512 scale = _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(d * float(block.scales[group])),
                                                  _mm512_set1_ps(d * float(block.scales[group + 1])));
        const int64_t run = b * 8 + 4 * h + s;  // of the row, in 32-element runs
#pragma GCC unroll 4
        for (int t = 0; t < T; ++t) {
          const __m512bh x = reinterpret_cast<__m512bh>(_mm512_loadu_si512(tokens + t * ld + run * 16));
          acc.add(s & 1, t, pairs, x, scale);
        }
      }
    }
  }
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) sums[t] = acc.sum(t);
}

// group_sums[t * groups + g] = sum of token t's bf16 values in elements [32 g, 32 g + 32).
ARB_BF16_TARGET void token_group_sums(const uint32_t* tokens, int64_t ld, int64_t n, int64_t groups, float* group_sums) {
  const __m512bh ones = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3f80));  // bf16 1.0
  for (int64_t t = 0; t < n; ++t)
    for (int64_t g = 0; g < groups; ++g) {
      const __m512bh x = reinterpret_cast<__m512bh>(_mm512_loadu_si512(tokens + t * ld + g * 16));
      group_sums[t * groups + g] = lane_sum(_mm512_dpbf16_ps(_mm512_setzero_ps(), x, ones));
    }
}

// Column o of y for every token, up to four tokens per read of the weight row:
// y[t, o] (+)= sums from dot(std::integral_constant<int, T>, tokens of the group, sums).
template <class Dot>
void write_token_groups(const uint32_t* tokens, int64_t ld, int64_t n, float* y, int64_t ldy, bool accumulate,
                        int64_t o, const Dot& dot) {
  for (int64_t t0 = 0; t0 < n; t0 += 4) {
    float sums[4];
    const uint32_t* x = tokens + t0 * ld;
    const int64_t group = std::min<int64_t>(4, n - t0);
    switch (group) {
      case 1: dot(std::integral_constant<int, 1>(), x, sums); break;
      case 2: dot(std::integral_constant<int, 2>(), x, sums); break;
      case 3: dot(std::integral_constant<int, 3>(), x, sums); break;
      default: dot(std::integral_constant<int, 4>(), x, sums); break;
    }
    for (int64_t t = 0; t < group; ++t) {
      float& out = y[(t0 + t) * ldy + o];
      out = accumulate ? out + sums[t] : sums[t];
    }
  }
}

ARB_BF16_TARGET void dot_rows_bf16(const WeightRows& w, const uint32_t* tokens, int64_t ld, int64_t n, float* y,
                                   int64_t ldy, bool accumulate, int64_t o_begin, int64_t o_end, float* scratch) {
  // Rows of blocks whose integer values are exact in bf16 (see dot_tokens_q8_0 and its neighbours).
  auto block_rows = [&](auto block_type, const auto& dot) {
    using Block = typename decltype(block_type)::type;
    for (int64_t o = o_begin; o < o_end; ++o) {
      const auto* blocks = reinterpret_cast<const Block*>(w.row(o));
      write_token_groups(tokens, ld, n, y, ldy, accumulate, o,
                         [&](auto group, const uint32_t* x, float* sums) { dot(group, blocks, x, sums); });
    }
  };
  if (w.dtype == DType::Q8_0 && w.in % kQK == 0) {
    return block_rows(std::type_identity<BlockQ8_0>(), [&](auto group, const BlockQ8_0* blocks, const uint32_t* x,
                                                            float* sums) {
      dot_tokens_q8_0<decltype(group)::value>(blocks, w.in / kQK, x, ld, sums);
    });
  }
  if ((w.dtype == DType::Q4_K || w.dtype == DType::Q5_K) && w.in % kQK_K == 0) {
    const int64_t groups = w.in / 32;
    static thread_local std::vector<float> group_sums;
    group_sums.resize(size_t(n * groups));
    token_group_sums(tokens, ld, n, groups, group_sums.data());
    auto k_min_rows = [&](auto block_type) {
      using Block = typename decltype(block_type)::type;
      block_rows(block_type, [&](auto group, const Block* blocks, const uint32_t* x, float* sums) {
        const int64_t first = (x - tokens) / ld;  // the group's first token
        dot_tokens_k_min<decltype(group)::value>(blocks, w.in / kQK_K, x, ld, group_sums.data() + first * groups,
                                                 groups, sums);
      });
    };
    if (w.dtype == DType::Q4_K) return k_min_rows(std::type_identity<BlockQ4_K>());
    return k_min_rows(std::type_identity<BlockQ5_K>());
  }
  if (w.dtype == DType::Q6_K && w.in % kQK_K == 0) {
    return block_rows(std::type_identity<BlockQ6_K>(), [&](auto group, const BlockQ6_K* blocks, const uint32_t* x,
                                                            float* sums) {
      dot_tokens_q6_k<decltype(group)::value>(blocks, w.in / kQK_K, x, ld, sums);
    });
  }
  const int64_t pairs = (w.in + 1) / 2;
  const bool stored_pairs = w.dtype == DType::BF16 && w.in % 2 == 0;
  uint32_t* converted = reinterpret_cast<uint32_t*>(scratch + w.in + 2);
  for (int64_t o = o_begin; o < o_end; ++o) {
    const uint8_t* stored = w.row(o);
    const uint32_t* row = reinterpret_cast<const uint32_t*>(stored);
    if (!stored_pairs) {
      decode_row_span(w, stored, 0, w.in, scratch);
      scratch[w.in] = 0.0f;  // the odd element's partner
      f32_to_bf16_pairs(scratch, pairs, converted);
      row = converted;
    }
    write_token_groups(tokens, ld, n, y, ldy, accumulate, o, [&](auto group, const uint32_t* x, float* sums) {
      dot_tokens_bf16<decltype(group)::value>(row, x, ld, pairs, sums);
    });
  }
}

#else

// Not an x86-64 build: matmul never calls these (bf16_gemm_supported() is false).
void pack_weight_block_bf16(const WeightRows&, int64_t, int64_t, int64_t, int64_t, uint16_t*, float*) {}
void convert_tokens_bf16(const float*, int64_t, int64_t, int64_t, uint32_t*) {}
void pack_token_block_bf16(const uint32_t*, int64_t, int64_t, int64_t, uint32_t*) {}
void dot_rows_bf16(const WeightRows&, const uint32_t*, int64_t, int64_t, float*, int64_t, bool, int64_t, int64_t,
                   float*) {}
void gemm_bf16_micro_kernel(int64_t, const uint32_t*, const uint16_t*, float*, int64_t, bool) {}

#endif

}  // namespace arbiter
