// Getting weight rows into the f32 layouts the GEMM kernels read: decoding a span of a stored row
// (F32 / F16 / BF16 / block-quantized) and packing blocks of weight rows and of tokens into micro-panels.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/dtype.h"

namespace arbiter {

// The rows of a stored weight [out, in] a matmul reads: row o is stored row index[o] (or o without an index).
struct WeightRows {
  DType dtype = DType::F32;
  const uint8_t* data = nullptr;
  size_t row_bytes = 0;             // bytes of one stored row of `in` elements
  int64_t in = 0;                   // elements per row
  int64_t block_elems = 1;          // elements per quantization block (1 for F32 / F16 / BF16)
  size_t block_bytes = 4;
  const int32_t* index = nullptr;   // optional: selected rows (matmul_rows)

  const uint8_t* row(int64_t o) const { return data + size_t(index ? index[o] : o) * row_bytes; }
};

// dst[0..count) = elements [k0, k0 + count) of a stored row as f32. k0 is a multiple of the block size and
// count is too, or reaches the row's end.
void decode_row_span(const WeightRows& w, const uint8_t* row, int64_t k0, int64_t count, float* dst);

// Packs weight rows [o0, o0 + nc) x elements [k0, k0 + kc) as NR-row micro-panels:
//   dst: [ceil(nc / NR), kc, NR] f32, rows past nc are zero.
// scratch: NR * kc floats for decoding rows of non-F32 types.
void pack_weight_block(const WeightRows& w, int64_t o0, int64_t nc, int64_t k0, int64_t kc, float* dst,
                       float* scratch);

// Packs tokens [0, mc) x elements [0, kc) of x (row stride ldx) as MR-token micro-panels:
//   dst: [ceil(mc / MR), kc, MR] f32, tokens past mc are zero.
void pack_token_block(const float* x, int64_t ldx, int64_t mc, int64_t kc, float* dst);

}  // namespace arbiter
