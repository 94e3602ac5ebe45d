// Q2_K, Q3_K, Q4_K, Q5_K, Q6_K: 256-element super-blocks with an f16 scale, sub-block scales and
// (for Q2_K, Q4_K, Q5_K) an f16 scale for sub-block minimums. Loops follow the element order of
// blocks.h; the products are formed in the order the format defines (group scale first).
#include "quant/exact_arithmetic.h"

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/dequantize_impl.h"

namespace arbiter::quant {

void dequantize_q2_k_scalar(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ2_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b, dst += kQK_K) {
    const BlockQ2_K& block = blocks[b];
    const float d = f16_to_f32(block.d);
    const float dmin = f16_to_f32(block.dmin);
    for (int e = 0; e < kQK_K; ++e) {
      const int h = e / 128, s = (e % 128) / 32, l = e % 32;
      const uint8_t scale = block.scales[e / 16];
      const float dl = d * float(scale & 0x0f);
      const float ml = dmin * float(scale >> 4);
      const int q = (block.qs[32 * h + l] >> (2 * s)) & 3;
      dst[e] = dl * float(q) - ml;
    }
  }
}

// Signed 6-bit scale i (0..15) of a Q3_K block.
static int q3_k_scale(const uint8_t scales[12], int i) {
  const int low = (scales[i % 8] >> (4 * (i / 8))) & 0x0f;
  const int high = (scales[8 + i % 4] >> (2 * (i / 4))) & 3;
  return (low | high << 4) - 32;
}

void dequantize_q3_k_scalar(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ3_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b, dst += kQK_K) {
    const BlockQ3_K& block = blocks[b];
    const float d = f16_to_f32(block.d);
    for (int e = 0; e < kQK_K; ++e) {
      const int h = e / 128, s = (e % 128) / 32, l = e % 32;
      const float dl = d * float(q3_k_scale(block.scales, e / 16));
      const int low = (block.qs[32 * h + l] >> (2 * s)) & 3;
      const int high_set = (block.hmask[l] >> (e / 32)) & 1;
      dst[e] = dl * float(low - (high_set ? 0 : 4));
    }
  }
}

void dequantize_q4_k_scalar(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b, dst += kQK_K) {
    const BlockQ4_K& block = blocks[b];
    const float d = f16_to_f32(block.d);
    const float dmin = f16_to_f32(block.dmin);
    for (int group = 0; group < 8; ++group) {
      uint8_t scale, min;
      k_scale_min(block.scales, group, &scale, &min);
      const float dl = d * float(scale);
      const float ml = dmin * float(min);
      const uint8_t* qs = block.qs + 32 * (group / 2);
      const int shift = 4 * (group % 2);
      for (int l = 0; l < 32; ++l) dst[32 * group + l] = dl * float((qs[l] >> shift) & 0x0f) - ml;
    }
  }
}

void dequantize_q5_k_scalar(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b, dst += kQK_K) {
    const BlockQ5_K& block = blocks[b];
    const float d = f16_to_f32(block.d);
    const float dmin = f16_to_f32(block.dmin);
    for (int group = 0; group < 8; ++group) {
      uint8_t scale, min;
      k_scale_min(block.scales, group, &scale, &min);
      const float dl = d * float(scale);
      const float ml = dmin * float(min);
      const uint8_t* qs = block.qs + 32 * (group / 2);
      const int shift = 4 * (group % 2);
      for (int l = 0; l < 32; ++l) {
        const int q = ((qs[l] >> shift) & 0x0f) | ((block.qh[l] >> group) & 1) << 4;
        dst[32 * group + l] = dl * float(q) - ml;
      }
    }
  }
}

void dequantize_q6_k_scalar(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ6_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b, dst += kQK_K) {
    const BlockQ6_K& block = blocks[b];
    const float d = f16_to_f32(block.d);
    for (int e = 0; e < kQK_K; ++e) {
      const int h = e / 128, r = e % 128;
      const int low = (block.ql[64 * h + r % 64] >> (4 * (r / 64))) & 0x0f;
      const int high = (block.qh[32 * h + r % 32] >> (2 * (r / 32))) & 3;
      const float dl = d * float(block.scales[e / 16]);
      dst[e] = dl * float((low | high << 4) - 32);
    }
  }
}

}  // namespace arbiter::quant
