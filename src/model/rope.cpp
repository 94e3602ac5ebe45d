#include "model/rope.h"

#include <cmath>

namespace arbiter {

std::vector<float> rope_inverse_frequencies(const ModelConfig& c, const std::vector<float>& freq_factors) {
  const int64_t half = c.rope_dim / 2;
  std::vector<float> inv_freq(static_cast<size_t>(half));
  const double pi = 3.14159265358979323846;
  for (int64_t i = 0; i < half; ++i) {
    double f = 1.0 / std::pow(c.rope_theta, double(2 * i) / double(c.rope_dim));
    // A GGUF's rope_freqs divides each frequency (llama3 scaling precomputed); linear scaling applies on
    // top of it, as llama.cpp's freq_scale does.
    if (!freq_factors.empty()) f /= double(freq_factors[size_t(i)]);
    if (c.rope_scaling == RopeScaling::kLinear) {
      f /= c.rope_factor;
    } else if (c.rope_scaling == RopeScaling::kLlama3 && freq_factors.empty()) {
      // Long wavelengths are slowed by `factor`, short ones kept, and the band between interpolated.
      const double old_context = double(c.rope_original_max_position);
      const double low_freq_wavelen = old_context / c.rope_low_freq_factor;
      const double high_freq_wavelen = old_context / c.rope_high_freq_factor;
      const double wavelen = 2 * pi / f;
      if (wavelen > low_freq_wavelen) {
        f /= c.rope_factor;
      } else if (wavelen >= high_freq_wavelen) {
        const double smooth = (old_context / wavelen - c.rope_low_freq_factor) /
                              (c.rope_high_freq_factor - c.rope_low_freq_factor);
        f = (1 - smooth) * f / c.rope_factor + smooth * f;
      }
    }
    inv_freq[size_t(i)] = float(f);
  }
  return inv_freq;
}

}  // namespace arbiter
