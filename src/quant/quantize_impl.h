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

// A group whose largest magnitude is below this quantizes to all-zero codes (the reference's threshold).
constexpr float kGroupMaxEps = 1e-15f;

inline int clamp_int(int value, int lo, int hi) { return value < lo ? lo : (value > hi ? hi : value); }

// The element of largest magnitude, sign kept (0 for none); the first one wins ties, as in the
// reference. Symmetric formats map it to their outermost code.
inline float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

struct AffineFit {
  float scale;  // x ~ scale * code - min_offset
  float min_offset;
};

// fit_affine_codes.cpp: codes 0..max_code for x[0..n) under x ~ scale * code + min (min <= 0),
// minimising the weighted error (squared, or absolute where the format's reference measures that):
// tries the plain range fit, then step counts max_code + rmin + rdelta * k for k in 0..steps, each
// refined by weighted least squares for scale and min. n <= 256.
AffineFit fit_affine_codes(int n, int max_code, const float* x, const float* weights, uint8_t* codes, float rmin,
                           float rdelta, int steps, bool absolute_error);

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

// quantize_k_low.cpp
void quantize_q2_k(const float* src, void* dst, int64_t n);
void quantize_q3_k(const float* src, void* dst, int64_t n);

// quantize_iq4.cpp. iq4_nearest_level: the index of the kIq4Values level nearest to x (the upper one
// on a tie), 0 / 15 beyond the ends and 15 for NaN, as the reference's binary search decides.
int iq4_nearest_level(float x);
void quantize_iq4_nl(const float* src, void* dst, int64_t n);
void quantize_iq4_xs(const float* src, void* dst, int64_t n);

}  // namespace arbiter::quant
