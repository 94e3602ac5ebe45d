#include "runtime/cpu/gemm_bf16.h"

#include <algorithm>

#include "core/half.h"
#include "runtime/cpu/bf16_kernel.h"
#include "runtime/cpu/block_rows_bf16.h"

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
  // The tile of y was last touched a whole block of tokens ago and has usually left L1 and often L2;
  // fetching it now hides that miss behind the products (the epilogue's loads took 6% of the kernel).
#pragma GCC unroll 8
  for (int r = 0; r < kBf16MR; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16), _MM_HINT_T0);
  }
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
  for (int t = 0; t < T; ++t) sums[t] = bf16_kernel::lane_sum(acc[t]);
}

ARB_BF16_TARGET void dot_rows_bf16(const WeightRows& w, const uint32_t* tokens, int64_t ld, int64_t n, float* y,
                                   int64_t ldy, bool accumulate, int64_t o_begin, int64_t o_end, float* scratch) {
  if (block_rows_bf16_supported(w.dtype, w.in))
    return dot_block_rows_bf16(w, tokens, ld, n, y, ldy, accumulate, o_begin, o_end);
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
    bf16_kernel::write_token_groups(tokens, ld, n, y, ldy, accumulate, o, [&](auto group, const uint32_t* x, float* sums) {
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
