// The register-blocked inner kernel of the blocked GEMM (matmul.cpp): one MR x NR tile of y from packed
// panels of x and of the weight. MR tokens by NR output features, sized so the accumulators fill the
// vector registers and leave room for the operands (AVX2: 12 ymm accumulators of 16).
#pragma once

#include <cstdint>

namespace arbiter {

constexpr int kGemmMR = 6;   // tokens per tile
constexpr int kGemmNR = 16;  // output features per tile

// tile: [MR, NR] f32 at c (row stride ldc)  =  (add ? tile : 0)  +  x_panel^T @ w_panel
// x_panel: [kc, MR] f32 (packed tokens, one k after another), w_panel: [kc, NR] f32, both 32-byte aligned.
void gemm_micro_kernel(int64_t kc, const float* x_panel, const float* w_panel, float* c, int64_t ldc, bool add);

}  // namespace arbiter
