// IEEE half and bfloat16 conversions (scalar; kernels use F16C / AVX-512 BF16 where present).
#pragma once

#include <cstdint>
#include <cstring>

namespace arbiter {

inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even, as torch and the GGUF converter do; NaN stays NaN.
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffff) > 0x7f800000) return uint16_t((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);
  return uint16_t(bits >> 16);
}

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000 | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even, with overflow to infinity and gradual underflow.
inline uint16_t f32_to_f16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  const uint32_t sign = (bits >> 16) & 0x8000;
  const uint32_t abs_bits = bits & 0x7fffffff;
  if (abs_bits > 0x7f800000) return uint16_t(sign | 0x7e00);   // NaN
  if (abs_bits >= 0x477ff000) return uint16_t(sign | 0x7c00);  // rounds to >= 65520: infinity
  if (abs_bits < 0x38800000) {                                  // below the smallest normal half
    if (abs_bits < 0x33000000) return uint16_t(sign);          // rounds to zero
    const uint32_t exp = abs_bits >> 23;
    const uint32_t mant = (abs_bits & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - exp;  // 14 - (exp - 127) + 13 - 1 ... so that the result is mant >> (shift)
    uint32_t half_mant = mant >> (shift);
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half_mant & 1))) ++half_mant;
    return uint16_t(sign | half_mant);
  }
  uint32_t rounded = abs_bits + 0xfff + ((abs_bits >> 13) & 1);
  return uint16_t(sign | ((rounded - (112u << 23)) >> 13));
}

}  // namespace arbiter
