// The bf16 dot-product GEMM of matmul (matmul.cpp, MatmulPrecision::kBf16): activations and weights are
// rounded to bf16 (round to nearest even) and multiplied with AVX512-BF16's VDPBF16PS, which adds two
// exact bf16 x bf16 products per f32 lane: twice the f32 FMA rate on the same cores, and half the
// bytes per weight in the packed panels. Compiled for that instruction set whatever the build targets;
// bf16_gemm_supported() says whether this CPU can run it.
#pragma once

#include <cstdint>

#include "runtime/cpu/gemm_pack.h"

namespace arbiter {

constexpr int kBf16MR = 8;   // tokens per tile
constexpr int kBf16NR = 32;  // output features per tile: two zmm of 16 f32 sums

// Whether this CPU has AVX512-BF16 (checked once).
bool bf16_gemm_supported();

// Packs weight rows [o0, o0 + nc) x elements [k0, k0 + kc) as NR-row micro-panels of bf16 pairs:
//   dst: [ceil(nc / NR), ceil(kc / 2), NR, 2] bf16; rows past nc and the odd element past kc are zero.
// scratch: kc + 2 + NR * (kc / 2 + 2) floats (a row decoded to f32, then every row's pairs).
void pack_weight_block_bf16(const WeightRows& w, int64_t o0, int64_t nc, int64_t k0, int64_t kc, uint16_t* dst,
                            float* scratch);

// Rounds tokens x [n, in] (row stride ldx) to bf16 pairs once per matmul call, so the blocks below only
// rearrange: dst [n, ceil(in / 2)] uint32, pair p of a token holding elements 2p (low half) and 2p + 1
// (zero past an odd in).
void convert_tokens_bf16(const float* x, int64_t ldx, int64_t n, int64_t in, uint32_t* dst);

// Packs tokens [0, mc) x pairs [0, ceil(kc / 2)) of converted tokens xp (row stride ldp pairs) as
// MR-token micro-panels: dst [ceil(mc / MR), ceil(kc / 2), MR] uint32; tokens past mc are zero.
void pack_token_block_bf16(const uint32_t* xp, int64_t ldp, int64_t mc, int64_t kc, uint32_t* dst);

// tile: [MR, NR] f32 at c (row stride ldc)  =  (add ? tile : 0)  +  x_panel^T @ w_panel
// x_panel: [pairs, MR] uint32, w_panel: [pairs, NR, 2] bf16, both 64-byte aligned.
void gemm_bf16_micro_kernel(int64_t pairs, const uint32_t* x_panel, const uint16_t* w_panel, float* c, int64_t ldc,
                            bool add);

// The decoding steps' product in bf16 arithmetic (matmul's row path): for o in [o_begin, o_end) and
// t in [0, n), y[t, o] (+)= dot(weight row o, token t), each weight row read once and dotted with up
// to four tokens at a time by VDPBF16PS: bf16 rows straight from their stored pairs; block types
// exactly, as their integer values with the scales applied to the sums (block_rows_bf16.h); F16 and
// other plain types decoded and rounded. tokens: [n, ld] bf16 pairs from convert_tokens_bf16. Each sum is 16 lane sums
// in pair order, then added in a fixed order: it does not depend on n. scratch: 2 * (w.in + 32) floats.
void dot_rows_bf16(const WeightRows& w, const uint32_t* tokens, int64_t ld, int64_t n, float* y, int64_t ldy,
                   bool accumulate, int64_t o_begin, int64_t o_end, float* scratch);

}  // namespace arbiter
