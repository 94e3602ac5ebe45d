// quantize_row: picks each type's quantizer.
#include "quant/quantize.h"

#include "core/half.h"
#include "quant/quantize_impl.h"

namespace arbiter {
namespace {

using QuantizeFn = void (*)(const float*, void*, int64_t);

void quantize_f32(const float* src, void* dst, int64_t n) {
  auto* out = static_cast<float*>(dst);
  for (int64_t i = 0; i < n; ++i) out[i] = src[i];
}

void quantize_f16(const float* src, void* dst, int64_t n) {
  auto* out = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) out[i] = f32_to_f16(src[i]);
}

void quantize_bf16(const float* src, void* dst, int64_t n) {
  auto* out = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) out[i] = f32_to_bf16(src[i]);
}

QuantizeFn quantizer(DType type) {
  switch (type) {
    case DType::F32: return quantize_f32;
    case DType::F16: return quantize_f16;
    case DType::BF16: return quantize_bf16;
    case DType::Q4_0: return quant::quantize_q4_0;
    case DType::Q4_1: return quant::quantize_q4_1;
    case DType::Q5_0: return quant::quantize_q5_0;
    case DType::Q5_1: return quant::quantize_q5_1;
    case DType::Q8_0: return quant::quantize_q8_0;
    case DType::Q2_K: return quant::quantize_q2_k;
    case DType::Q3_K: return quant::quantize_q3_k;
    case DType::Q4_K: return quant::quantize_q4_k;
    case DType::Q5_K: return quant::quantize_q5_k;
    case DType::Q6_K: return quant::quantize_q6_k;
    case DType::IQ4_NL: return quant::quantize_iq4_nl;
    case DType::IQ4_XS: return quant::quantize_iq4_xs;
    default: return nullptr;
  }
}

}  // namespace

bool can_quantize(DType type) { return quantizer(type) != nullptr; }

void quantize_row(DType type, const float* src, void* dst, int64_t n) {
  if (QuantizeFn fn = quantizer(type)) fn(src, dst, n);
}

DType row_type_or_fallback(DType wanted, int64_t cols) {
  if (cols % dtype_info(wanted).block_elems == 0) return wanted;
  DType fallback = DType::F16;
  switch (wanted) {
    case DType::Q4_K: fallback = DType::Q5_0; break;
    case DType::Q5_K: fallback = DType::Q5_1; break;
    case DType::Q6_K: fallback = DType::Q8_0; break;
    case DType::Q2_K:
    case DType::Q3_K:
    case DType::IQ4_XS: fallback = DType::IQ4_NL; break;
    default: break;
  }
  return cols % dtype_info(fallback).block_elems == 0 ? fallback : DType::F16;
}

}  // namespace arbiter
