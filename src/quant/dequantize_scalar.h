// The plain, one-element-at-a-time dequantizers: the definition of each format that the vectorised
// dequantize_row (quant/dtype.h) is tested against. Not for hot paths.
#pragma once

#include <cstdint>

#include "quant/dtype.h"

namespace arbiter {

// Same contract as dequantize_row.
void dequantize_row_scalar(DType type, const void* src, float* dst, int64_t n);

}  // namespace arbiter
