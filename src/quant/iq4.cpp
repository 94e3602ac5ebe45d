// IQ4_NL and IQ4_XS: 4-bit indices into a fixed non-linear table of 16 levels (kIq4Values).
#include "quant/exact_arithmetic.h"

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/dequantize_impl.h"

namespace arbiter::quant {

void dequantize_iq4_nl_scalar(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ4_NL*>(src);
  for (int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const float d = f16_to_f32(blocks[b].d);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = d * float(kIq4Values[blocks[b].qs[j] & 0x0f]);
      dst[j + kQK / 2] = d * float(kIq4Values[blocks[b].qs[j] >> 4]);
    }
  }
}

void dequantize_iq4_xs_scalar(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ4_XS*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b, dst += kQK_K) {
    const BlockIQ4_XS& block = blocks[b];
    const float d = f16_to_f32(block.d);
    for (int group = 0; group < 8; ++group) {
      const float dl = d * float(iq4_xs_scale(block, group));
      const uint8_t* qs = block.qs + 16 * group;
      float* out = dst + 32 * group;
      for (int l = 0; l < 16; ++l) {
        out[l] = dl * float(kIq4Values[qs[l] & 0x0f]);
        out[l + 16] = dl * float(kIq4Values[qs[l] >> 4]);
      }
    }
  }
}

}  // namespace arbiter::quant
