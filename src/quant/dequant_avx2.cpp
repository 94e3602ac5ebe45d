// AVX2 dequantizers for every block type and for F16 / BF16. Each lane performs exactly the scalar
// definition's operations in the same order, so results are bitwise identical to quant::*_scalar (the
// tests check this). They feed prefill's weight panels, the f32 row path and requantization.
#include "quant/exact_arithmetic.h"

#ifdef __AVX2__

#include <immintrin.h>

#include <cstring>

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

// dst[0..8) = scale * float(q) + offset, q the low 8 unsigned bytes of q8. The formats that subtract
// (d * q - m) pass -m: IEEE defines a - b as a + (-b), so the result is the same bits.
inline void store_scaled_u8_plus(float* dst, __m128i q8, __m256 scale, __m256 offset) {
  const __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(q8));
  _mm256_storeu_ps(dst, _mm256_add_ps(_mm256_mul_ps(scale, q), offset));
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

// 32 signed bytes -> 32 floats: the first 16 scale0 * q, the last 16 scale1 * q (formats with groups of
// 16 elements).
inline void store_scaled_i8x16x2(float* dst, __m256i q, __m256 scale0, __m256 scale1) {
  const __m128i lo = _mm256_castsi256_si128(q);
  const __m128i hi = _mm256_extracti128_si256(q, 1);
  store_scaled_i8(dst + 0, lo, scale0);
  store_scaled_i8(dst + 8, _mm_srli_si128(lo, 8), scale0);
  store_scaled_i8(dst + 16, hi, scale1);
  store_scaled_i8(dst + 24, _mm_srli_si128(hi, 8), scale1);
}

// 32 unsigned bytes -> 32 floats: the first 16 scale0 * q + offset0, the last 16 scale1 * q + offset1.
inline void store_scaled_u8x16x2_plus(float* dst, __m256i q, __m256 scale0, __m256 offset0, __m256 scale1,
                                      __m256 offset1) {
  const __m128i lo = _mm256_castsi256_si128(q);
  const __m128i hi = _mm256_extracti128_si256(q, 1);
  store_scaled_u8_plus(dst + 0, lo, scale0, offset0);
  store_scaled_u8_plus(dst + 8, _mm_srli_si128(lo, 8), scale0, offset0);
  store_scaled_u8_plus(dst + 16, hi, scale1, offset1);
  store_scaled_u8_plus(dst + 24, _mm_srli_si128(hi, 8), scale1, offset1);
}

// 32 unsigned bytes -> 32 floats scale * q + offset.
inline void store_scaled_u8x32_plus(float* dst, __m256i q, __m256 scale, __m256 offset) {
  store_scaled_u8x16x2_plus(dst, q, scale, offset, scale, offset);
}

// 32 packed nibbles (16 bytes) -> low nibbles in bytes 0..15, high nibbles in bytes 16..31.
inline __m256i unpack_nibbles_16(const uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0x0f);
  const __m128i lo = _mm_and_si128(packed, mask);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
  return _mm256_set_m128i(hi, lo);
}

// (byte >> shift) & mask in each of 32 bytes: one bit field of the packed planes (mask < 2^(8 - shift)
// keeps the neighbouring byte's bits that the 16-bit shift moves in out of it).
inline __m256i bit_field(__m256i bytes, int shift, __m256i mask) {
  return _mm256_and_si256(_mm256_srl_epi16(bytes, _mm_cvtsi32_si128(shift)), mask);
}

// Byte j = 0xff where bit j of bits is set, else 0: Q5_0 / Q5_1's fifth bits, one per element.
inline __m256i bits_to_bytes(uint32_t bits) {
  // Byte j takes byte j / 8 of bits (each 128-bit lane holds all four), then tests bit j % 8.
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(int(bits)),
      _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// 32 elements of Q5_0 / Q5_1: the nibbles of qs with bit 4 from qh (element j: bit j).
inline __m256i q5_values(const uint8_t* qs, const uint8_t* qh) {
  uint32_t high;
  std::memcpy(&high, qh, 4);  // a little-endian u32, as the scalar definition reads it
  return _mm256_or_si256(unpack_nibbles_16(qs), _mm256_and_si256(bits_to_bytes(high), _mm256_set1_epi8(0x10)));
}

// Nibbles 0..15 -> kIq4Values as signed bytes, one table lookup per 16 (the table sits in both lanes).
inline __m256i iq4_values(__m256i nibbles) {
  const __m128i table = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4Values));
  return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(table), nibbles);
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

void dequantize_q4_1_avx2(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_1*>(src);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const __m256 d = _mm256_set1_ps(half_to_float(blocks[b].d));
    const __m256 m = _mm256_set1_ps(half_to_float(blocks[b].m));
    store_scaled_u8x32_plus(dst, unpack_nibbles_16(blocks[b].qs), d, m);
  }
}

void dequantize_q5_0_avx2(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_0*>(src);
  const __m256i sixteen = _mm256_set1_epi8(16);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const __m256 d = _mm256_set1_ps(half_to_float(blocks[b].d));
    store_scaled_i8x32(dst, _mm256_sub_epi8(q5_values(blocks[b].qs, blocks[b].qh), sixteen), d);
  }
}

void dequantize_q5_1_avx2(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_1*>(src);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const __m256 d = _mm256_set1_ps(half_to_float(blocks[b].d));
    const __m256 m = _mm256_set1_ps(half_to_float(blocks[b].m));
    store_scaled_u8x32_plus(dst, q5_values(blocks[b].qs, blocks[b].qh), d, m);
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

void dequantize_q2_k_avx2(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ2_K*>(src);
  const __m256i mask2 = _mm256_set1_epi8(0x03);
  for (int64_t b = 0; b < n / kQK_K; ++b, dst += kQK_K) {
    const BlockQ2_K& block = blocks[b];
    const float d = half_to_float(block.d);
    const float dmin = half_to_float(block.dmin);
    for (int h = 0; h < 2; ++h) {
      const __m256i qs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qs + 32 * h));
      for (int s = 0; s < 4; ++s) {
        // Elements 128 h + 32 s + l: bits 2s.. of qs[32 h + l]; groups of 16 (8 h + 2 s, then + 1).
        const __m256i q = bit_field(qs, 2 * s, mask2);
        const int group = 8 * h + 2 * s;
        const uint8_t packed0 = block.scales[group], packed1 = block.scales[group + 1];
        store_scaled_u8x16x2_plus(dst + 128 * h + 32 * s, q, _mm256_set1_ps(d * float(packed0 & 0x0f)),
                                  _mm256_set1_ps(-(dmin * float(packed0 >> 4))),
                                  _mm256_set1_ps(d * float(packed1 & 0x0f)),
                                  _mm256_set1_ps(-(dmin * float(packed1 >> 4))));
      }
    }
  }
}

void dequantize_q3_k_avx2(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ3_K*>(src);
  const __m256i mask2 = _mm256_set1_epi8(0x03);
  const __m256i mask1 = _mm256_set1_epi8(0x01);
  const __m256i four = _mm256_set1_epi8(4);
  for (int64_t b = 0; b < n / kQK_K; ++b, dst += kQK_K) {
    const BlockQ3_K& block = blocks[b];
    const float d = half_to_float(block.d);
    const __m256i hmask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.hmask));
    for (int h = 0; h < 2; ++h) {
      const __m256i qs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qs + 32 * h));
      for (int s = 0; s < 4; ++s) {
        // Plane 4 h + s, element l: low2 = bits 2s.. of qs[32 h + l], high = bit `plane` of hmask[l];
        // q = low2 + 4 high - 4 = low2 - (high ? 0 : 4).
        const int plane = 4 * h + s;
        const __m256i low = bit_field(qs, 2 * s, mask2);
        const __m256i high = bit_field(hmask, plane, mask1);
        const __m256i q = _mm256_sub_epi8(_mm256_or_si256(low, _mm256_slli_epi16(high, 2)), four);
        store_scaled_i8x16x2(dst + 32 * plane, q, _mm256_set1_ps(d * float(q3_k_scale(block.scales, 2 * plane))),
                             _mm256_set1_ps(d * float(q3_k_scale(block.scales, 2 * plane + 1))));
      }
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
        const __m256 minus_ml = _mm256_set1_ps(-(dmin * float(min)));
        store_scaled_u8x32_plus(dst + 32 * group, nibbles[half], dl, minus_ml);
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
        const __m256 minus_ml = _mm256_set1_ps(-(dmin * float(min)));
        store_scaled_u8x32_plus(dst + 32 * group, q, dl, minus_ml);
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
        const __m256i high = bit_field(qh, 2 * s, mask2);
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

void dequantize_iq4_nl_avx2(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ4_NL*>(src);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const __m256 d = _mm256_set1_ps(half_to_float(blocks[b].d));
    store_scaled_i8x32(dst, iq4_values(unpack_nibbles_16(blocks[b].qs)), d);
  }
}

void dequantize_iq4_xs_avx2(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ4_XS*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b, dst += kQK_K) {
    const BlockIQ4_XS& block = blocks[b];
    const float d = half_to_float(block.d);
    for (int group = 0; group < 8; ++group) {
      const __m256 dl = _mm256_set1_ps(d * float(iq4_xs_scale(block, group)));
      store_scaled_i8x32(dst + 32 * group, iq4_values(unpack_nibbles_16(block.qs + 16 * group)), dl);
    }
  }
}

}  // namespace arbiter::quant

#endif  // __AVX2__
