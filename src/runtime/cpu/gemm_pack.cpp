#include "runtime/cpu/gemm_pack.h"

#include <algorithm>
#include <cstring>

#include "core/half.h"
#include "runtime/cpu/gemm_kernel.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace arbiter {
namespace {

void f16_to_f32_span(const uint16_t* src, float* dst, int64_t count) {
  int64_t k = 0;
#if defined(__F16C__)
  for (; k + 8 <= count; k += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + k));
    _mm256_storeu_ps(dst + k, _mm256_cvtph_ps(h));
  }
#endif
  for (; k < count; ++k) dst[k] = f16_to_f32(src[k]);
}

void bf16_to_f32_span(const uint16_t* src, float* dst, int64_t count) {
  int64_t k = 0;
#if defined(__AVX2__)
  for (; k + 8 <= count; k += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + k));
    const __m256i widened = _mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16);
    _mm256_storeu_ps(dst + k, _mm256_castsi256_ps(widened));
  }
#endif
  for (; k < count; ++k) dst[k] = bf16_to_f32(src[k]);
}

#if defined(__AVX2__)
// Elements [k, k + 8) of eight rows, written as eight k-rows of a micro-panel:
// dst[j * stride + r] = rows[r][k + j] (stride: the panel's width, NR for weights, MR for tokens).
inline void transpose_8x8(const float* const* rows, int64_t k, float* dst, int64_t stride = kGemmNR) {
  const __m256 r0 = _mm256_loadu_ps(rows[0] + k), r1 = _mm256_loadu_ps(rows[1] + k);
  const __m256 r2 = _mm256_loadu_ps(rows[2] + k), r3 = _mm256_loadu_ps(rows[3] + k);
  const __m256 r4 = _mm256_loadu_ps(rows[4] + k), r5 = _mm256_loadu_ps(rows[5] + k);
  const __m256 r6 = _mm256_loadu_ps(rows[6] + k), r7 = _mm256_loadu_ps(rows[7] + k);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
  _mm256_storeu_ps(dst + 0 * stride, _mm256_permute2f128_ps(s0, s4, 0x20));
  _mm256_storeu_ps(dst + 1 * stride, _mm256_permute2f128_ps(s1, s5, 0x20));
  _mm256_storeu_ps(dst + 2 * stride, _mm256_permute2f128_ps(s2, s6, 0x20));
  _mm256_storeu_ps(dst + 3 * stride, _mm256_permute2f128_ps(s3, s7, 0x20));
  _mm256_storeu_ps(dst + 4 * stride, _mm256_permute2f128_ps(s0, s4, 0x31));
  _mm256_storeu_ps(dst + 5 * stride, _mm256_permute2f128_ps(s1, s5, 0x31));
  _mm256_storeu_ps(dst + 6 * stride, _mm256_permute2f128_ps(s2, s6, 0x31));
  _mm256_storeu_ps(dst + 7 * stride, _mm256_permute2f128_ps(s3, s7, 0x31));
}
#endif

// rows: NR pointers to kc floats each; dst: [kc, NR].
void transpose_rows_to_panel(const float* const* rows, int64_t kc, float* dst) {
  int64_t k = 0;
#if defined(__AVX2__)
  static_assert(kGemmNR % 8 == 0, "panels are transposed in 8 x 8 blocks");
  for (; k + 8 <= kc; k += 8) {
    for (int r = 0; r < kGemmNR; r += 8) transpose_8x8(rows + r, k, dst + k * kGemmNR + r);
  }
#endif
  for (; k < kc; ++k) {
    for (int r = 0; r < kGemmNR; ++r) dst[k * kGemmNR + r] = rows[r][k];
  }
}

}  // namespace

void decode_row_span(const WeightRows& w, const uint8_t* row, int64_t k0, int64_t count, float* dst) {
  switch (w.dtype) {
    case DType::F32:
      std::memcpy(dst, row + k0 * 4, size_t(count) * 4);
      return;
    case DType::F16:
      f16_to_f32_span(reinterpret_cast<const uint16_t*>(row) + k0, dst, count);
      return;
    case DType::BF16:
      bf16_to_f32_span(reinterpret_cast<const uint16_t*>(row) + k0, dst, count);
      return;
    default:
      dequantize_row(w.dtype, row + size_t(k0 / w.block_elems) * w.block_bytes, dst, count);
      return;
  }
}

void pack_weight_block(const WeightRows& w, int64_t o0, int64_t nc, int64_t k0, int64_t kc, float* dst,
                       float* scratch) {
  const float* rows[kGemmNR];
  for (int64_t p = 0; p < nc; p += kGemmNR) {
    const int64_t live = std::min<int64_t>(kGemmNR, nc - p);
    for (int64_t r = 0; r < kGemmNR; ++r) {
      float* decoded = scratch + r * kc;
      if (r >= live) {  // past the last row: a zero row, so the edge tile's extra outputs are zero
        std::memset(decoded, 0, size_t(kc) * 4);
        rows[r] = decoded;
      } else if (w.dtype == DType::F32) {
        rows[r] = reinterpret_cast<const float*>(w.row(o0 + p + r)) + k0;
      } else {
        decode_row_span(w, w.row(o0 + p + r), k0, kc, decoded);
        rows[r] = decoded;
      }
    }
    transpose_rows_to_panel(rows, kc, dst + p * kc);
  }
}

void pack_token_block(const float* x, int64_t ldx, int64_t mc, int64_t kc, float* dst) {
  for (int64_t i = 0; i < mc; i += kGemmMR) {
    const int64_t live = std::min<int64_t>(kGemmMR, mc - i);
    float* panel = dst + i * kc;
#if defined(__AVX2__)
    if constexpr (kGemmMR == 8) {
      if (live == kGemmMR) {  // whole panels eight elements at a time, the tail below
        const float* rows[8];
        for (int r = 0; r < 8; ++r) rows[r] = x + (i + r) * ldx;
        int64_t k = 0;
        for (; k + 8 <= kc; k += 8) transpose_8x8(rows, k, panel + k * kGemmMR, kGemmMR);
        for (; k < kc; ++k)
          for (int r = 0; r < 8; ++r) panel[k * kGemmMR + r] = rows[r][k];
        continue;
      }
    }
#endif
    for (int64_t r = 0; r < kGemmMR; ++r) {
      if (r < live) {
        const float* src = x + (i + r) * ldx;
        for (int64_t k = 0; k < kc; ++k) panel[k * kGemmMR + r] = src[k];
      } else {
        for (int64_t k = 0; k < kc; ++k) panel[k * kGemmMR + r] = 0.0f;
      }
    }
  }
}

}  // namespace arbiter
