// Writes a Model as a Hugging Face directory (config.json + model.safetensors) with transformers' names,
// so other tools (and arbiter itself) load it. Used by `arbiter create-model` for test and demo models.
#pragma once

#include <string>

#include "core/status.h"
#include "model/model.h"

namespace arbiter {

// Matrices are written in their stored type when it is F32/F16/BF16 and dequantized to F32 otherwise.
Status write_hf_model(const Model& model, const std::string& dir);

// The config.json text for a config (architectures, sizes, rope, labels, ...).
std::string hf_config_json(const ModelConfig& config);

}  // namespace arbiter
