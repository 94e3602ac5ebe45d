// The text assets that travel with a model: its tokenizer and chat template, found inside the GGUF
// metadata or next to the safetensors (tokenizer.json, tokenizer.model, tokenizer_config.json).
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "model/model.h"

namespace arbiter {

class Tokenizer;

struct TextAssets {
  std::string tokenizer_kind;       // "gguf:llama", "tokenizer.json:BPE", "sentencepiece", or "" when none
  std::string tokenizer_json_path;  // HF directory files, when present
  std::string tokenizer_model_path;
  std::string tokenizer_config_path;
  bool has_chat_template = false;
  std::string chat_template;        // the default template's source
  std::string tool_use_template;    // a named "tool_use" template (Hermes 2 Pro, Command R), or ""
  std::string bos_token, eos_token; // strings the template may use
};

TextAssets describe_text_assets(const Model& model);

// The template transformers renders with: the "tool_use" one where tools are given and the model names
// one, else the default.
const std::string& chat_template_for(const TextAssets& assets, bool tools_given);

// A fingerprint (16 hex digits) of what the model's tokenizer is read from, less the chat template (which
// run records keep apart): a GGUF file's tokenizer.* metadata, or a directory's tokenizer.json,
// tokenizer.model and tokenizer_config.json. "" when there is none. Editing a vocabulary, a merge, a
// normalizer or add_bos_token changes every token id a run computes.
std::string tokenizer_fingerprint(const Model& model);
Result<std::shared_ptr<Tokenizer>> load_model_tokenizer(const Model& model);

// The same for a path alone (a GGUF file, or a directory that may hold only tokenizer files), so the
// text tools work without loading weights.
Result<TextAssets> describe_text_assets_at(const std::string& path);
Result<std::shared_ptr<Tokenizer>> load_tokenizer_at(const std::string& path);

}  // namespace arbiter
