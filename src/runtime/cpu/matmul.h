// The linear-layer product of the CPU backend: tokens times the transpose of a stored weight, for every
// weight type the loaders produce (F32, F16, BF16 and the block-quantized GGUF types that
// dequantize_row supports), read in place from the mapped file.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "io/tensor.h"

namespace arbiter {

// How a product is computed. kGemm: the cache-blocked GEMM, for prefills. kRows: each weight row is read
// once and dotted with every token, no packing: faster for the few rows of a decoding step, which reads
// all the weights to produce a handful of outputs. The two sum in different orders, so a caller keeps
// to one per kind of step (the results of either do not depend on the other rows of the batch).
enum class MatmulPath { kGemm, kRows };

// The arithmetic of the products. kF32: activations and weights (decoded) in f32, f32 sums. kBf16: both
// rounded to bf16 (nearest even) and multiplied with AVX512-BF16 dot products into f32 sums: twice the
// f32 rate and half the packed bytes, at the cost of rounding the activations (2^-9 relative per value,
// the weights' own rounding for a bf16 model). kAuto: kBf16 for weights stored in fewer than 32 bits (bf16,
// f16, quantized: already rounded coarser than that) when the CPU has AVX512-BF16, and kF32 for f32
// weights and on other CPUs. kBf16 on a CPU without the instructions runs kF32. Either way a result does
// not depend on the rest of the batch.
enum class MatmulPrecision { kAuto, kF32, kBf16 };

// Process-wide, like the thread count; set before running models. kBf16 on a CPU without AVX512-BF16
// is refused by the caller (bf16_matmul_supported()).
void set_matmul_precision(MatmulPrecision precision);
MatmulPrecision matmul_precision();
bool bf16_matmul_supported();
const char* matmul_precision_name(MatmulPrecision precision);
// The arithmetic a weight of `dtype` gets under the current setting: kF32 or kBf16.
MatmulPrecision effective_matmul_precision(DType dtype);

// y: [n, out] f32 (row stride ldy)  =  x: [n, in] f32 (row stride ldx)  @  weight^T
// weight: [out, in] of any supported dtype (row = one output feature). accumulate=true adds into y.
// Multi-threaded over the global thread pool; the same inputs and thread count give the same bytes.
Status matmul(const TensorView& weight, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy,
              bool accumulate = false, MatmulPath path = MatmulPath::kGemm);

// Several products of the same tokens at once (a layer's q, k and v; its gate and up), each
// y_i: [n, out_i] (row stride ldy_i) = x: [n, in] @ weight_i^T, never accumulating. The tokens are
// prepared once for all of them and one dispatch runs them all; the bytes equal one matmul() per output.
// Every weight must read `in` values per token.
struct MatmulOutput {
  const TensorView* weight = nullptr;
  float* y = nullptr;
  int64_t ldy = 0;
};
Status matmul_shared(const std::vector<MatmulOutput>& outputs, const float* x, int64_t n, int64_t ldx,
                     MatmulPath path = MatmulPath::kGemm);

// Only selected output features (e.g. the score-token rows of an unembedding):
// y: [n, rows.size()] f32 (row stride ldy)  =  x: [n, in] f32  @  weight[rows]^T
Status matmul_rows(const TensorView& weight, const std::vector<int32_t>& rows, const float* x, int64_t n,
                   int64_t ldx, float* y, int64_t ldy);

}  // namespace arbiter
