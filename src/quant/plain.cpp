// Element types (no blocks) converted to float, one value at a time.
#include <cstring>

#include "core/half.h"
#include "quant/dequantize_impl.h"

namespace arbiter::quant {

// Elements are read with memcpy: tensor data need not be aligned to its element size.
template <typename T>
static void convert_elements(const void* src, float* dst, int64_t n) {
  const auto* bytes = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) {
    T value;
    std::memcpy(&value, bytes + i * sizeof(T), sizeof(T));
    dst[i] = static_cast<float>(value);
  }
}

void dequantize_f32(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * sizeof(float)); }
void dequantize_f64(const void* src, float* dst, int64_t n) { convert_elements<double>(src, dst, n); }
void dequantize_i8(const void* src, float* dst, int64_t n) { convert_elements<int8_t>(src, dst, n); }
void dequantize_i16(const void* src, float* dst, int64_t n) { convert_elements<int16_t>(src, dst, n); }
void dequantize_i32(const void* src, float* dst, int64_t n) { convert_elements<int32_t>(src, dst, n); }

void dequantize_f16_scalar(const void* src, float* dst, int64_t n) {
  const auto* bytes = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t bits;
    std::memcpy(&bits, bytes + 2 * i, 2);
    dst[i] = f16_to_f32(bits);
  }
}

void dequantize_bf16_scalar(const void* src, float* dst, int64_t n) {
  const auto* bytes = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t bits;
    std::memcpy(&bits, bytes + 2 * i, 2);
    dst[i] = bf16_to_f32(bits);
  }
}

}  // namespace arbiter::quant
