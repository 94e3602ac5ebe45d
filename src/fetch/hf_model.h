// `arbiter pull hf://ORG/REPO[@REV]`: a Hugging Face model repository as the folder arbiter loads, for the
// many reward models published only as safetensors. Which of these files the repository has comes from the
// Hub's listing (one request; by name, 404s allowed, where the listing cannot be had):
//   config.json                                       required
//   model.safetensors.index.json and the shards its weight_map names, else model.safetensors
//   tokenizer.json, tokenizer.model, tokenizer_config.json, special_tokens_map.json,
//   generation_config.json, chat_template.jinja        when the repository has them
// Each file is an ordinary cache entry (resumable, hashed, checked against the listing's record) and is
// hard-linked into the model's folder; those names the repository no longer has leave the folder.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "fetch/fetch.h"
#include "fetch/hf_listing.h"

namespace arbiter::fetch {

// Whether `source` names a whole model repository: hf://ORG/REPO or hf://ORG/REPO@REV (no file path).
bool is_hf_model_repository(const std::string& source);

// Fetches the repository's files into one folder and returns it: options.out_path when given, else
// CACHE/<hash of the repository and revision>/<REPO>. options.expected_sha256 must be empty (one hash
// cannot check several files). A repository without config.json that holds GGUF files (a model's GGUF
// release) is listed: its one GGUF model is pulled and its (first) file returned; with several, the error
// names each as a source to pass instead.
Result<std::string> fetch_hf_model(const std::string& source, const FetchOptions& options);

// Whether `source` is hf://ORG/REPO[@REV]/PATTERN, a pattern (*, ? or [...]) over the repository's paths.
bool is_hf_model_pattern(const std::string& source);

// The one GGUF model of the repository with a file matching the pattern, case-insensitively (quant tags are
// written Q4_K_M and q4_k_m alike; '*' does not cross '/'): pulled, every file of a split model, and its
// first file returned. No match, or several models, is an error listing the repository's GGUF models.
Result<std::string> fetch_hf_model_pattern(const std::string& source, const FetchOptions& options);

// Of a repository's files, the GGUF model a pattern (empty: any) selects: the path of its first file.
// A split model's files (NAME-0000k-of-0000N.gguf) count as one model; multimodal projectors (mmproj*)
// are not models. `source` names the selection in errors, `source_prefix` + "/" + path a suggestion.
Result<std::string> choose_gguf_model(const std::vector<RepoFile>& listing, const std::string& pattern,
                                      const std::string& source, const std::string& source_prefix);

}  // namespace arbiter::fetch
