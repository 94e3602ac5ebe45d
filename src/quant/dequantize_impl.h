// Per-format dequantizers behind dequantize_row. Each takes n elements (a multiple of its block
// size) starting at src and writes n floats. *_scalar are the plain definitions the tests hold
// the vectorised versions to; *_avx2 exist only when compiled with AVX2.
#pragma once

#include <cstdint>

namespace arbiter::quant {

// plain.cpp: element types
void dequantize_f32(const void* src, float* dst, int64_t n);
void dequantize_f64(const void* src, float* dst, int64_t n);
void dequantize_i8(const void* src, float* dst, int64_t n);
void dequantize_i16(const void* src, float* dst, int64_t n);
void dequantize_i32(const void* src, float* dst, int64_t n);
void dequantize_f16_scalar(const void* src, float* dst, int64_t n);
void dequantize_bf16_scalar(const void* src, float* dst, int64_t n);

// q_legacy.cpp: 32-element blocks
void dequantize_q4_0_scalar(const void* src, float* dst, int64_t n);
void dequantize_q4_1_scalar(const void* src, float* dst, int64_t n);
void dequantize_q5_0_scalar(const void* src, float* dst, int64_t n);
void dequantize_q5_1_scalar(const void* src, float* dst, int64_t n);
void dequantize_q8_0_scalar(const void* src, float* dst, int64_t n);

// k_quants.cpp: 256-element super-blocks
void dequantize_q2_k_scalar(const void* src, float* dst, int64_t n);
void dequantize_q3_k_scalar(const void* src, float* dst, int64_t n);
void dequantize_q4_k_scalar(const void* src, float* dst, int64_t n);
void dequantize_q5_k_scalar(const void* src, float* dst, int64_t n);
void dequantize_q6_k_scalar(const void* src, float* dst, int64_t n);

// iq4.cpp: non-linear 4-bit levels
void dequantize_iq4_nl_scalar(const void* src, float* dst, int64_t n);
void dequantize_iq4_xs_scalar(const void* src, float* dst, int64_t n);

#ifdef __AVX2__
// dequant_avx2.cpp
void dequantize_f16_avx2(const void* src, float* dst, int64_t n);
void dequantize_bf16_avx2(const void* src, float* dst, int64_t n);
void dequantize_q4_0_avx2(const void* src, float* dst, int64_t n);
void dequantize_q4_1_avx2(const void* src, float* dst, int64_t n);
void dequantize_q5_0_avx2(const void* src, float* dst, int64_t n);
void dequantize_q5_1_avx2(const void* src, float* dst, int64_t n);
void dequantize_q8_0_avx2(const void* src, float* dst, int64_t n);
void dequantize_q2_k_avx2(const void* src, float* dst, int64_t n);
void dequantize_q3_k_avx2(const void* src, float* dst, int64_t n);
void dequantize_q4_k_avx2(const void* src, float* dst, int64_t n);
void dequantize_q5_k_avx2(const void* src, float* dst, int64_t n);
void dequantize_q6_k_avx2(const void* src, float* dst, int64_t n);
void dequantize_iq4_nl_avx2(const void* src, float* dst, int64_t n);
void dequantize_iq4_xs_avx2(const void* src, float* dst, int64_t n);
#endif

}  // namespace arbiter::quant
