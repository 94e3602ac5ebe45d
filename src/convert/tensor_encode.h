// One output tensor's bytes from its source: each output row is read from its source row (Q/K rows
// reordered for llama-arch GGUFs), dequantized to f32, adjusted (gemma norms + 1) and quantized to the
// output type. Rows are spread over the thread pool; only the output tensor is held in memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "io/tensor.h"

namespace arbiter {

struct TensorJob {
  std::string name;                 // output (GGUF) name
  const TensorView* source = nullptr;  // a stored tensor, or nullptr when `generated` holds the values
  std::vector<float> generated;     // values made by the converter (rope_freqs.weight)
  std::vector<int64_t> shape;       // row-major, as the source's
  DType dtype = DType::F32;         // output type
  std::string type_note;            // why dtype differs from the requested base type
  // Q/K rows of llama-arch models: heads of rows / rope_heads rows each, whose halves (rotate_half
  // pairs i, i + d/2) are interleaved into adjacent pairs (2i, 2i + 1). 0: rows unchanged.
  int64_t rope_heads = 0;
  float add = 0.0f;                 // added to every value (gemma norms stored as 1 + w)
  std::string source_name;          // for messages
};

// The output row that source row `row` of a head-grouped matrix lands on is the inverse of this: output
// row r comes from source row permuted_source_row(r, rows, heads).
int64_t permuted_source_row(int64_t r, int64_t rows, int64_t heads);

Result<std::vector<uint8_t>> encode_tensor(const TensorJob& job, ThreadPool& pool);

}  // namespace arbiter
