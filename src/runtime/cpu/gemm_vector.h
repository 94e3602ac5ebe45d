// The few-token path of matmul (decode: n = 1): memory-bound, so each weight row is read once, decoded
// into an L1-sized buffer when it is not F32, and dotted with every token.
#pragma once

#include <cstdint>

#include "runtime/cpu/gemm_pack.h"

namespace arbiter {

// For o in [o_begin, o_end), t in [0, n):  y[t, o] (+)= dot(weight row o, x[t])
// x: [n, in] f32 (row stride ldx), y: [n, *] f32 (row stride ldy), scratch: w.in floats.
void gemm_vector_rows(const WeightRows& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy,
                      bool accumulate, int64_t o_begin, int64_t o_end, float* scratch);

}  // namespace arbiter
