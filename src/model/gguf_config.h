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
// A two-layer head's first layer (Linear + ReLU). Not llama.cpp's `cls.weight`, which it follows by tanh:
// a file with this head is refused there rather than read wrongly.
inline constexpr const char* kGgufClassifierHiddenWeight = "cls.relu.weight";
inline constexpr const char* kGgufClassifierHiddenBias = "cls.relu.bias";

}  // namespace arbiter
