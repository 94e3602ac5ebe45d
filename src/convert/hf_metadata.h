// config.json -> the GGUF metadata the canonical converter writes for each architecture (general.*,
// <arch>.* hyperparameters), plus the classifier keys of sequence-classification models.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "convert/metadata.h"
#include "convert/quant_plan.h"
#include "core/status.h"
#include "model/config.h"

namespace arbiter {

// The architecture name GGUF files use: Mistral is written as llama, as the canonical converter does.
const char* gguf_arch_name(Architecture arch);

// `config_json` is config.json parsed, `config` what parse_hf_config made of it, `model_name` the
// general.name, `parameter_count` the elements of all tensors written.
Result<GgufMetadata> model_metadata(const ModelConfig& config, const nlohmann::json& config_json,
                                    const std::string& model_name, const OutputType& type, int64_t parameter_count);

// "llama-bf16" -> "Llama Bf16": the directory name with words title-cased, as the converter names models.
std::string model_name_from_dir(const std::string& dir);

// gguf-py's size label: "213K", "1.5B", ...
std::string size_label(int64_t parameter_count);

}  // namespace arbiter
