// Q4_K, Q5_K, Q6_K quantizers: the reference's searches for sub-block scales (weighted least squares
// over a few candidate step sizes), then 6/8-bit quantization of those scales against one f16 scale.
// Sums are accumulated in the reference's order so that results agree with it to the bit.
#include "quant/exact_arithmetic.h"

#include <cmath>
#include <cstring>

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/quantize_impl.h"

namespace arbiter::quant {
namespace {

// Symmetric codes -max_code..max_code-1 (stored + max_code) for a group, weights x^2: the plain fit,
// then 18 nearby step sizes, keeping the one with the best weighted least-squares scale.
float fit_symmetric_codes(int n, int max_code, const float* x, uint8_t* codes) {
  const float max = signed_absmax(x, n);
  if (std::fabs(max) < kGroupMaxEps) {
    std::memset(codes, 0, size_t(n));
    return 0.0f;
  }
  auto code_of = [&](float iscale, float value) {
    return clamp_int(nearest_int(iscale * value), -max_code, max_code - 1);
  };
  float iscale = -max_code / max;
  float sum_lx = 0, sum_l2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = code_of(iscale, x[i]);
    codes[i] = uint8_t(l + max_code);
    const float w = x[i] * x[i];
    sum_lx += w * x[i] * l;
    sum_l2 += w * l * l;
  }
  float scale = sum_l2 ? sum_lx / sum_l2 : 0.0f;
  float best = scale * sum_lx;
  for (int step = -9; step <= 9; ++step) {
    if (step == 0) continue;
    iscale = -(max_code + 0.1f * step) / max;
    sum_lx = sum_l2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = code_of(iscale, x[i]);
      const float w = x[i] * x[i];
      sum_lx += w * x[i] * l;
      sum_l2 += w * l * l;
    }
    if (sum_l2 > 0 && sum_lx * sum_lx > best * sum_l2) {
      for (int i = 0; i < n; ++i) codes[i] = uint8_t(code_of(iscale, x[i]) + max_code);
      scale = sum_lx / sum_l2;
      best = scale * sum_lx;
    }
  }
  return scale;
}

// Shared by Q4_K and Q5_K: per-group scales and mins, packed to 6 bits against d and dmin, then every
// element's code recomputed from the stored (rounded) scales. codes: [256], values 0..max_code.
void quantize_k_affine(const float* x, int max_code, float rmin, float rdelta, int steps, uint16_t* d_out,
                       uint16_t* dmin_out, uint8_t packed_scales[12], uint8_t codes[kQK_K]) {
  float scales[8], mins[8], weights[32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    const float* group = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += group[l] * group[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(group[l]);
    const AffineFit fit =
        fit_affine_codes(32, max_code, group, weights, codes + 32 * j, rmin, rdelta, steps, /*absolute_error=*/false);
    scales[j] = fit.scale;
    mins[j] = fit.min_offset;
    if (fit.scale > max_scale) max_scale = fit.scale;
    if (fit.min_offset > max_min) max_min = fit.min_offset;
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  std::memset(packed_scales, 0, 12);
  for (int j = 0; j < 8; ++j) {
    const uint8_t ls = uint8_t(clamp_int(nearest_int(inv_scale * scales[j]), 0, 63));
    const uint8_t lm = uint8_t(clamp_int(nearest_int(inv_min * mins[j]), 0, 63));
    if (j < 4) {
      packed_scales[j] |= ls;
      packed_scales[j + 4] |= lm;
    } else {
      packed_scales[j + 4] = uint8_t((ls & 0x0f) | (lm & 0x0f) << 4);
      packed_scales[j - 4] |= uint8_t((ls >> 4) << 6);
      packed_scales[j] |= uint8_t((lm >> 4) << 6);
    }
  }
  *d_out = f32_to_f16(max_scale / 63.f);
  *dmin_out = f32_to_f16(max_min / 63.f);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    k_scale_min(packed_scales, j, &sc, &m);
    const float d = f16_to_f32(*d_out) * sc;
    if (!d) continue;  // the group dequantizes to -dm whatever its codes; keep the search's codes
    const float dm = f16_to_f32(*dmin_out) * m;
    for (int l = 0; l < 32; ++l) {
      codes[32 * j + l] = uint8_t(clamp_int(nearest_int((x[32 * j + l] + dm) / d), 0, max_code));
    }
  }
}

}  // namespace

void quantize_q4_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ4_K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b, src += kQK_K) {
    uint8_t codes[kQK_K];
    quantize_k_affine(src, 15, -1.0f, 0.1f, 20, &blocks[b].d, &blocks[b].dmin, blocks[b].scales, codes);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) blocks[b].qs[32 * c + l] = uint8_t(codes[64 * c + l] | codes[64 * c + 32 + l] << 4);
    }
  }
}

void quantize_q5_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ5_K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b, src += kQK_K) {
    uint8_t codes[kQK_K];
    quantize_k_affine(src, 31, -0.5f, 0.1f, 15, &blocks[b].d, &blocks[b].dmin, blocks[b].scales, codes);
    std::memset(blocks[b].qh, 0, sizeof(blocks[b].qh));
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo = codes[64 * c + l], hi = codes[64 * c + 32 + l];
        blocks[b].qs[32 * c + l] = uint8_t((lo & 0x0f) | (hi & 0x0f) << 4);
        blocks[b].qh[l] |= uint8_t((lo >> 4) << (2 * c) | (hi >> 4) << (2 * c + 1));
      }
    }
  }
}

void quantize_q6_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ6_K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b, src += kQK_K) {
    BlockQ6_K& block = blocks[b];
    uint8_t codes[kQK_K];
    float scales[16];
    for (int g = 0; g < 16; ++g) scales[g] = fit_symmetric_codes(16, 32, src + 16 * g, codes + 16 * g);
    const float max_scale = signed_absmax(scales, 16);
    if (std::fabs(max_scale) < kGroupMaxEps) {
      std::memset(&block, 0, sizeof(block));
      continue;
    }
    const float iscale = -128.f / max_scale;
    block.d = f32_to_f16(1 / iscale);
    for (int g = 0; g < 16; ++g) block.scales[g] = int8_t(clamp_int(nearest_int(iscale * scales[g]), -128, 127));
    for (int g = 0; g < 16; ++g) {
      const float d = f16_to_f32(block.d) * block.scales[g];
      if (!d) continue;
      for (int l = 0; l < 16; ++l) {
        codes[16 * g + l] = uint8_t(clamp_int(nearest_int(src[16 * g + l] / d), -32, 31) + 32);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const uint8_t* c = codes + 128 * h;
      for (int l = 0; l < 32; ++l) {
        block.ql[64 * h + l] = uint8_t((c[l] & 0x0f) | (c[l + 64] & 0x0f) << 4);
        block.ql[64 * h + l + 32] = uint8_t((c[l + 32] & 0x0f) | (c[l + 96] & 0x0f) << 4);
        block.qh[32 * h + l] =
            uint8_t(c[l] >> 4 | (c[l + 32] >> 4) << 2 | (c[l + 64] >> 4) << 4 | (c[l + 96] >> 4) << 6);
      }
    }
  }
}

}  // namespace arbiter::quant
