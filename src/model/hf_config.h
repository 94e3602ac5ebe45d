// Hugging Face config.json -> ModelConfig. Accepts both spellings of RoPE settings: transformers 5's
// `rope_parameters` and the older top-level `rope_theta` + `rope_scaling` most checkpoints still carry.
#pragma once

#include <string>

#include "core/status.h"
#include "model/config.h"

namespace arbiter {

// `json_text` is the content of config.json; `path` names it in errors.
Result<ModelConfig> parse_hf_config(const std::string& json_text, const std::string& path);

}  // namespace arbiter
