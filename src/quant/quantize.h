// Quantization of float rows into GGUF block formats, byte-compatible with the reference quantizers
// (ggml's quantize_row_*_ref and gguf-py's numpy port): a file written with these reads the same in any
// GGUF reader, and Q8_0 output is byte-identical to the canonical converter's.
#pragma once

#include <cstdint>

#include "quant/dtype.h"

namespace arbiter {

// F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K.
bool can_quantize(DType type);

// dst[0 .. row_bytes(type, n)) = src[0..n) in `type`. n must be a multiple of the block size and the
// type one can_quantize accepts (otherwise nothing is written). Inputs should be finite; NaN or
// infinite inputs give a well-formed but meaningless block, never a crash.
void quantize_row(DType type, const float* src, void* dst, int64_t n);

// The type a row of `cols` elements takes when `wanted`'s blocks do not divide it, as llama.cpp's
// quantizer chooses (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K / Q3_K / IQ4_XS -> IQ4_NL, else F16;
// F16 when the fallback's blocks do not divide it either); `wanted` itself when they do.
DType row_type_or_fallback(DType wanted, int64_t cols);

}  // namespace arbiter
