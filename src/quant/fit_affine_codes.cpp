// The affine code search the K-quant quantizers with offsets (Q2_K, Q4_K, Q5_K) share; see
// quantize_impl.h. Sums are accumulated in the reference's order so that results agree with it to the bit.
#include "quant/exact_arithmetic.h"

#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/quantize_impl.h"

namespace arbiter::quant {

AffineFit fit_affine_codes(int n, int max_code, const float* x, const float* weights, uint8_t* codes, float rmin,
                           float rdelta, int steps, bool absolute_error) {
  // The error of one element, as the caller's format measures it.
  auto cost = [absolute_error](float diff) { return absolute_error ? std::fabs(diff) : diff * diff; };
  float min = x[0], max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += weights[i];
    sum_x += weights[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    std::memset(codes, 0, size_t(n));
    return {0.0f, -min};
  }
  float iscale = max_code / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    codes[i] = uint8_t(clamp_int(nearest_int(iscale * (x[i] - min)), 0, max_code));
    const float diff = scale * codes[i] + min - x[i];
    best_error += weights[i] * cost(diff);
  }
  uint8_t trial[kQK_K];
  for (int step = 0; step <= steps; ++step) {
    iscale = (rmin + rdelta * step + max_code) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest_int(iscale * (x[i] - min)), 0, max_code);
      trial[i] = uint8_t(l);
      const float w = weights[i];
      sum_l += w * l;
      sum_l2 += w * l * l;
      sum_xl += w * l * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0)) continue;
    float trial_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float trial_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (trial_min > 0) {
      trial_min = 0;
      trial_scale = sum_xl / sum_l2;
    }
    float error = 0;
    for (int i = 0; i < n; ++i) {
      const float diff = trial_scale * trial[i] + trial_min - x[i];
      error += weights[i] * cost(diff);
    }
    if (error < best_error) {
      std::memcpy(codes, trial, size_t(n));
      best_error = error;
      scale = trial_scale;
      min = trial_min;
    }
  }
  return {scale, -min};
}

}  // namespace arbiter::quant
