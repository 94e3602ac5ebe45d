// What a model path names. A Hugging Face directory holds config.json; a directory that holds none but a
// GGUF model (a download folder, a model's GGUF repository) names that model: the one .gguf file in it,
// or the first file of a split one.
#pragma once

#include <optional>
#include <string>

#include "core/status.h"

namespace arbiter {

// The GGUF model in directory `dir`, when it holds exactly one (a split model counts once, by its first
// file); nullopt when it holds none; an error listing them when it holds several.
Result<std::optional<std::string>> gguf_model_in_directory(const std::string& dir);

// Whether `output` is a file the model at `model_path` is read from: the path itself (a GGUF file), a
// file of its directory that a model is read from (a Hugging Face folder's config, weights, tokenizer and
// template files; a GGUF folder's .gguf files), or one of the other files of a split GGUF. An output that
// is would replace the model; other files in the folder are not the model's.
bool model_reads_file(const std::string& model_path, const std::string& output);

}  // namespace arbiter
