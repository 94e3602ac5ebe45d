// What tokenizer_config.json (and added_tokens.json) add to a tokenizer's own file: the special tokens
// by name, whether BOS / EOS are added, and the tokens added at fine-tuning (ChatML's <|im_start|> on a
// Llama-2 or Mistral base), which a SentencePiece model file knows nothing of.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "text/tokenizer.h"

namespace arbiter {

// Resolves bos/eos/pad/unk_token by content and applies add_bos_token / add_eos_token: always for a
// SentencePiece model (transformers' slow Llama tokenizer reads them), else only for the tokenizer
// classes whose fast tokenizer rebuilds its post-processor from them (Llama, Gemma, CodeLlama).
Status apply_tokenizer_config(const nlohmann::json& tokenizer_config, const std::unordered_map<std::string, int32_t>& ids,
                              TokenizerConfig& config, bool always_add_flags);

// The tokens tokenizer_config.json's added_tokens_decoder lists, then those of added_tokens.json
// ({"<|im_end|>": 32000}, special when tokenizer_config.json names them a special token) that it does not.
// `added_tokens_json` may be null. model_entries: the model file's count of pieces, which with the tokens
// listed bounds their ids (token_id_bound.h). Errors name the field.
Result<std::vector<AddedToken>> added_tokens_of(const nlohmann::json& tokenizer_config, const nlohmann::json* added_tokens_json,
                                                size_t model_entries);

}  // namespace arbiter
