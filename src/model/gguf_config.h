// GGUF metadata -> ModelConfig, for the architectures llama (also Mistral, which the converter writes as
// llama), qwen2, qwen3 and gemma2.
#pragma once

#include "core/status.h"
#include "io/gguf.h"
#include "model/config.h"

namespace arbiter {

Result<ModelConfig> parse_gguf_config(const GgufFile& gguf);

// Tensor names of a classification head in GGUF files; the labels live in `<arch>.classifier.output_labels`.
inline constexpr const char* kGgufClassifierWeight = "cls.output.weight";
inline constexpr const char* kGgufClassifierBias = "cls.output.bias";

}  // namespace arbiter
