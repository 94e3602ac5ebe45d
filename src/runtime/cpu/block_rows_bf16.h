// The decoding steps' product for block-quantized weights in bf16 arithmetic, without rounding a weight:
// every block type stores small integers (4 to 8 bits, or indices into a table of such integers) and
// scales, and a small integer is exact in bf16. So a row is multiplied as its blocks' integers, 32 at a
// time by VDPBF16PS, and each run's sums are multiplied by its scale; types with an offset per group
// (x = scale * q - offset) subtract offset times the token's sum over the group. This is both exact (the
// weights are the file's, not bf16 roundings of them) and faster than decoding rows to f32 first, which
// is what a decoding step otherwise waits on.
#pragma once

#include <cstdint>

#include "quant/dtype.h"
#include "runtime/cpu/gemm_pack.h"

namespace arbiter {

// Whether dot_block_rows_bf16 takes rows of this type and width (every block type whose rows are whole
// blocks; F32 / F16 / BF16 are not block types).
bool block_rows_bf16_supported(DType type, int64_t in);

// For o in [o_begin, o_end) and t in [0, n): y[t, o] (+)= dot(weight row o, token t), each weight row read
// once for up to four tokens. tokens: [n, ld] bf16 pairs (convert_tokens_bf16). Each token's sum is formed
// by the same operations whatever n is. Requires bf16_gemm_supported() and block_rows_bf16_supported().
void dot_block_rows_bf16(const WeightRows& w, const uint32_t* tokens, int64_t ld, int64_t n, float* y,
                         int64_t ldy, bool accumulate, int64_t o_begin, int64_t o_end);

}  // namespace arbiter
