#include "convert/tensor_encode.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "convert/gguf_stream_writer.h"
#include "quant/quantize.h"

namespace arbiter {

int64_t permuted_source_row(int64_t r, int64_t rows, int64_t heads) {
  // Within a head of d rows: output row 2i + j holds source row j * d/2 + i.
  const int64_t d = rows / heads, half = d / 2;
  const int64_t h = r / d, within = r % d;
  return h * d + (within % 2) * half + within / 2;
}

Result<std::vector<uint8_t>> encode_tensor(const TensorJob& job, ThreadPool& pool) {
  const std::string where = job.source_name.empty() ? job.name : job.source_name;
  if (job.shape.empty()) return error("tensor '" + where + "' has no dimensions");
  int64_t numel = 1;
  for (int64_t d : job.shape) numel *= d;
  const int64_t cols = job.shape.back(), rows = numel / std::max<int64_t>(cols, 1);
  DType src_type = DType::F32;
  const uint8_t* src = nullptr;
  size_t src_row_bytes = 0;
  if (job.source != nullptr) {
    src_type = job.source->dtype;
    if (!can_dequantize(src_type) || cols % dtype_info(src_type).block_elems != 0) {
      return error("tensor '" + where + "' has type " + dtype_name(src_type) + ", which cannot be read as floats");
    }
    if (job.source->numel() != numel) return error("tensor '" + where + "' does not have the planned shape");
    ARB_ASSIGN(src_row_bytes, row_bytes(src_type, cols));
    src = static_cast<const uint8_t*>(job.source->data);
  } else {
    if (int64_t(job.generated.size()) != numel) return error("tensor '" + where + "' has the wrong number of values");
    src = reinterpret_cast<const uint8_t*>(job.generated.data());
    src_row_bytes = size_t(cols) * sizeof(float);
  }
  if (!can_quantize(job.dtype)) return error("tensor '" + where + "': cannot write type " + dtype_name(job.dtype));
  ARB_ASSIGN(const size_t out_row_bytes, row_bytes(job.dtype, cols));
  ARB_ASSIGN(const size_t total, tensor_bytes(job.name, job.dtype, job.shape));
  std::vector<uint8_t> out(total);

  // A 1-D tensor with a head permutation (a llama-arch q/k bias) reorders elements, not rows.
  const bool permute_elements = job.rope_heads > 0 && job.shape.size() == 1;
  const bool permute_rows = job.rope_heads > 0 && !permute_elements;
  if ((permute_rows && rows % (2 * job.rope_heads) != 0) || (permute_elements && cols % (2 * job.rope_heads) != 0)) {
    return error("tensor '" + where + "': " + std::to_string(permute_rows ? rows : cols) + " rows do not split into " +
                 std::to_string(job.rope_heads) + " heads of even size");
  }

  // Same type and no change: the bytes carry over exactly (requantizing a block format is never lossless).
  if (job.source != nullptr && src_type == job.dtype && job.rope_heads == 0 && job.add == 0.0f) {
    std::memcpy(out.data(), src, total);
    return out;
  }

  // A block type has no code for NaN or infinity: its scale would turn such a value into some finite one, and
  // a broken checkpoint into a working-looking file. Float types keep them as they are.
  const bool block_type = dtype_info(job.dtype).block_elems > 1;
  std::atomic<int64_t> first_non_finite{-1};
  pool.parallel_for(size_t(rows), 1, [&](int, size_t begin, size_t end) {
    std::vector<float> row(static_cast<size_t>(cols)), permuted;
    for (size_t r = begin; r < end; ++r) {
      const int64_t from = permute_rows ? permuted_source_row(int64_t(r), rows, job.rope_heads) : int64_t(r);
      dequantize_row(src_type, src + size_t(from) * src_row_bytes, row.data(), cols);
      if (permute_elements) {
        permuted.resize(row.size());
        for (int64_t i = 0; i < cols; ++i) permuted[size_t(i)] = row[size_t(permuted_source_row(i, cols, job.rope_heads))];
        row.swap(permuted);
      }
      if (job.add != 0.0f) {
        for (float& v : row) v += job.add;
      }
      if (block_type && !std::all_of(row.begin(), row.end(), [](float v) { return std::isfinite(v); })) {
        int64_t none = -1;
        first_non_finite.compare_exchange_strong(none, int64_t(from));
        continue;
      }
      quantize_row(job.dtype, row.data(), out.data() + r * out_row_bytes, cols);
    }
  });
  if (const int64_t bad = first_non_finite.load(); bad >= 0)
    return error("tensor '" + where + "' row " + std::to_string(bad) + " holds a NaN or infinite value, which " +
                 dtype_name(job.dtype) + " cannot keep: the source is broken (a float type keeps such values as they are)");
  return out;
}

}  // namespace arbiter
