#include "model/tokenizer_class.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/json_text.h"
#include "core/mapped_file.h"

namespace arbiter {

namespace {

// The string `key` of the JSON object in `path`, or "" when the file, the object or the string is not there.
std::string string_field(const std::filesystem::path& path, const char* key) {
  if (!std::filesystem::exists(path)) return "";
  auto text = read_file(path.string());
  if (!text) return "";
  auto j = parse_json_text(*text);
  if (!j || !j->is_object()) return "";
  auto it = j->find(key);
  return it != j->end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

SpmReader sentencepiece_reader_for(const std::string& dir) {
  const std::filesystem::path folder(dir);
  const std::string tokenizer_class = string_field(folder / "tokenizer_config.json", "tokenizer_class");
  if (!tokenizer_class.empty()) {
    return tokenizer_class == "GemmaTokenizer" || tokenizer_class == "GemmaTokenizerFast" ? SpmReader::kGemma
                                                                                          : SpmReader::kModelSettings;
  }
  // transformers' TOKENIZER_MAPPING for the Gemma architectures arbiter runs and their text-only forms.
  const std::string model_type = string_field(folder / "config.json", "model_type");
  if (model_type == "gemma" || model_type == "gemma2" || model_type == "gemma3" || model_type == "gemma3_text")
    return SpmReader::kGemma;
  return SpmReader::kModelSettings;
}

}  // namespace arbiter
