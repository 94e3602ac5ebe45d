#include "model/model_tokenizer.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/fnv1a.h"
#include "core/json_text.h"
#include "core/mapped_file.h"
#include "io/gguf.h"
#include "model/model_path.h"
#include "model/tokenizer_class.h"
#include "text/tokenizer.h"

namespace arbiter {

namespace {

namespace fs = std::filesystem;

// tokenizer_config.json writes special tokens as strings or as {"content": ...} objects.
std::string token_string(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) return j["content"].get<std::string>();
  return "";
}

void read_tokenizer_config(const std::string& path, TextAssets& assets) {
  auto text = read_file(path);
  if (!text) return;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return;
  if (j.contains("chat_template")) {
    const auto& t = j["chat_template"];
    if (t.is_string()) {
      assets.chat_template = t.get<std::string>();
    } else if (t.is_array()) {  // named templates: "default", and "tool_use" for renders with tools
      for (const auto& item : t) {
        if (!item.is_object() || !item.contains("template") || !item["template"].is_string() || !item.contains("name") ||
            !item["name"].is_string())
          continue;
        const std::string name = item["name"].get<std::string>();
        if (name == "default") assets.chat_template = item["template"].get<std::string>();
        if (name == "tool_use") assets.tool_use_template = item["template"].get<std::string>();
      }
    }
  }
  if (j.contains("bos_token")) assets.bos_token = token_string(j["bos_token"]);
  if (j.contains("eos_token")) assets.eos_token = token_string(j["eos_token"]);
}

}  // namespace

namespace {

TextAssets describe(const std::string& path, const GgufFile* gguf) {
  TextAssets assets;
  if (gguf != nullptr) {
    const GgufFile& g = *gguf;
    if (auto kind = g.get_string("tokenizer.ggml.model")) assets.tokenizer_kind = "gguf:" + *kind;
    if (auto t = g.get_string("tokenizer.chat_template")) assets.chat_template = *t;
    if (auto t = g.get_string("tokenizer.chat_template.tool_use")) assets.tool_use_template = *t;
    auto tokens = g.get_string_array("tokenizer.ggml.tokens");
    auto token_at = [&](const char* key) -> std::string {
      auto id = g.get_int(key);
      if (!id || !tokens.is_ok() || *id < 0 || size_t(*id) >= tokens->size()) return "";
      return (*tokens)[size_t(*id)];
    };
    assets.bos_token = token_at("tokenizer.ggml.bos_token_id");
    assets.eos_token = token_at("tokenizer.ggml.eos_token_id");
  } else {
    const fs::path dir(path);
    if (fs::exists(dir / "tokenizer.json")) {
      assets.tokenizer_json_path = (dir / "tokenizer.json").string();
      assets.tokenizer_kind = "tokenizer.json";
    }
    if (fs::exists(dir / "tokenizer.model")) {
      assets.tokenizer_model_path = (dir / "tokenizer.model").string();
      if (assets.tokenizer_kind.empty()) assets.tokenizer_kind = "sentencepiece";
    }
    if (fs::exists(dir / "tokenizer_config.json")) {
      assets.tokenizer_config_path = (dir / "tokenizer_config.json").string();
      read_tokenizer_config(assets.tokenizer_config_path, assets);
    }
    // transformers saves the template in its own file now, and the file wins over a copy in
    // tokenizer_config.json (often the older one, left behind by an update).
    // The file replaces tokenizer_config.json's entry whole, named templates included.
    if (fs::exists(dir / "chat_template.jinja")) {
      if (auto t = read_file((dir / "chat_template.jinja").string())) assets.chat_template = *t;
      assets.tool_use_template.clear();
    }
    // Named templates saved as files of their own (additional_chat_templates/NAME.jinja).
    if (fs::exists(dir / "additional_chat_templates" / "tool_use.jinja")) {
      if (auto t = read_file((dir / "additional_chat_templates" / "tool_use.jinja").string())) assets.tool_use_template = *t;
    }
  }
  assets.has_chat_template = !assets.chat_template.empty();
  return assets;
}

Result<std::shared_ptr<Tokenizer>> load_from_assets(const std::string& path, const TextAssets& assets) {
  if (!assets.tokenizer_json_path.empty())
    return Tokenizer::from_tokenizer_json(assets.tokenizer_json_path, assets.tokenizer_config_path);
  if (!assets.tokenizer_model_path.empty()) {
    const std::filesystem::path added = std::filesystem::path(assets.tokenizer_model_path).parent_path() / "added_tokens.json";
    return Tokenizer::from_sentencepiece_model(assets.tokenizer_model_path, assets.tokenizer_config_path,
                                               std::filesystem::exists(added) ? added.string() : "",
                                               sentencepiece_reader_for(added.parent_path().string()));
  }
  return error(path + ": no tokenizer found (tokenizer.json or tokenizer.model)");
}

}  // namespace

TextAssets describe_text_assets(const Model& model) { return describe(model.path, model.gguf.get()); }

const std::string& chat_template_for(const TextAssets& assets, bool tools_given) {
  return tools_given && !assets.tool_use_template.empty() ? assets.tool_use_template : assets.chat_template;
}

namespace {

// A metadata value's bytes, typed, so that 1 and "1" differ.
void append_value(std::string& bytes, const GgufValue& value) {
  bytes += std::to_string(int(value.type)) + ':';
  switch (value.type) {
    case GgufType::STRING: bytes += std::to_string(value.str.size()) + ':' + value.str; break;
    case GgufType::ARRAY:
      bytes += std::to_string(value.array.size()) + '[';
      for (const GgufValue& item : value.array) append_value(bytes, item);
      bytes += ']';
      break;
    default:
      if (const auto number = value.as_double()) {
        char text[40];
        std::snprintf(text, sizeof text, "%.17g;", *number);
        bytes += text;
      }
  }
}

bool is_chat_template_key(const std::string& key) { return key.rfind("tokenizer.chat_template", 0) == 0; }

}  // namespace

std::string tokenizer_fingerprint(const Model& model) {
  std::string bytes;
  if (model.gguf) {
    for (const auto& [key, value] : model.gguf->metadata()) {
      if (key.rfind("tokenizer.", 0) != 0 || is_chat_template_key(key)) continue;
      bytes += key + '=';
      append_value(bytes, value);
    }
  } else {
    const fs::path dir(model.path);
    std::error_code ec;
    for (const char* name : {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "added_tokens.json"}) {
      if (!fs::exists(dir / name, ec)) continue;
      Result<std::string> text = read_file((dir / name).string());
      if (!text) continue;
      std::string content = std::move(text).value();
      if (std::string(name) == "tokenizer_config.json") {
        // Small: parsed, less the chat template (kept apart).
        nlohmann::json parsed = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
        if (parsed.is_object()) {
          parsed.erase("chat_template");
          content = parsed.dump();
        }
      } else if (std::string(name) == "tokenizer.json") {
        // Up to tens of MB, which parsing would take half a second a run over: its layout dropped instead.
        content = json_without_layout(content);
      }
      bytes += std::string(name) + '=' + std::to_string(content.size()) + ':' + content;
    }
  }
  return bytes.empty() ? std::string() : fnv1a64_hex(bytes);
}

Result<std::shared_ptr<Tokenizer>> load_model_tokenizer(const Model& model) {
  if (model.gguf) return Tokenizer::from_gguf(*model.gguf);
  return load_from_assets(model.path, describe(model.path, nullptr));
}

namespace {

// The GGUF file a path stands for: the path itself, or the one GGUF model in a directory that holds no
// Hugging Face files (config.json, tokenizer.json, tokenizer.model); nullopt for a Hugging Face directory.
Result<std::optional<std::string>> gguf_at(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return std::optional<std::string>(path);
  for (const char* hf_file : {"config.json", "tokenizer.json", "tokenizer.model"})
    if (fs::exists(fs::path(path) / hf_file, ec)) return std::optional<std::string>();
  return gguf_model_in_directory(path);
}

}  // namespace

Result<TextAssets> describe_text_assets_at(const std::string& path) {
  ARB_ASSIGN(const std::optional<std::string> file, gguf_at(path));
  if (!file) return describe(path, nullptr);
  ARB_ASSIGN(auto gguf, GgufFile::open(*file));
  return describe(*file, gguf.get());
}

Result<std::shared_ptr<Tokenizer>> load_tokenizer_at(const std::string& path) {
  ARB_ASSIGN(const std::optional<std::string> file, gguf_at(path));
  if (!file) return load_from_assets(path, describe(path, nullptr));
  ARB_ASSIGN(auto gguf, GgufFile::open(*file));
  return Tokenizer::from_gguf(*gguf);
}

}  // namespace arbiter
