// The register-blocked inner kernel of the blocked GEMM (matmul.cpp): one MR x NR tile of y from packed
// panels of x and of the weight. MR tokens by NR output features, sized so the accumulators fill the
// vector registers and leave room for the operands (AVX2: 12 ymm accumulators of 16; AVX-512: 16 zmm of 32).
#pragma once

#include <cstdint>

namespace arbiter {

#if defined(__AVX512F__)
constexpr int kGemmMR = 8;   // tokens per tile: 16 zmm accumulators of 32, two weight loads per 16 FMAs
constexpr int kGemmNR = 32;  // output features per tile
#else
constexpr int kGemmMR = 6;   // tokens per tile
constexpr int kGemmNR = 16;  // output features per tile
#endif

// tile: [MR, NR] f32 at c (row stride ldc)  =  (add ? tile : 0)  +  x_panel^T @ w_panel
// x_panel: [kc, MR] f32 (packed tokens, one k after another), w_panel: [kc, NR] f32, both 64-byte aligned.
void gemm_micro_kernel(int64_t kc, const float* x_panel, const float* w_panel, float* c, int64_t ldc, bool add);

}  // namespace arbiter
