// IQ4_NL and IQ4_XS quantizers (no importance matrix), as llama.cpp's quantize tool makes them: per group
// of 32, weights x^2 and a search over the plain scale and 15 near it for the one whose weighted
// least-squares fit to the non-linear levels kIq4Values is best; IQ4_XS then stores each group's scale as
// a signed 6-bit multiple of one f16 scale per 256 and picks the levels again for the scale it stored. Float operations
// follow the reference's order (ggml's quantize_row_iq4_nl_impl with ntry = 7), so that files agree with
// its bytes; no reference bytes are at hand to check that, so the tests hold the results to what the
// format promises instead (exact levels come back exactly, and the error beats Q4_0's).
#include "quant/exact_arithmetic.h"

#include <cmath>
#include <cstring>

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/quantize_impl.h"

namespace arbiter::quant {

// The index of the level nearest to x (the upper one on a tie, as the reference's float comparison
// decides it); the ends for x beyond them (and NaN). The reference finds the bracketing pair by binary
// search; counting the levels at or below x finds the same pair without branches, which the search's
// 15 candidate scales per group make worth having.
int iq4_nearest_level(float x) {
  if (x <= kIq4Values[0]) return 0;
  if (x >= kIq4Values[15]) return 15;
  // The largest index whose level is <= x (level 0's is: x > kIq4Values[0]); written as "not below" so
  // that NaN, like the search, lands on the last pair.
  int below = 0;
  for (int i = 1; i < 15; ++i) below += !(x < float(kIq4Values[i]));
  const int above = below + 1;
  return x - kIq4Values[below] < kIq4Values[above] - x ? below : above;
}

namespace {

constexpr int kIq4Group = 32;
// Candidate scales tried around the plain one: the reference's ntry for both formats.
constexpr int kScaleTries = 7;

// sum w q x and sum w q q (w = x^2) over x[0..32) with each q the level nearest to inverse_scale * x.
void fit_levels(const float* x, float inverse_scale, float* sum_qx, float* sum_q2) {
  float qx = 0, q2 = 0;
  for (int j = 0; j < kIq4Group; ++j) {
    const float q = kIq4Values[iq4_nearest_level(inverse_scale * x[j])];
    const float w = x[j] * x[j];
    qx += w * q * x[j];
    q2 += w * q * q;
  }
  *sum_qx = qx;
  *sum_q2 = q2;
}

// The scale of one group of 32 (0 for an all-but-zero group).
float group_scale(const float* x) {
  const float max = signed_absmax(x, kIq4Group);
  if (std::fabs(max) < kGroupMaxEps) return 0.0f;
  // The plain scale maps the largest magnitude to the outermost level (-127, on the sign that fits).
  float sum_qx, sum_q2;
  fit_levels(x, 1 / (-max / kIq4Values[0]), &sum_qx, &sum_q2);
  float scale = sum_qx / sum_q2;
  float best = scale * sum_qx;
  for (int attempt = -kScaleTries; attempt <= kScaleTries; ++attempt) {
    const float inverse_scale = float(attempt + kIq4Values[0]) / max;
    fit_levels(x, inverse_scale, &sum_qx, &sum_q2);
    // The weighted fit sum_qx^2 / sum_q2 is what the least-squares scale explains; keep the largest.
    if (sum_q2 > 0 && sum_qx * sum_qx > best * sum_q2) {
      scale = sum_qx / sum_q2;
      best = scale * sum_qx;
    }
  }
  return scale;
}

// Levels of x[0..32) at `scale` (index 8, the level nearest zero, for a zero scale).
void levels_at(const float* x, float scale, uint8_t* levels) {
  const float inverse = scale != 0.0f ? 1 / scale : 0.0f;
  for (int j = 0; j < kIq4Group; ++j) levels[j] = uint8_t(iq4_nearest_level(inverse * x[j]));
}

// Element 16 n + l of a group of 32 is nibble n of byte l.
void pack_group(const uint8_t* levels, uint8_t* qs) {
  for (int l = 0; l < 16; ++l) qs[l] = uint8_t(levels[l] | levels[16 + l] << 4);
}

}  // namespace

void quantize_iq4_nl(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockIQ4_NL*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    // The levels for the scale found (the stored f16 scale is its rounding).
    const float scale = group_scale(src);
    uint8_t levels[kIq4Group];
    levels_at(src, scale, levels);
    blocks[b].d = f32_to_f16(scale);
    pack_group(levels, blocks[b].qs);
  }
}

void quantize_iq4_xs(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockIQ4_XS*>(dst);
  constexpr int kGroups = kQK_K / kIq4Group;
  for (int64_t b = 0; b < n / kQK_K; ++b, src += kQK_K) {
    BlockIQ4_XS& block = blocks[b];
    float scales[kGroups];
    for (int g = 0; g < kGroups; ++g) scales[g] = group_scale(src + kIq4Group * g);
    const float max_scale = signed_absmax(scales, kGroups);
    // Group scales as d * l, l in [-32, 31]: the largest maps to -32 (d takes its opposite sign).
    const float d = -max_scale / 32;
    const float inverse_d = d != 0.0f ? 1 / d : 0.0f;
    block.d = f32_to_f16(d);
    block.scales_h = 0;
    std::memset(block.scales_l, 0, sizeof(block.scales_l));
    for (int g = 0; g < kGroups; ++g) {
      const int l = clamp_int(nearest_int(inverse_d * scales[g]), -32, 31);
      uint8_t levels[kIq4Group];
      levels_at(src + kIq4Group * g, d * float(l), levels);
      pack_group(levels, block.qs + 16 * g);
      const int stored = l + 32;
      block.scales_l[g / 2] |= uint8_t((stored & 0x0f) << (4 * (g % 2)));
      block.scales_h |= uint16_t((stored >> 4) << (2 * g));
    }
  }
}

}  // namespace arbiter::quant
