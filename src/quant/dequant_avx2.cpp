// AVX2 dequantizers for the types the CPU matmul streams most (F16, BF16, Q4_0, Q8_0, Q4_K, Q5_K,
// Q6_K). Each lane performs exactly the scalar definition's operations in the same order, so results
// are bitwise identical to quant::*_scalar (the tests check this).
#include "quant/exact_arithmetic.h"

#ifdef __AVX2__

#include <immintrin.h>

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/dequantize_impl.h"

namespace arbiter::quant {
namespace {

float half_to_float(uint16_t h) {
#ifdef __F16C__
  return _cvtsh_ss(h);
#else
  return f16_to_f32(h);
#endif
}

// dst[0..8) = scale * float(q), q the low 8 signed bytes of q8.
inline void store_scaled_i8(float* dst, __m128i q8, __m256 scale) {
  const __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8));
  _mm256_storeu_ps(dst, _mm256_mul_ps(scale, q));
}

// dst[0..8) = scale * float(q) - offset, q the low 8 unsigned bytes of q8.
inline void store_scaled_u8_minus(float* dst, __m128i q8, __m256 scale, __m256 offset) {
  const __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(q8));
  _mm256_storeu_ps(dst, _mm256_sub_ps(_mm256_mul_ps(scale, q), offset));
}

// 32 signed bytes -> 32 floats scale * q.
inline void store_scaled_i8x32(float* dst, __m256i q, __m256 scale) {
  const __m128i lo = _mm256_castsi256_si128(q);
  const __m128i hi = _mm256_extracti128_si256(q, 1);
  store_scaled_i8(dst + 0, lo, scale);
  store_scaled_i8(dst + 8, _mm_srli_si128(lo, 8), scale);
  store_scaled_i8(dst + 16, hi, scale);
  store_scaled_i8(dst + 24, _mm_srli_si128(hi, 8), scale);
}

// 32 unsigned bytes -> 32 floats scale * q - offset.
inline void store_scaled_u8x32_minus(float* dst, __m256i q, __m256 scale, __m256 offset) {
  const __m128i lo = _mm256_castsi256_si128(q);
  const __m128i hi = _mm256_extracti128_si256(q, 1);
  store_scaled_u8_minus(dst + 0, lo, scale, offset);
  store_scaled_u8_minus(dst + 8, _mm_srli_si128(lo, 8), scale, offset);
  store_scaled_u8_minus(dst + 16, hi, scale, offset);
  store_scaled_u8_minus(dst + 24, _mm_srli_si128(hi, 8), scale, offset);
}

// 32 packed nibbles (16 bytes) -> low nibbles in bytes 0..15, high nibbles in bytes 16..31.
inline __m256i unpack_nibbles_16(const uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0x0f);
  const __m128i lo = _mm_and_si128(packed, mask);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
  return _mm256_set_m128i(hi, lo);
}

}  // namespace

#ifdef __F16C__
void dequantize_f16_avx2(const void* src, float* dst, int64_t n) {
  const auto* bytes = static_cast<const uint8_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + 2 * i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  dequantize_f16_scalar(bytes + 2 * i, dst + i, n - i);
}
#endif

void dequantize_bf16_avx2(const void* src, float* dst, int64_t n) {
  const auto* bytes = static_cast<const uint8_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + 2 * i));
    const __m256i bits = _mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16);
    _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(bits));
  }
  dequantize_bf16_scalar(bytes + 2 * i, dst + i, n - i);
}

void dequantize_q4_0_avx2(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_0*>(src);
  const __m256i eight = _mm256_set1_epi8(8);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const __m256 d = _mm256_set1_ps(half_to_float(blocks[b].d));
    const __m256i q = _mm256_sub_epi8(unpack_nibbles_16(blocks[b].qs), eight);
    store_scaled_i8x32(dst, q, d);
  }
}

void dequantize_q8_0_avx2(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_0*>(src);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const __m256 d = _mm256_set1_ps(half_to_float(blocks[b].d));
    // 8-byte loads widen straight to int32 lanes: no shuffles between them.
    for (int j = 0; j < kQK; j += 8) {
      const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blocks[b].qs + j));
      store_scaled_i8(dst + j, q, d);
    }
  }
}

void dequantize_q4_k_avx2(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_K*>(src);
  const __m256i mask = _mm256_set1_epi8(0x0f);
  for (int64_t b = 0; b < n / kQK_K; ++b, dst += kQK_K) {
    const BlockQ4_K& block = blocks[b];
    const float d = half_to_float(block.d);
    const float dmin = half_to_float(block.dmin);
    for (int chunk = 0; chunk < 4; ++chunk) {
      const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qs + 32 * chunk));
      const __m256i nibbles[2] = {_mm256_and_si256(packed, mask),
                                  _mm256_and_si256(_mm256_srli_epi16(packed, 4), mask)};
      for (int half = 0; half < 2; ++half) {
        const int group = 2 * chunk + half;
        uint8_t scale, min;
        k_scale_min(block.scales, group, &scale, &min);
        const __m256 dl = _mm256_set1_ps(d * float(scale));
        const __m256 ml = _mm256_set1_ps(dmin * float(min));
        store_scaled_u8x32_minus(dst + 32 * group, nibbles[half], dl, ml);
      }
    }
  }
}

void dequantize_q5_k_avx2(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_K*>(src);
  const __m256i mask = _mm256_set1_epi8(0x0f);
  const __m256i bit4 = _mm256_set1_epi8(0x10);
  for (int64_t b = 0; b < n / kQK_K; ++b, dst += kQK_K) {
    const BlockQ5_K& block = blocks[b];
    const float d = half_to_float(block.d);
    const float dmin = half_to_float(block.dmin);
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qh));
    for (int chunk = 0; chunk < 4; ++chunk) {
      const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qs + 32 * chunk));
      const __m256i nibbles[2] = {_mm256_and_si256(packed, mask),
                                  _mm256_and_si256(_mm256_srli_epi16(packed, 4), mask)};
      for (int half = 0; half < 2; ++half) {
        const int group = 2 * chunk + half;
        // Bit `group` of qh[l] becomes bit 4 of element l.
        const __m256i group_bit = _mm256_set1_epi8(char(1 << group));
        const __m256i high_set = _mm256_cmpeq_epi8(_mm256_and_si256(qh, group_bit), group_bit);
        const __m256i q = _mm256_or_si256(nibbles[half], _mm256_and_si256(high_set, bit4));
        uint8_t scale, min;
        k_scale_min(block.scales, group, &scale, &min);
        const __m256 dl = _mm256_set1_ps(d * float(scale));
        const __m256 ml = _mm256_set1_ps(dmin * float(min));
        store_scaled_u8x32_minus(dst + 32 * group, q, dl, ml);
      }
    }
  }
}

void dequantize_q6_k_avx2(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ6_K*>(src);
  const __m256i mask4 = _mm256_set1_epi8(0x0f);
  const __m256i mask2 = _mm256_set1_epi8(0x03);
  const __m256i thirty_two = _mm256_set1_epi8(32);
  for (int64_t b = 0; b < n / kQK_K; ++b, dst += kQK_K) {
    const BlockQ6_K& block = blocks[b];
    const float d = half_to_float(block.d);
    for (int h = 0; h < 2; ++h) {
      const __m256i ql[2] = {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.ql + 64 * h)),
                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.ql + 64 * h + 32))};
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qh + 32 * h));
      for (int s = 0; s < 4; ++s) {
        // Elements 128 h + 32 s + l: nibble s / 2 of ql[64 h + 32 (s % 2) + l], bits 2s.. of qh[32 h + l].
        const __m256i low = _mm256_and_si256(s < 2 ? ql[s % 2] : _mm256_srli_epi16(ql[s % 2], 4), mask4);
        const __m256i high = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * s)), mask2);
        const __m256i q = _mm256_sub_epi8(_mm256_or_si256(low, _mm256_slli_epi16(high, 4)), thirty_two);
        const int group = 8 * h + 2 * s;
        float* out = dst + 128 * h + 32 * s;
        const __m128i q_lo = _mm256_castsi256_si128(q);
        const __m128i q_hi = _mm256_extracti128_si256(q, 1);
        const __m256 dl0 = _mm256_set1_ps(d * float(block.scales[group]));
        const __m256 dl1 = _mm256_set1_ps(d * float(block.scales[group + 1]));
        store_scaled_i8(out + 0, q_lo, dl0);
        store_scaled_i8(out + 8, _mm_srli_si128(q_lo, 8), dl0);
        store_scaled_i8(out + 16, q_hi, dl1);
        store_scaled_i8(out + 24, _mm_srli_si128(q_hi, 8), dl1);
      }
    }
  }
}

}  // namespace arbiter::quant

#endif  // __AVX2__
