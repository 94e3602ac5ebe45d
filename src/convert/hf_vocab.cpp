#include "convert/hf_vocab.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/log.h"
#include "core/mapped_file.h"
#include "model/tokenizer_class.h"
#include "text/pretokenize.h"
#include "text/sentencepiece.h"
#include "text/tokenizer.h"

namespace arbiter {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// llama_token_type, the values of tokenizer.ggml.token_type.
enum TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<float> scores;         // "llama" only
  std::vector<std::string> merges;   // "gpt2" only
  std::map<std::string, int32_t> ids;
};

// The converter pads a vocabulary shorter than config.json's vocab_size with unused "[PADi]" tokens.
Status pad_to_vocab_size(Vocab& v, int64_t vocab_size, bool with_scores, const std::string& source) {
  if (int64_t(v.tokens.size()) > vocab_size) {
    return error(source + ": " + std::to_string(v.tokens.size()) + " tokens, more than config.json's vocab_size " +
                 std::to_string(vocab_size));
  }
  for (int64_t id = int64_t(v.tokens.size()); id < vocab_size; ++id) {
    v.tokens.push_back("[PAD" + std::to_string(id) + "]");
    v.types.push_back(kUnused);
    if (with_scores) v.scores.push_back(-1000.0f);
  }
  return Status::ok();
}

// `added`: the tokens the directory's tokenizer adds to the model file's pieces (tokenizer.json's
// added_tokens, tokenizer_config.json's added_tokens_decoder, added_tokens.json), written in their ids'
// places as control tokens (special) or user-defined ones, as the canonical converter writes them.
// `reader`: the tokenizer class that reads the file, whose normalizer settings are written (Gemma's own,
// not the file's).
Status add_sentencepiece(const std::string& path, const ModelConfig& config, const std::vector<AddedToken>& added,
                         SpmReader reader, GgufMetadata& md, Vocab& v) {
  ARB_ASSIGN(std::string bytes, read_file(path));
  auto parsed = parse_spm_model(bytes);
  if (!parsed) return parsed.status().with_context(path);
  const SpmModel spm = as_read_by(std::move(parsed).value(), reader);
  for (const SpmPiece& piece : spm.pieces) {
    int32_t type = kNormal;
    switch (piece.type) {
      case SpmPieceType::kUnknown: type = kUnknown; break;
      case SpmPieceType::kControl: type = kControl; break;
      case SpmPieceType::kUserDefined: type = kUserDefined; break;
      case SpmPieceType::kUnused: type = kUnused; break;
      case SpmPieceType::kByte: type = kByte; break;
      case SpmPieceType::kNormal: break;
    }
    v.ids.emplace(piece.piece, int32_t(v.tokens.size()));
    v.tokens.push_back(piece.piece);
    v.scores.push_back(piece.score);
    v.types.push_back(type);
  }
  for (const AddedToken& token : added) {
    const size_t id = size_t(token.id);
    const int32_t type = token.special ? kControl : kUserDefined;
    if (int64_t(id) >= config.vocab_size)
      return error(path + ": added token '" + token.content + "' has id " + std::to_string(id) +
                   ", outside config.json's vocab_size " + std::to_string(config.vocab_size));
    while (v.tokens.size() < id) {
      v.tokens.push_back("[PAD" + std::to_string(v.tokens.size()) + "]");
      v.types.push_back(kUnused);
      v.scores.push_back(-1000.0f);
    }
    if (id == v.tokens.size()) {
      v.tokens.push_back(token.content);
      v.types.push_back(type);
      v.scores.push_back(0.0f);
    } else if (v.tokens[id] != token.content || v.types[id] == kNormal || v.types[id] == kUnused) {
      // A piece the model file has under this id stays a control or unknown piece where it is the same text.
      if (const auto old = v.ids.find(v.tokens[id]); old != v.ids.end() && old->second == int32_t(id)) v.ids.erase(old);
      v.tokens[id] = token.content;
      v.types[id] = type;
    }
    v.ids[token.content] = int32_t(id);
  }
  ARB_TRY(pad_to_vocab_size(v, config.vocab_size, true, path));
  set_metadata(md, "tokenizer.ggml.model", GgufValue::from_string("llama"));
  set_metadata(md, "tokenizer.ggml.pre", GgufValue::from_string("default"));
  set_metadata(md, "tokenizer.ggml.tokens", GgufValue::from_strings(v.tokens));
  set_metadata(md, "tokenizer.ggml.scores", GgufValue::from_f32s(v.scores));
  set_metadata(md, "tokenizer.ggml.token_type", GgufValue::from_i32s(v.types));
  // The normalizer flags the directory's tokenizer applies, so a GGUF reader splits text as it does.
  set_metadata(md, "tokenizer.ggml.add_space_prefix", GgufValue::from_bool(spm.add_dummy_prefix));
  set_metadata(md, "tokenizer.ggml.remove_extra_whitespaces", GgufValue::from_bool(spm.remove_extra_whitespaces));
  // The normalization rules (usually NFKC), which change ids for text such as "\n" or "™".
  if (!spm.precompiled_charsmap.empty()) {
    GgufValue charsmap;
    charsmap.type = GgufType::ARRAY;
    charsmap.array_type = GgufType::UINT8;
    for (unsigned char byte : spm.precompiled_charsmap) {
      GgufValue b;
      b.type = GgufType::UINT8;
      b.u = byte;
      charsmap.array.push_back(b);
    }
    set_metadata(md, "tokenizer.ggml.precompiled_charsmap", std::move(charsmap));
  }
  if (spm.unk_id >= 0 && spm.unk_id < int32_t(v.tokens.size())) {
    set_metadata(md, "tokenizer.ggml.unknown_token_id", GgufValue::from_u32(uint32_t(spm.unk_id)));
  }
  return Status::ok();
}

// tokenizer.ggml.pre from the Split regex of a byte-level pre-tokenizer, or from SmolLM's digits-then-
// GPT-2 sequence.
Result<std::string> pre_tokenizer_name(const json& pre, const std::string& path) {
  std::vector<const json*> steps;
  if (pre.is_object() && pre.value("type", "") == "Sequence" && pre.contains("pretokenizers")) {
    for (const json& s : pre["pretokenizers"])
      if (s.is_object()) steps.push_back(&s);
  } else if (pre.is_object()) {
    steps.push_back(&pre);
  }
  for (const json* s : steps) {
    if (s->value("type", "") != "Split" || !s->contains("pattern")) continue;
    const json& pattern = (*s)["pattern"];
    const std::string regex = pattern.is_object() && pattern.contains("Regex") && pattern["Regex"].is_string()
                                  ? pattern["Regex"].get<std::string>()
                                  : "";
    if (regex == kQwen2Pattern) return std::string("qwen2");
    if (regex == kLlama3Pattern) return std::string("llama-bpe");
    if (regex == kGpt2Pattern) return std::string("gpt-2");
    if (regex == kTekkenPattern) return std::string("tekken");
    return error(path + ": pre-tokenizer regex '" + regex +
                 "' is not one GGUF readers know (gpt-2, llama-bpe, qwen2, tekken)");
  }
  const bool single_digits = std::any_of(steps.begin(), steps.end(), [](const json* s) {
    return s->value("type", "") == "Digits" && s->value("individual_digits", false);
  });
  for (const json* s : steps) {
    if (s->value("type", "") == "ByteLevel" && s->value("use_regex", true))
      return std::string(single_digits ? "smollm" : "gpt-2");
  }
  return error(path + ": byte-level BPE without a recognised pre-tokenizer");
}

// A GGUF reader derives more than the split from tokenizer.ggml.pre: NFC for qwen2, ignore_merges for
// llama-bpe and tekken. Where the source tokenizer does otherwise, the name that matches it is taken
// (Llama 3's split without ignore_merges is smaug-bpe); where no name does, the file would encode some
// text otherwise than the directory, and a warning says which text.
std::string with_source_settings(const std::string& pre, const json& tokenizer, const std::string& path) {
  const json& model = tokenizer["model"];
  const bool ignore_merges = model.contains("ignore_merges") && model["ignore_merges"].is_boolean() &&
                             model["ignore_merges"].get<bool>();
  const json normalizer = tokenizer.value("normalizer", json());
  std::vector<std::string> kinds;
  if (normalizer.is_object() && normalizer.value("type", "") == "Sequence" && normalizer.contains("normalizers") &&
      normalizer["normalizers"].is_array()) {
    for (const json& n : normalizer["normalizers"])
      if (n.is_object()) kinds.push_back(n.value("type", ""));
  } else if (normalizer.is_object()) {
    kinds.push_back(normalizer.value("type", ""));
  }
  const bool nfc = kinds.size() == 1 && kinds[0] == "NFC";
  if (!kinds.empty() && !nfc)
    log_warn(path + ": its normalizer (" + normalizer.value("type", "") + ") is not one GGUF can carry: text it changes "
             "will encode otherwise from the GGUF file");
  std::string chosen = pre;
  if (pre == "llama-bpe" && !ignore_merges) chosen = "smaug-bpe";
  const bool implies_nfc = chosen == "qwen2";
  const bool implies_ignore = chosen == "llama-bpe" || chosen == "tekken";
  if (implies_nfc && !nfc)
    log_warn(path + ": GGUF readers NFC-normalize the text of pre-tokenizer '" + chosen + "', which this tokenizer does "
             "not: text not in NFC (decomposed accents) will encode otherwise from the GGUF file");
  if (nfc && !implies_nfc)
    log_warn(path + ": this tokenizer NFC-normalizes its text, which GGUF readers of pre-tokenizer '" + chosen +
             "' do not: text not in NFC will encode otherwise from the GGUF file");
  if (ignore_merges != implies_ignore)
    log_warn(path + ": model.ignore_merges is " + (ignore_merges ? "true" : "false") + ", where GGUF readers of pre-" +
             "tokenizer '" + chosen + "' take it as " + (implies_ignore ? "true" : "false") +
             ": some words will encode otherwise from the GGUF file");
  return chosen;
}

Status add_byte_level_bpe(const std::string& path, const ModelConfig& config, GgufMetadata& md, Vocab& v) {
  ARB_ASSIGN(std::string text, read_file(path));
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object()) return error(path + ": not a tokenizer.json");
  const json& model = j["model"];
  if (model.value("type", "") != "BPE") {
    return error(path + ": tokenizer model '" + model.value("type", "") + "' is not supported for GGUF (BPE only)");
  }
  ARB_ASSIGN(std::string pre, pre_tokenizer_name(j.value("pre_tokenizer", json()), path));
  pre = with_source_settings(pre, j, path);
  if (!model.contains("vocab") || !model["vocab"].is_object()) return error(path + ": model.vocab is missing");

  std::map<int64_t, std::string> by_id;
  std::map<int64_t, bool> added_special;
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
    if (!it.value().is_number_integer()) return error(path + ": vocab entry '" + it.key() + "' has no integer id");
    by_id[it.value().get<int64_t>()] = it.key();
  }
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const json& t : j["added_tokens"]) {
      if (!t.contains("id") || !t["id"].is_number_integer() || !t.contains("content")) continue;
      const int64_t id = t["id"].get<int64_t>();
      by_id[id] = t["content"].get<std::string>();
      added_special[id] = t.value("special", false);
    }
  }
  const int64_t vocab_size = std::max<int64_t>(config.vocab_size, by_id.empty() ? 0 : by_id.rbegin()->first + 1);
  if (vocab_size > config.vocab_size) {
    return error(path + ": token id " + std::to_string(vocab_size - 1) + " is outside config.json's vocab_size " +
                 std::to_string(config.vocab_size));
  }
  for (int64_t id = 0; id < vocab_size; ++id) {
    auto found = by_id.find(id);
    if (found == by_id.end()) {
      v.tokens.push_back("[PAD" + std::to_string(id) + "]");
      v.types.push_back(kUnused);
      continue;
    }
    auto added = added_special.find(id);
    v.types.push_back(added == added_special.end() ? kNormal : added->second ? kControl : kUserDefined);
    v.ids.emplace(found->second, int32_t(id));
    v.tokens.push_back(found->second);
  }
  if (model.contains("merges") && model["merges"].is_array()) {
    for (const json& m : model["merges"]) {
      // Older files write "a b", newer ones ["a", "b"]; GGUF stores the former.
      if (m.is_string()) v.merges.push_back(m.get<std::string>());
      else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
        v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      else return error(path + ": a merge is neither \"a b\" nor [\"a\", \"b\"]");
    }
  }
  set_metadata(md, "tokenizer.ggml.model", GgufValue::from_string("gpt2"));
  set_metadata(md, "tokenizer.ggml.pre", GgufValue::from_string(pre));
  set_metadata(md, "tokenizer.ggml.tokens", GgufValue::from_strings(v.tokens));
  set_metadata(md, "tokenizer.ggml.token_type", GgufValue::from_i32s(v.types));
  set_metadata(md, "tokenizer.ggml.merges", GgufValue::from_strings(v.merges));
  return Status::ok();
}

// tokenizer_config.json writes special tokens as strings or {"content": ...}.
std::optional<std::string> token_string(const json& j, const char* key) {
  if (!j.contains(key)) return std::nullopt;
  const json& t = j[key];
  if (t.is_string()) return t.get<std::string>();
  if (t.is_object() && t.contains("content") && t["content"].is_string()) return t["content"].get<std::string>();
  return std::nullopt;
}

void add_special_ids(const json& tokenizer_config, const ModelConfig& config, const Vocab& v, GgufMetadata& md) {
  struct Special {
    const char* config_key;
    const char* gguf_key;
    int64_t config_id;
  };
  const Special specials[] = {{"bos_token", "tokenizer.ggml.bos_token_id", config.bos_token_id},
                              {"eos_token", "tokenizer.ggml.eos_token_id", config.eos_token_id},
                              {"pad_token", "tokenizer.ggml.padding_token_id", config.pad_token_id}};
  for (const Special& s : specials) {
    int64_t id = s.config_id;
    // A classifier is read at its last token that is not config.json's pad_token_id (transformers'
    // pooling), whatever the tokenizer pads with: that id is the one the file must keep, and none when
    // config.json has none (transformers then reads the last token).
    const bool classifier_pad = std::string(s.config_key) == "pad_token" && config.is_classifier();
    if (auto text = token_string(tokenizer_config, s.config_key); text && !classifier_pad) {
      auto found = v.ids.find(*text);
      if (found != v.ids.end()) id = found->second;
    }
    if (id >= 0 && id < int64_t(v.tokens.size())) set_metadata(md, s.gguf_key, GgufValue::from_u32(uint32_t(id)));
  }
}

void add_chat_templates(const json& tokenizer_config, const fs::path& dir, GgufMetadata& md) {
  // The template's own file replaces tokenizer_config.json's entry whole (named templates too), as
  // transformers reads them; named templates saved as files (additional_chat_templates/NAME.jinja) are
  // read after either.
  const auto file_template = fs::exists(dir / "chat_template.jinja") ? read_file((dir / "chat_template.jinja").string())
                                                                       : Result<std::string>(error("none"));
  if (file_template) set_metadata(md, "tokenizer.chat_template", GgufValue::from_string(*file_template));
  if (tokenizer_config.contains("chat_template") && !file_template) {
    const json& t = tokenizer_config["chat_template"];
    if (t.is_string()) {
      set_metadata(md, "tokenizer.chat_template", GgufValue::from_string(t.get<std::string>()));
    } else if (t.is_array()) {  // named templates: "default" is the template, the others keep their names
      for (const json& item : t) {
        if (!item.is_object() || !item.contains("name") || !item.contains("template") || !item["template"].is_string()) continue;
        const std::string name = item["name"].get<std::string>();
        const std::string key = name == "default" ? "tokenizer.chat_template" : "tokenizer.chat_template." + name;
        set_metadata(md, key, GgufValue::from_string(item["template"].get<std::string>()));
      }
    }
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir / "additional_chat_templates", ec)) {
    if (entry.path().extension() != ".jinja") continue;
    if (auto text = read_file(entry.path().string()))
      set_metadata(md, "tokenizer.chat_template." + entry.path().stem().string(), GgufValue::from_string(*text));
  }
}

Status add_vocab_metadata_unchecked(const std::string& dir_path, const ModelConfig& config, GgufMetadata& md) {
  const fs::path dir(dir_path);
  const std::string spm_path = (dir / "tokenizer.model").string();
  const std::string json_path = (dir / "tokenizer.json").string();
  const std::string config_path = (dir / "tokenizer_config.json").string();
  json tokenizer_config = json::object();
  if (fs::exists(config_path)) {
    ARB_ASSIGN(std::string text, read_file(config_path));
    tokenizer_config = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!tokenizer_config.is_object()) return error(config_path + ": not a JSON object");
  }

  // SentencePiece first, as the canonical converter does: a tokenizer.json next to a tokenizer.model is
  // usually its conversion.
  Vocab v;
  std::shared_ptr<Tokenizer> reference;
  if (fs::exists(spm_path)) {
    // The directory's tokenizer as it loads: tokenizer.json where there is one (and arbiter reads it),
    // else the model file with tokenizer_config.json and added_tokens.json beside it. Its added tokens and
    // BOS / EOS flags go into the file; the model file alone knows neither.
    const std::string added_path = (dir / "added_tokens.json").string();
    const std::string config_or_none = fs::exists(config_path) ? config_path : "";
    if (fs::exists(json_path)) {
      auto from_json = Tokenizer::from_tokenizer_json(json_path, config_or_none);
      if (from_json) reference = *from_json;
      else log_warn(json_path + ": not read (" + from_json.message() + "); the tokenizer is taken from tokenizer.model");
    }
    const SpmReader reader = sentencepiece_reader_for(dir_path);
    if (!reference) {
      ARB_ASSIGN(reference, Tokenizer::from_sentencepiece_model(spm_path, config_or_none,
                                                                fs::exists(added_path) ? added_path : "", reader));
    }
    ARB_TRY(add_sentencepiece(spm_path, config, reference->config().added_tokens, reader, md, v));
    if (reference->config().prepend_at_input_start_only)
      log_warn(config_path + ": \"legacy\": false (a word-start mark only where the input begins) has no GGUF key: "
               "readers of the file mark text after each special token too, so chat-formatted text encodes otherwise");
  } else if (fs::exists(json_path)) {
    ARB_TRY(add_byte_level_bpe(json_path, config, md, v));
    ARB_ASSIGN(reference, Tokenizer::from_tokenizer_json(json_path, fs::exists(config_path) ? config_path : ""));
  } else {
    return error(dir_path + ": no tokenizer (tokenizer.model or tokenizer.json)");
  }
  add_special_ids(tokenizer_config, config, v, md);

  // BOS/EOS as the directory's tokenizer adds them, so encoding from the GGUF gives the same ids.
  const TokenizerConfig& rc = reference->config();
  const GgufValue* bos = find_metadata(md, "tokenizer.ggml.bos_token_id");
  const GgufValue* eos = find_metadata(md, "tokenizer.ggml.eos_token_id");
  const bool add_bos = rc.prefix_ids.size() == 1 && bos != nullptr && int64_t(bos->u) == rc.prefix_ids[0];
  const bool add_eos = rc.suffix_ids.size() == 1 && eos != nullptr && int64_t(eos->u) == rc.suffix_ids[0];
  if (rc.prefix_ids.size() > size_t(add_bos ? 1 : 0) || rc.suffix_ids.size() > size_t(add_eos ? 1 : 0)) {
    log_warn(dir_path + ": the tokenizer's post-processor adds tokens GGUF cannot express beyond BOS/EOS");
  }
  set_metadata(md, "tokenizer.ggml.add_bos_token", GgufValue::from_bool(add_bos));
  set_metadata(md, "tokenizer.ggml.add_eos_token", GgufValue::from_bool(add_eos));
  add_chat_templates(tokenizer_config, dir, md);
  return Status::ok();
}

}  // namespace

Status add_vocab_metadata(const std::string& dir_path, const ModelConfig& config, GgufMetadata& md) {
  // nlohmann throws on a value of the wrong type inside well-formed JSON (a non-string token, a
  // non-boolean flag); the boundary turns that into an error naming the directory.
  try {
    return add_vocab_metadata_unchecked(dir_path, config, md);
  } catch (const std::exception& e) {
    return error(dir_path + ": tokenizer files: " + e.what());
  }
}

}  // namespace arbiter
