// bf16 GEMMs on the tensor cores through cuBLAS, f32 accumulation.
#pragma once

#include <cublas_v2.h>

#include <cstdint>

#include "core/status.h"
#include "runtime/cuda/kernels.h"

namespace arbiter::cuda {

// y: [n, out] (f32, or bf16 when y_bf16) = x: [n, in] bf16 @ w^T; w: [out, in] bf16 (one row per output
// feature, as the checkpoints store it).
Status gemm_bf16(cublasHandle_t handle, const bf16* w, int64_t out, int64_t in, const bf16* x, int64_t n, void* y,
                 bool y_bf16);

// The rate of an n x n x n bf16 GEMM in TFLOP/s (median of `repeats`, after warm-ups; random operands).
Result<double> gemm_tflops(int64_t n, int repeats);

}  // namespace arbiter::cuda
