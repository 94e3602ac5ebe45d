// dequantize_row: picks each type's dequantizer, vectorised where this build has AVX2.
#include <limits>

#include "quant/dequantize_impl.h"
#include "quant/dequantize_scalar.h"
#include "quant/dtype.h"

namespace arbiter {
namespace {

using DequantizeFn = void (*)(const void*, float*, int64_t);

DequantizeFn scalar_dequantizer(DType type) {
  switch (type) {
    case DType::F32: return quant::dequantize_f32;
    case DType::F64: return quant::dequantize_f64;
    case DType::I8: return quant::dequantize_i8;
    case DType::I16: return quant::dequantize_i16;
    case DType::I32: return quant::dequantize_i32;
    case DType::F16: return quant::dequantize_f16_scalar;
    case DType::BF16: return quant::dequantize_bf16_scalar;
    case DType::Q4_0: return quant::dequantize_q4_0_scalar;
    case DType::Q4_1: return quant::dequantize_q4_1_scalar;
    case DType::Q5_0: return quant::dequantize_q5_0_scalar;
    case DType::Q5_1: return quant::dequantize_q5_1_scalar;
    case DType::Q8_0: return quant::dequantize_q8_0_scalar;
    case DType::Q2_K: return quant::dequantize_q2_k_scalar;
    case DType::Q3_K: return quant::dequantize_q3_k_scalar;
    case DType::Q4_K: return quant::dequantize_q4_k_scalar;
    case DType::Q5_K: return quant::dequantize_q5_k_scalar;
    case DType::Q6_K: return quant::dequantize_q6_k_scalar;
    case DType::IQ4_NL: return quant::dequantize_iq4_nl_scalar;
    case DType::IQ4_XS: return quant::dequantize_iq4_xs_scalar;
    default: return nullptr;
  }
}

DequantizeFn fast_dequantizer(DType type) {
#ifdef __AVX2__
  switch (type) {
#ifdef __F16C__
    case DType::F16: return quant::dequantize_f16_avx2;
#endif
    case DType::BF16: return quant::dequantize_bf16_avx2;
    case DType::Q4_0: return quant::dequantize_q4_0_avx2;
    case DType::Q4_1: return quant::dequantize_q4_1_avx2;
    case DType::Q5_0: return quant::dequantize_q5_0_avx2;
    case DType::Q5_1: return quant::dequantize_q5_1_avx2;
    case DType::Q8_0: return quant::dequantize_q8_0_avx2;
    case DType::Q2_K: return quant::dequantize_q2_k_avx2;
    case DType::Q3_K: return quant::dequantize_q3_k_avx2;
    case DType::Q4_K: return quant::dequantize_q4_k_avx2;
    case DType::Q5_K: return quant::dequantize_q5_k_avx2;
    case DType::Q6_K: return quant::dequantize_q6_k_avx2;
    case DType::IQ4_NL: return quant::dequantize_iq4_nl_avx2;
    case DType::IQ4_XS: return quant::dequantize_iq4_xs_avx2;
    default: break;
  }
#endif
  return scalar_dequantizer(type);
}

// Unsupported types give NaN rather than stale memory, so a caller that skipped can_dequantize
// sees garbage at once instead of plausible numbers.
void fill_nan(float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = std::numeric_limits<float>::quiet_NaN();
}

}  // namespace

bool can_dequantize(DType type) { return scalar_dequantizer(type) != nullptr; }

void dequantize_row(DType type, const void* src, float* dst, int64_t n) {
  if (DequantizeFn fn = fast_dequantizer(type)) return fn(src, dst, n);
  fill_nan(dst, n);
}

void dequantize_row_scalar(DType type, const void* src, float* dst, int64_t n) {
  if (DequantizeFn fn = scalar_dequantizer(type)) return fn(src, dst, n);
  fill_nan(dst, n);
}

}  // namespace arbiter
