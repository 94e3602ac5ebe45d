#include "runtime/cpu/ops.h"

#include <cmath>

#include "core/thread_pool.h"
#include "runtime/cpu/simd.h"
#include "runtime/cpu/vec.h"

namespace arbiter::cpu {

void rms_norm_rows(const float* x, const float* weight, float* out, int64_t rows, int64_t n, float eps) {
  global_thread_pool().parallel_for(size_t(rows), 16, [&](int, size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) {
      const float* xr = x + int64_t(r) * n;
      float* yr = out + int64_t(r) * n;
      const float inv_rms = 1.0f / std::sqrt(sum_of_squares(xr, n) / float(n) + eps);
      for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * inv_rms * weight[i];
    }
  });
}

void rms_norm_heads(float* x, const float* weight, int64_t rows, int64_t heads, int64_t head_dim, float eps) {
  rms_norm_rows(x, weight, x, rows * heads, head_dim, eps);
}

std::vector<float> rope_table(const std::vector<float>& inv_freq, int32_t max_position) {
  const size_t half = inv_freq.size();
  std::vector<float> table(size_t(max_position + 1) * half * 2);
  for (int32_t p = 0; p <= max_position; ++p) {
    for (size_t i = 0; i < half; ++i) {
      // The angle in double: positions times f32 frequencies lose nothing before the cos/sin.
      const double angle = double(p) * double(inv_freq[i]);
      table[(size_t(p) * half + i) * 2] = float(std::cos(angle));
      table[(size_t(p) * half + i) * 2 + 1] = float(std::sin(angle));
    }
  }
  return table;
}

void apply_rope(float* x, const int32_t* positions, int64_t rows, int64_t heads, int64_t head_dim,
                int64_t rope_dim, RopePairing pairing, const std::vector<float>& cos_sin) {
  const int64_t half = rope_dim / 2;
  global_thread_pool().parallel_for(size_t(rows), 16, [&](int, size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) {
      const float* cs = cos_sin.data() + size_t(positions[r]) * size_t(half) * 2;
      for (int64_t h = 0; h < heads; ++h) {
        float* v = x + int64_t(r) * heads * head_dim + h * head_dim;
        for (int64_t i = 0; i < half; ++i) {
          const float c = cs[2 * i], s = cs[2 * i + 1];
          float* a = pairing == RopePairing::kHalfSplit ? v + i : v + 2 * i;
          float* b = pairing == RopePairing::kHalfSplit ? v + i + half : v + 2 * i + 1;
          const float x1 = *a, x2 = *b;
          *a = x1 * c - x2 * s;
          *b = x2 * c + x1 * s;
        }
      }
    }
  });
}

void gated_activation(float* gate, const float* up, int64_t count, Activation activation) {
  using namespace simd;
  // gelu_pytorch_tanh: 0.5 g (1 + tanh(u)) with u = sqrt(2 / pi) (g + 0.044715 g^3), written as
  // g * sigmoid(2u) (the same function) so that both activations take the vector sigmoid.
  constexpr float kTwoSqrt2OverPi = 2.0f * 0.7978845608028654f;
  const bool silu = activation == Activation::kSilu;
  auto activate = [&](Vec g) {
    if (silu) return mul(g, sigmoid(g));
    const Vec u = mul(set1(kTwoSqrt2OverPi), fma(mul(set1(0.044715f), mul(g, g)), g, g));
    return mul(g, sigmoid(u));
  };
  global_thread_pool().parallel_for(size_t(count), 4096, [&](int, size_t begin, size_t end) {
    size_t i = begin;
    for (; i + kLanes <= end; i += kLanes) store(gate + i, mul(activate(load(gate + i)), load(up + i)));
    for (; i < end; ++i) {  // the tail one lane at a time, same arithmetic
      float lanes[kLanes] = {gate[i]};
      store(lanes, activate(load(lanes)));
      gate[i] = lanes[0] * up[i];
    }
  });
}

void softcap(float* x, int64_t count, float cap) {
  for (int64_t i = 0; i < count; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

}  // namespace arbiter::cpu
