// A view of a stored tensor: where its bytes are, their type, and the shape in row-major order
// (outermost first, as safetensors and PyTorch write shapes; GGUF's ne[] is reversed on reading).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quant/dtype.h"

namespace arbiter {

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // row-major: shape.back() is the contiguous dimension
  const void* data = nullptr;  // points into a mapped file or an owned buffer; never null when valid
  size_t nbytes = 0;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  int64_t rows() const { return shape.empty() ? 1 : numel() / shape.back(); }
  int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
  std::string shape_string() const;  // "[512, 64]"
};

}  // namespace arbiter
