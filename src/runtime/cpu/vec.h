// Small vector primitives for the non-GEMM parts of the forward pass (norms, attention rows).
// AVX2 + FMA when compiled for it, scalar otherwise.
#pragma once

#include <cstdint>

namespace arbiter::cpu {

float dot(const float* a, const float* b, int64_t n);
void axpy(float alpha, const float* x, float* y, int64_t n);  // y += alpha * x
void scale(float* x, float alpha, int64_t n);
void add(const float* x, float* y, int64_t n);                 // y += x
float sum_of_squares(const float* x, int64_t n);

}  // namespace arbiter::cpu
