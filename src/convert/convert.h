// Conversion of a Hugging Face model directory to one self-contained GGUF file, and requantization of
// a GGUF file to another type.
//
//   convert_hf_to_gguf("models/llama", {.out_path = "llama.q8_0.gguf", .type = "q8_0"});
//   quantize_gguf("llama.f16.gguf", "llama.q4_K_M.gguf", {.type = "q4_K_M"});
//
// Both stream (one tensor in memory at a time, read from memory-mapped inputs), write to a temporary file beside OUT (OUT.tmp-PID-N) and
// rename, so a failure never leaves a partial file at OUT, and report progress on stderr. Either may cut
// its output into several files (split_max_bytes); a split input (NAME-00001-of-0000N.gguf) is read whole.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "quant/dtype.h"

namespace arbiter {

struct ConvertOptions {
  std::string out_path;
  std::string type = "f16";  // see output_type_names()
  bool progress = true;
  // > 0: files of at most this many bytes of tensor data, OUT-00001-of-0000N.gguf, ... as llama.cpp's
  // gguf-split names them (one file when the model fits).
  uint64_t split_max_bytes = 0;
};

// What was written, one entry per tensor, for reports and tests.
struct WrittenTensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::string note;  // why the type differs from the requested one
};

struct ConvertReport {
  std::vector<WrittenTensor> tensors;
  int64_t parameter_count = 0;
  uint64_t bytes = 0;  // tensor data
  std::vector<std::string> files;  // written: the output, or a split model's files in order
};

// Any model arbiter runs (Llama, Mistral, Qwen2, Qwen3, Gemma2; causal or sequence classification),
// with its tokenizer and chat template.
Result<ConvertReport> convert_hf_to_gguf(const std::string& hf_dir, const ConvertOptions& options);

struct QuantizeOptions {
  std::string type = "q4_K_M";
  bool progress = true;
  uint64_t split_max_bytes = 0;  // as ConvertOptions'
};

// Every tensor dequantized and quantized row by row to the mixture `options.type` chooses; tensors
// already in their chosen type are copied unchanged. Metadata is kept, general.file_type updated.
Result<ConvertReport> quantize_gguf(const std::string& in_path, const std::string& out_path,
                                    const QuantizeOptions& options);

}  // namespace arbiter
