// Hugging Face tensor names -> GGUF names, for the architectures arbiter runs, and the list of tensors
// a model of a given config must have.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/config.h"

namespace arbiter {

enum class TensorFate { kConvert, kSkip, kUnknown };

struct MappedName {
  TensorFate fate = TensorFate::kUnknown;
  std::string gguf;  // kConvert: the GGUF name
};

// `hf_name` with or without the "model." prefix of a bare-model checkpoint. Skipped: a tied model's
// lm_head copy, rotary inverse-frequency buffers.
MappedName map_hf_tensor_name(const ModelConfig& config, const std::string& hf_name);

// The HF names (with "model.") every checkpoint of this config must hold.
std::vector<std::string> required_hf_tensors(const ModelConfig& config);

}  // namespace arbiter
