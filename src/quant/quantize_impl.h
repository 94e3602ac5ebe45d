// Per-format quantizers behind quantize_row, and the rounding helpers they share.
#pragma once

#include <cmath>
#include <cstdint>

namespace arbiter::quant {

// Round half to even, like the reference's float trick (add 1.5 * 2^23); saturates far outside the
// range any block format uses, and maps NaN to 0, so casts below are always defined.
inline int nearest_int(float value) {
  if (!(std::fabs(value) <= 4194303.0f)) return std::isnan(value) ? 0 : (value > 0 ? 4194303 : -4194303);
  return static_cast<int>(std::nearbyint(value));
}

// Round half away from zero (C's roundf), saturating like nearest_int.
inline int round_away(float value) {
  if (!(std::fabs(value) <= 4194303.0f)) return std::isnan(value) ? 0 : (value > 0 ? 4194303 : -4194303);
  return static_cast<int>(std::round(value));
}

inline int clamp_int(int value, int lo, int hi) { return value < lo ? lo : (value > hi ? hi : value); }

// quantize_legacy.cpp
void quantize_q4_0(const float* src, void* dst, int64_t n);
void quantize_q4_1(const float* src, void* dst, int64_t n);
void quantize_q5_0(const float* src, void* dst, int64_t n);
void quantize_q5_1(const float* src, void* dst, int64_t n);
void quantize_q8_0(const float* src, void* dst, int64_t n);

// quantize_k.cpp
void quantize_q4_k(const float* src, void* dst, int64_t n);
void quantize_q5_k(const float* src, void* dst, int64_t n);
void quantize_q6_k(const float* src, void* dst, int64_t n);

// quantize_iq4.cpp
void quantize_iq4_nl(const float* src, void* dst, int64_t n);
void quantize_iq4_xs(const float* src, void* dst, int64_t n);

}  // namespace arbiter::quant
