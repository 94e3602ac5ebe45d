// `arbiter pull hf://ORG/REPO[@REV]`: a Hugging Face model repository as the folder arbiter loads, for the
// many reward models published only as safetensors. Fetched by name, without the Hub's listing API:
//   config.json                                       required
//   model.safetensors.index.json and the shards its weight_map names, else model.safetensors
//   tokenizer.json, tokenizer.model, tokenizer_config.json, special_tokens_map.json,
//   generation_config.json, chat_template.jinja        when the repository has them
// Each file is an ordinary cache entry (resumable, hashed) and is hard-linked into the model's folder.
#pragma once

#include <string>

#include "core/status.h"
#include "fetch/fetch.h"

namespace arbiter::fetch {

// Whether `source` names a whole model repository: hf://ORG/REPO or hf://ORG/REPO@REV (no file path).
bool is_hf_model_repository(const std::string& source);

// Fetches the repository's files into one folder and returns it: options.out_path when given, else
// CACHE/<hash of the repository and revision>/<REPO>. options.expected_sha256 must be empty (one hash
// cannot check several files).
Result<std::string> fetch_hf_model(const std::string& source, const FetchOptions& options);

}  // namespace arbiter::fetch
