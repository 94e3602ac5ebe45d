// The tokenizer of a Hugging Face directory as GGUF tokenizer.* metadata, so the GGUF alone is enough:
// - tokenizer.model (SentencePiece): model "llama", pieces + scores + token types, the normalizer flags
//   (add_space_prefix, remove_extra_whitespaces, precompiled_charsmap) and the unknown id;
// - tokenizer.json with a byte-level BPE: model "gpt2", tokens + merges + token types and the
//   pre-tokenizer name (tokenizer.ggml.pre) recognised from its split regex.
// Both: bos/eos/pad ids (tokenizer_config.json's tokens, else config.json's ids), add_bos/add_eos as the
// directory's tokenizer applies them, and tokenizer.chat_template.
#pragma once

#include <string>

#include "convert/metadata.h"
#include "core/status.h"
#include "model/config.h"

namespace arbiter {

Status add_vocab_metadata(const std::string& dir, const ModelConfig& config, GgufMetadata& metadata);

}  // namespace arbiter
