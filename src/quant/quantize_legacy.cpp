// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 quantizers, with the reference's rounding rules per format (they differ).
#include "quant/exact_arithmetic.h"

#include <cmath>
#include <cstring>

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/quantize_impl.h"

namespace arbiter::quant {
namespace {

void min_max(const float* x, int n, float* min, float* max) {
  *min = x[0];
  *max = x[0];
  for (int j = 1; j < n; ++j) {
    if (x[j] < *min) *min = x[j];
    if (x[j] > *max) *max = x[j];
  }
}

// Symmetric 4/5-bit codes: trunc(x * id + offset) with the product and sum formed in double, as the
// canonical converter does (and as the C reference does when it fuses them into an FMA).
int symmetric_code(float x, float id, double offset, int max_code) {
  const float v = static_cast<float>(static_cast<double>(x) * static_cast<double>(id) + offset);
  if (!(v >= 0.0f)) return 0;
  return v >= float(max_code) ? max_code : static_cast<int>(v);
}

// Asymmetric codes: trunc((x - min) * id + 0.5) in float, each operation rounded.
int offset_code(float x, float min, float id, int max_code) {
  const float v = (x - min) * id + 0.5f;
  if (!(v >= 0.0f)) return 0;
  return v >= float(max_code) ? max_code : static_cast<int>(v);
}

float inverse_or_zero(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }

}  // namespace

void quantize_q4_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ4_0*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    const float d = signed_absmax(src, kQK) / -8.0f;
    const float id = inverse_or_zero(d);
    blocks[b].d = f32_to_f16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = symmetric_code(src[j], id, 8.5, 15);
      const int hi = symmetric_code(src[j + kQK / 2], id, 8.5, 15);
      blocks[b].qs[j] = uint8_t(lo | hi << 4);
    }
  }
}

void quantize_q4_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ4_1*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    float min, max;
    min_max(src, kQK, &min, &max);
    const float d = (max - min) / 15.0f;
    const float id = inverse_or_zero(d);
    blocks[b].d = f32_to_f16(d);
    blocks[b].m = f32_to_f16(min);
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = offset_code(src[j], min, id, 15);
      const int hi = offset_code(src[j + kQK / 2], min, id, 15);
      blocks[b].qs[j] = uint8_t(lo | hi << 4);
    }
  }
}

// Q5 codes: low nibbles packed as Q4's, bit 4 of code j into bit j of qh.
template <typename Block>
void pack_q5(Block& block, const int codes[kQK]) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    block.qs[j] = uint8_t((codes[j] & 0x0f) | (codes[j + kQK / 2] & 0x0f) << 4);
  }
  for (int j = 0; j < kQK; ++j) qh |= uint32_t(codes[j] >> 4) << j;
  for (int k = 0; k < 4; ++k) block.qh[k] = uint8_t(qh >> (8 * k));
}

void quantize_q5_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ5_0*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    const float d = signed_absmax(src, kQK) / -16.0f;
    const float id = inverse_or_zero(d);
    blocks[b].d = f32_to_f16(d);
    int codes[kQK];
    for (int j = 0; j < kQK; ++j) codes[j] = symmetric_code(src[j], id, 16.5, 31);
    pack_q5(blocks[b], codes);
  }
}

void quantize_q5_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ5_1*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    float min, max;
    min_max(src, kQK, &min, &max);
    const float d = (max - min) / 31.0f;
    const float id = inverse_or_zero(d);
    blocks[b].d = f32_to_f16(d);
    blocks[b].m = f32_to_f16(min);
    int codes[kQK];
    for (int j = 0; j < kQK; ++j) codes[j] = offset_code(src[j], min, id, 31);
    pack_q5(blocks[b], codes);
  }
}

// d = amax / 127 and q = roundf(x * (1 / d)), half away from zero: the C reference and gguf-py agree.
void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(src[j]));
    const float d = amax / 127.0f;
    const float id = inverse_or_zero(d);
    blocks[b].d = f32_to_f16(d);
    for (int j = 0; j < kQK; ++j) blocks[b].qs[j] = int8_t(clamp_int(round_away(src[j] * id), -128, 127));
  }
}

}  // namespace arbiter::quant
