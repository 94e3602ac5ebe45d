// Q2_K and Q3_K quantizers (no importance matrix), as llama.cpp's quantize tool makes them: per group of
// 16, Q2_K fits 2-bit codes with an offset (the affine search, absolute error weighted by |x|) and Q3_K
// fits signed 3-bit codes by coordinate descent on the weighted least-squares scale; the group scales
// (and Q2_K's offsets) are then quantized against one f16 scale per 256 and every code is chosen again
// for the scale stored. Float operations follow the reference's order (ggml's quantize_row_q2_K_ref /
// q3_K_ref), so that files agree with its bytes; no reference bytes are at hand to check that, so the
// tests hold the results to what the formats promise instead.
#include "quant/exact_arithmetic.h"

#include <cmath>
#include <cstring>

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/quantize_impl.h"

namespace arbiter::quant {
namespace {

constexpr int kLowBitGroup = 16;

// Codes -4..3 (stored + 4) for x[0..16) with weights x^2: the plain fit of the signed maximum to -4,
// then up to five rounds of moving single codes while that raises the weighted fit sum_lx^2 / sum_l2.
// Returns the least-squares scale.
float fit_q3_codes(const float* x, uint8_t* codes) {
  constexpr int kMaxCode = 4;
  const float max = signed_absmax(x, kLowBitGroup);
  if (std::fabs(max) < kGroupMaxEps) {
    std::memset(codes, 0, kLowBitGroup);
    return 0.0f;
  }
  const float iscale = -kMaxCode / max;
  int l_of[kLowBitGroup];
  float sum_lx = 0, sum_l2 = 0;
  for (int i = 0; i < kLowBitGroup; ++i) {
    const int l = clamp_int(nearest_int(iscale * x[i]), -kMaxCode, kMaxCode - 1);
    l_of[i] = l;
    const float w = x[i] * x[i];
    sum_lx += w * x[i] * l;
    sum_l2 += w * l * l;
  }
  for (int round = 0; round < 5; ++round) {
    int changed = 0;
    for (int i = 0; i < kLowBitGroup; ++i) {
      const float w = x[i] * x[i];
      float lx_without = sum_lx - w * x[i] * l_of[i];
      if (!(lx_without > 0)) continue;
      float l2_without = sum_l2 - w * l_of[i] * l_of[i];
      const int moved = clamp_int(nearest_int(x[i] * l2_without / lx_without), -kMaxCode, kMaxCode - 1);
      if (moved == l_of[i]) continue;
      lx_without += w * x[i] * moved;
      l2_without += w * moved * moved;
      if (l2_without > 0 && lx_without * lx_without * sum_l2 > sum_lx * sum_lx * l2_without) {
        l_of[i] = moved;
        sum_lx = lx_without;
        sum_l2 = l2_without;
        ++changed;
      }
    }
    if (!changed) break;
  }
  for (int i = 0; i < kLowBitGroup; ++i) codes[i] = uint8_t(l_of[i] + kMaxCode);
  return sum_l2 > 0.0f ? sum_lx / sum_l2 : 0.0f;
}

// Four 2-bit planes: element 128 h + 32 p + l is bits 2p.. of qs[32 h + l].
void pack_2bit_planes(const uint8_t codes[kQK_K], uint8_t qs[kQK_K / 4]) {
  for (int h = 0; h < 2; ++h) {
    const uint8_t* c = codes + 128 * h;
    for (int l = 0; l < 32; ++l) {
      qs[32 * h + l] = uint8_t((c[l] & 3) | (c[l + 32] & 3) << 2 | (c[l + 64] & 3) << 4 | (c[l + 96] & 3) << 6);
    }
  }
}

}  // namespace

void quantize_q2_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ2_K*>(dst);
  constexpr float kScaleLevels = 15.f;  // scales and offsets are 4-bit multiples of d and dmin
  for (int64_t b = 0; b < n / kQK_K; ++b, src += kQK_K) {
    BlockQ2_K& block = blocks[b];
    uint8_t codes[kQK_K];
    float scales[kQK_K / kLowBitGroup], offsets[kQK_K / kLowBitGroup], weights[kLowBitGroup];
    float max_scale = 0, max_offset = 0;  // scales are positive: the offsets take the negative part
    for (int g = 0; g < kQK_K / kLowBitGroup; ++g) {
      const float* x = src + kLowBitGroup * g;
      for (int l = 0; l < kLowBitGroup; ++l) weights[l] = std::fabs(x[l]);
      const AffineFit fit =
          fit_affine_codes(kLowBitGroup, 3, x, weights, codes + kLowBitGroup * g, -0.5f, 0.1f, 15, /*absolute_error=*/true);
      scales[g] = fit.scale;
      offsets[g] = fit.min_offset;
      if (fit.scale > max_scale) max_scale = fit.scale;
      if (fit.min_offset > max_offset) max_offset = fit.min_offset;
    }
    // The reference stores nearest_int's value unclamped (it is 0..15 for the non-negative scales the
    // search returns); the cast keeps its byte.
    if (max_scale > 0) {
      const float iscale = kScaleLevels / max_scale;
      for (int g = 0; g < 16; ++g) block.scales[g] = uint8_t(nearest_int(iscale * scales[g]));
      block.d = f32_to_f16(max_scale / kScaleLevels);
    } else {
      std::memset(block.scales, 0, sizeof(block.scales));
      block.d = f32_to_f16(0.0f);
    }
    if (max_offset > 0) {
      const float iscale = kScaleLevels / max_offset;
      for (int g = 0; g < 16; ++g) block.scales[g] |= uint8_t(nearest_int(iscale * offsets[g]) << 4);
      block.dmin = f32_to_f16(max_offset / kScaleLevels);
    } else {
      block.dmin = f32_to_f16(0.0f);
    }
    for (int g = 0; g < 16; ++g) {
      const float d = f16_to_f32(block.d) * (block.scales[g] & 0xf);
      if (!d) continue;  // the group dequantizes to -dm whatever its codes; keep the search's codes
      const float dm = f16_to_f32(block.dmin) * (block.scales[g] >> 4);
      for (int l = 0; l < kLowBitGroup; ++l) {
        codes[kLowBitGroup * g + l] = uint8_t(clamp_int(nearest_int((src[kLowBitGroup * g + l] + dm) / d), 0, 3));
      }
    }
    pack_2bit_planes(codes, block.qs);
  }
}

void quantize_q3_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ3_K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b, src += kQK_K) {
    BlockQ3_K& block = blocks[b];
    uint8_t codes[kQK_K];
    float scales[kQK_K / kLowBitGroup];
    for (int g = 0; g < kQK_K / kLowBitGroup; ++g) scales[g] = fit_q3_codes(src + kLowBitGroup * g, codes + kLowBitGroup * g);
    const float max_scale = signed_absmax(scales, kQK_K / kLowBitGroup);  // the largest magnitude, with its sign
    // Group scales as d * (s - 32), s 6 bits: low 4 in nibble g / 8 of byte g % 8, high 2 in bits
    // 2 (g / 4).. of byte 8 + g % 4 (see q3_k_scale). The largest maps to -32.
    std::memset(block.scales, 0, sizeof(block.scales));
    if (max_scale != 0.0f) {
      const float iscale = -32.f / max_scale;
      for (int g = 0; g < 16; ++g) {
        const int stored = clamp_int(nearest_int(iscale * scales[g]), -32, 31) + 32;
        block.scales[g % 8] |= uint8_t((stored & 0x0f) << (4 * (g / 8)));
        block.scales[8 + g % 4] |= uint8_t((stored >> 4) << (2 * (g / 4)));
      }
      block.d = f32_to_f16(1 / iscale);
    } else {
      block.d = f32_to_f16(0.0f);
    }
    for (int g = 0; g < 16; ++g) {
      const float d = f16_to_f32(block.d) * float(q3_k_scale(block.scales, g));
      if (!d) continue;
      for (int l = 0; l < kLowBitGroup; ++l) {
        codes[kLowBitGroup * g + l] = uint8_t(clamp_int(nearest_int(src[kLowBitGroup * g + l] / d), -4, 3) + 4);
      }
    }
    // Code c = low2 + 4 high: element j's high bit is bit j / 32 of hmask[j % 32].
    std::memset(block.hmask, 0, sizeof(block.hmask));
    for (int j = 0; j < kQK_K; ++j) {
      if (codes[j] > 3) {
        block.hmask[j % 32] |= uint8_t(1 << (j / 32));
        codes[j] -= 4;
      }
    }
    pack_2bit_planes(codes, block.qs);
  }
}

}  // namespace arbiter::quant
