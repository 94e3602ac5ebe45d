// Element and block types of stored tensors, numbered as GGUF numbers them (ggml_type), so a GGUF
// tensor's type field converts directly. safetensors' F32/F16/BF16 map onto the same enum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace arbiter {

enum class DType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
};

struct DTypeInfo {
  const char* name;       // "F32", "Q4_K", ...
  int64_t block_elems;    // elements per block (1 for plain types)
  size_t block_bytes;     // bytes per block
  bool known;             // false for numbers arbiter does not know at all
};

// Info for any uint32 type number; unknown numbers give known=false and name "unknown".
DTypeInfo dtype_info(DType type);
inline const char* dtype_name(DType type) { return dtype_info(type).name; }
Result<DType> dtype_from_name(const std::string& name);  // case-insensitive: "q8_0", "BF16", ...

// Bytes of a row of n elements; an error if n is not a multiple of the block size or the type is unknown.
Result<size_t> row_bytes(DType type, int64_t n);

// Whether dequantize_row supports the type.
bool can_dequantize(DType type);

// dst[0..n) = the values of the n elements at src. n must be a multiple of the block size.
void dequantize_row(DType type, const void* src, float* dst, int64_t n);

}  // namespace arbiter
