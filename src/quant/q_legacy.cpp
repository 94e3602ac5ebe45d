// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0: 32-element blocks with one f16 scale (and an f16 offset for *_1).
#include "quant/exact_arithmetic.h"

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/dequantize_impl.h"

namespace arbiter::quant {

void dequantize_q4_0_scalar(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_0*>(src);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const float d = f16_to_f32(blocks[b].d);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = d * float((blocks[b].qs[j] & 0x0f) - 8);
      dst[j + kQK / 2] = d * float((blocks[b].qs[j] >> 4) - 8);
    }
  }
}

void dequantize_q4_1_scalar(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_1*>(src);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const float d = f16_to_f32(blocks[b].d);
    const float m = f16_to_f32(blocks[b].m);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = d * float(blocks[b].qs[j] & 0x0f) + m;
      dst[j + kQK / 2] = d * float(blocks[b].qs[j] >> 4) + m;
    }
  }
}

// Bit j of Q5's qh, read as the little-endian u32 it is.
static uint32_t q5_high_bits(const uint8_t qh[4]) {
  return uint32_t(qh[0]) | uint32_t(qh[1]) << 8 | uint32_t(qh[2]) << 16 | uint32_t(qh[3]) << 24;
}

void dequantize_q5_0_scalar(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_0*>(src);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const float d = f16_to_f32(blocks[b].d);
    const uint32_t qh = q5_high_bits(blocks[b].qh);
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = (blocks[b].qs[j] & 0x0f) | ((qh >> j) & 1) << 4;
      const int hi = (blocks[b].qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4;
      dst[j] = d * float(lo - 16);
      dst[j + kQK / 2] = d * float(hi - 16);
    }
  }
}

void dequantize_q5_1_scalar(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_1*>(src);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const float d = f16_to_f32(blocks[b].d);
    const float m = f16_to_f32(blocks[b].m);
    const uint32_t qh = q5_high_bits(blocks[b].qh);
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = (blocks[b].qs[j] & 0x0f) | ((qh >> j) & 1) << 4;
      const int hi = (blocks[b].qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4;
      dst[j] = d * float(lo) + m;
      dst[j + kQK / 2] = d * float(hi) + m;
    }
  }
}

void dequantize_q8_0_scalar(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_0*>(src);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const float d = f16_to_f32(blocks[b].d);
    for (int j = 0; j < kQK; ++j) dst[j] = float(blocks[b].qs[j]) * d;
  }
}

}  // namespace arbiter::quant
