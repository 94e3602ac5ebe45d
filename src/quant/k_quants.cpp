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
    for (int h = 0; h < 2; ++h) {
      for (int s = 0; s < 4; ++s) {
        for (int half = 0; half < 2; ++half) {
          const int group = 8 * h + 2 * s + half;  // 16 elements from 128 h + 32 s + 16 half
          const float dl = d * float(block.scales[group] & 0x0f);
          const float ml = dmin * float(block.scales[group] >> 4);
          const uint8_t* qs = block.qs + 32 * h + 16 * half;
          float* out = dst + 16 * group;
          for (int l = 0; l < 16; ++l) out[l] = dl * float((qs[l] >> (2 * s)) & 3) - ml;
        }
      }
    }
  }
}

void dequantize_q3_k_scalar(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ3_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b, dst += kQK_K) {
    const BlockQ3_K& block = blocks[b];
    const float d = f16_to_f32(block.d);
    for (int h = 0; h < 2; ++h) {
      for (int s = 0; s < 4; ++s) {
        const int plane = 4 * h + s;  // elements 32 plane .. 32 plane + 31; high bit = bit `plane` of hmask
        for (int half = 0; half < 2; ++half) {
          const int group = 2 * plane + half;
          const float dl = d * float(q3_k_scale(block.scales, group));
          for (int l = 16 * half; l < 16 * half + 16; ++l) {
            const int low = (block.qs[32 * h + l] >> (2 * s)) & 3;
            const int high_set = (block.hmask[l] >> plane) & 1;
            dst[32 * plane + l] = dl * float(low - (high_set ? 0 : 4));
          }
        }
      }
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
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = block.ql + 64 * h;
      const uint8_t* qh = block.qh + 32 * h;
      for (int s = 0; s < 4; ++s) {  // elements 128 h + 32 s + l
        for (int half = 0; half < 2; ++half) {
          const int group = 8 * h + 2 * s + half;
          const float dl = d * float(block.scales[group]);
          for (int l = 16 * half; l < 16 * half + 16; ++l) {
            const int low = (ql[32 * (s % 2) + l] >> (4 * (s / 2))) & 0x0f;
            const int high = (qh[l] >> (2 * s)) & 3;
            dst[128 * h + 32 * s + l] = dl * float((low | high << 4) - 32);
          }
        }
      }
    }
  }
}

}  // namespace arbiter::quant
