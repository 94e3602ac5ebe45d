// Tokenizer::from_gguf: the tokenizer.ggml.* metadata of a GGUF file, read the way llama.cpp reads it.
// - model "llama": SentencePiece-style BPE over tokens + scores (merge the pair whose concatenation has
//   the highest score), a space prefix, spaces as U+2581, byte fallback to <0xXX>;
// - model "gpt2": byte-level BPE over tokens + merges, pre-tokenizer regex chosen by tokenizer.ggml.pre.
// Token types: control and unknown tokens are special (matched with parse_special); user-defined ones
// are always matched.
#include <tuple>

#include "core/log.h"
#include "io/gguf.h"
#include "text/sentencepiece.h"
#include "text/string_index.h"
#include "text/tokenizer.h"
#include "text/unicode.h"

namespace arbiter {

namespace {

// llama_token_type
enum GgufTokenType : int64_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

std::optional<int32_t> optional_id(const GgufFile& gguf, const std::string& key, int32_t n) {
  auto v = gguf.get_int(key);
  if (!v) return std::nullopt;
  // Read as absent, as llama.cpp does, but said: a model that reads its reward at the EOS, or a template
  // that needs the token, then reports that it has none.
  if (*v < 0 || *v >= n) {
    log_warn(key + " is " + std::to_string(*v) + ", outside the " + std::to_string(n) + " tokens: read as absent");
    return std::nullopt;
  }
  return static_cast<int32_t>(*v);
}

// A string key that may be absent; present with another type, it is an error rather than read as absent
// (tokenizer.ggml.pre read as absent would split text as GPT-2 does, silently, for any model).
Result<std::optional<std::string>> optional_string(const GgufFile& gguf, const std::string& key) {
  const GgufValue* value = gguf.find(key);
  if (value == nullptr) return std::optional<std::string>();
  if (value->type != GgufType::STRING)
    return Status::error(key + " is a " + gguf_type_name(value->type) + ", not a string");
  return std::optional<std::string>(value->str);
}

// tokenizer.ggml.pre -> how text is split before BPE, as llama.cpp maps the names the converter writes.
// The patterns are those of the models' tokenizer.json files, so encodings match transformers.
struct PreTokenizerChoice {
  std::vector<const char*> patterns;  // applied in order, each splitting the pieces of the one before (Isolated)
  bool nfc = false;                   // NFC-normalize first (Qwen2's tokenizer.json does)
  bool ignore_merges = false;         // a piece that is a whole vocabulary entry is taken as it is
  bool add_bos = false;               // BOS when the file has no tokenizer.ggml.add_bos_token
};

Result<PreTokenizerChoice> choose_pre(const std::string& pre) {
  if (pre.empty() || pre == "default" || pre == "gpt-2" || pre == "gpt2") return PreTokenizerChoice{{kGpt2Pattern}};
  // Llama 3 and the families converted with its tokenizer (Falcon3 among the llama-architecture ones).
  if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3" || pre == "falcon3")
    return PreTokenizerChoice{{kLlama3Pattern}, false, true, true};
  if (pre == "smaug-bpe") return PreTokenizerChoice{{kLlama3Pattern}};
  // Qwen2, Qwen2.5, Qwen3, and DeepSeek-R1's distillations into Qwen (the Qwen vocabulary).
  if (pre == "qwen2" || pre == "qwen2.5" || pre == "qwen-2.5" || pre == "deepseek-r1-qwen")
    return PreTokenizerChoice{{kQwen2Pattern}, true};
  // Mistral's Tekken (Mistral Nemo, Mistral Small 3, Ministral): case-aware words, single digits.
  if (pre == "tekken") return PreTokenizerChoice{{kTekkenPattern}, false, true, true};
  // SmolLM / SmolLM2: every digit alone, then GPT-2's words.
  if (pre == "smollm") return PreTokenizerChoice{{kSingleDigitPattern, kGpt2Pattern}};
  return Status::error("tokenizer.ggml.pre '" + pre +
                       "' is not supported (default, gpt-2, llama-bpe, falcon3, smaug-bpe, qwen2, deepseek-r1-qwen, "
                       "tekken, smollm)");
}

void add_typed_tokens(const std::vector<std::string>& tokens, const std::vector<int64_t>& types,
                      TokenizerConfig& config) {
  for (size_t id = 0; id < types.size() && id < tokens.size(); ++id) {
    int64_t type = types[id];
    if ((type != kControl && type != kUnknown && type != kUserDefined) || tokens[id].empty()) continue;
    AddedToken added;
    added.id = static_cast<int32_t>(id);
    added.content = tokens[id];
    added.special = type != kUserDefined;
    config.added_tokens.push_back(std::move(added));
  }
}

Result<TokenizerConfig> llama_config(const GgufFile& gguf, std::vector<std::string> tokens,
                                     const std::vector<int64_t>& types) {
  TokenizerConfig config;
  config.kind = "sentencepiece-bpe";
  ARB_ASSIGN(std::vector<float> scores, gguf.get_float_array("tokenizer.ggml.scores"));
  if (scores.size() != tokens.size()) {
    return Status::error("tokenizer.ggml.scores has " + std::to_string(scores.size()) + " entries for " +
                         std::to_string(tokens.size()) + " tokens");
  }
  config.model.order = BpeMergeOrder::kPieceScore;
  config.model.scores = std::move(scores);
  config.model.byte_fallback = true;
  config.model.pieces.resize(tokens.size());
  for (size_t id = 0; id < tokens.size(); ++id) {
    int64_t type = id < types.size() ? types[id] : kNormal;
    if (type != kControl && type != kUnknown) config.model.pieces[id] = tokens[id];
  }
  bool add_space_prefix = gguf.get_bool("tokenizer.ggml.add_space_prefix").value_or(true);
  // SentencePiece's normalization rules (usually NFKC), when the converter kept them.
  if (const GgufValue* charsmap = gguf.find("tokenizer.ggml.precompiled_charsmap");
      charsmap != nullptr && charsmap->type == GgufType::ARRAY && !charsmap->array.empty()) {
    std::string bytes;
    bytes.reserve(charsmap->array.size());
    for (const GgufValue& b : charsmap->array) bytes.push_back(static_cast<char>(b.u));
    NormalizerStep step;
    step.kind = NormalizerKind::kCharsmap;
    ARB_ASSIGN(step.charsmap, PrecompiledCharsmap::parse(bytes));
    config.normalizers.push_back(std::move(step));
  }
  if (gguf.get_bool("tokenizer.ggml.remove_extra_whitespaces").value_or(false)) {
    config.normalizers.push_back(NormalizerStep::of(NormalizerKind::kCollapseSpaces));
  }
  if (add_space_prefix) {
    NormalizerStep step;
    step.kind = NormalizerKind::kPrepend;
    step.content = " ";
    config.normalizers.push_back(std::move(step));
  }
  NormalizerStep escape;
  escape.kind = NormalizerKind::kReplace;
  ARB_ASSIGN(escape.pattern, Regex::compile(" ", true));
  escape.content = "\xE2\x96\x81";
  config.normalizers.push_back(std::move(escape));
  config.decoders = spm_decoders(add_space_prefix);
  config.tokens = std::move(tokens);
  ARB_TRY(add_spm_word_split(config));
  return config;
}

Result<TokenizerConfig> gpt2_config(const GgufFile& gguf, std::vector<std::string> tokens, bool* add_bos_default) {
  TokenizerConfig config;
  config.kind = "bpe (byte-level)";
  ARB_ASSIGN(std::optional<std::string> pre_name, optional_string(gguf, "tokenizer.ggml.pre"));
  ARB_ASSIGN(PreTokenizerChoice pre, choose_pre(pre_name.value_or("")));
  *add_bos_default = pre.add_bos;
  ARB_ASSIGN(std::vector<std::string> merges, gguf.get_string_array("tokenizer.ggml.merges"));
  // The model matches text mapped to byte-to-unicode characters: a token spelled otherwise is never found by
  // it (llama.cpp looks tokens up in that spelling too), so its piece stays empty.
  auto to_bytes = [](const std::string& token) {
    auto bytes = unicode_to_bytes(token);
    return bytes ? *bytes : std::string();
  };
  config.model.order = BpeMergeOrder::kRankedPairs;
  config.model.byte_level = true;
  config.model.ignore_merges = pre.ignore_merges;
  config.model.pieces.reserve(tokens.size());
  for (const std::string& t : tokens) config.model.pieces.push_back(to_bytes(t));
  // Merges name tokens as the vocabulary spells them (byte-to-unicode characters).
  const StringIndex token_index(tokens);
  auto id_of = [&](std::string_view token) { return token_index.find(token); };
  config.model.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const std::string_view merge = merges[i];
    size_t space = merge.find(' ', 1);
    if (space == std::string::npos) {
      return Status::error("tokenizer.ggml.merges[" + std::to_string(i) + "]: no space in '" + merges[i] + "'");
    }
    ARB_ASSIGN(BpeMerge resolved, resolve_bpe_merge(id_of, merge.substr(0, space), merge.substr(space + 1), i));
    config.model.merges.push_back(resolved);
  }
  if (pre.nfc) config.normalizers.push_back(NormalizerStep::of(NormalizerKind::kNFC));
  for (const char* pattern : pre.patterns) {
    PreTokenizerStep split;
    split.kind = PreTokenizerKind::kSplit;
    split.behavior = SplitBehavior::kIsolated;
    ARB_ASSIGN(split.pattern, Regex::compile(pattern));
    config.pre_tokenizers.push_back(std::move(split));
  }
  DecoderStep decoder;
  decoder.kind = DecoderKind::kByteLevel;
  config.decoders.push_back(decoder);
  config.tokens = std::move(tokens);
  return config;
}

Result<std::shared_ptr<Tokenizer>> load(const GgufFile& gguf) {
  ARB_ASSIGN(std::optional<std::string> model, optional_string(gguf, "tokenizer.ggml.model"));
  if (!model) return Status::error("no tokenizer.ggml.model");
  ARB_ASSIGN(std::vector<std::string> tokens, gguf.get_string_array("tokenizer.ggml.tokens"));
  // No tokens would encode every text to nothing, silently.
  if (tokens.empty()) return Status::error("tokenizer.ggml.tokens is empty");
  std::vector<int64_t> types;
  if (gguf.find("tokenizer.ggml.token_type")) {
    ARB_ASSIGN(types, gguf.get_int_array("tokenizer.ggml.token_type"));
  }
  int32_t n = static_cast<int32_t>(tokens.size());
  TokenizerConfig config;
  bool add_bos_default = false;
  if (*model == "llama") {
    ARB_ASSIGN(config, llama_config(gguf, tokens, types));
    add_bos_default = true;
  } else if (*model == "gpt2") {
    ARB_ASSIGN(config, gpt2_config(gguf, tokens, &add_bos_default));
  } else {
    return Status::error("tokenizer.ggml.model '" + *model + "' is not supported (llama, gpt2)");
  }
  if (!types.empty() && types.size() != tokens.size())
    return Status::error("tokenizer.ggml.token_type has " + std::to_string(types.size()) + " entries for " +
                         std::to_string(tokens.size()) + " tokens");
  add_typed_tokens(config.tokens, types, config);
  config.bos_id = optional_id(gguf, "tokenizer.ggml.bos_token_id", n);
  config.eos_id = optional_id(gguf, "tokenizer.ggml.eos_token_id", n);
  // An id the tokenizer adds to every sequence must be a token; elsewhere an unusable id is only unused.
  for (const auto& [add_key, id_key, add_default] :
       {std::tuple{"tokenizer.ggml.add_bos_token", "tokenizer.ggml.bos_token_id", add_bos_default},
        std::tuple{"tokenizer.ggml.add_eos_token", "tokenizer.ggml.eos_token_id", false}}) {
    const std::optional<int64_t> id = gguf.get_int(id_key);
    if (gguf.get_bool(add_key).value_or(add_default) && id && (*id < 0 || *id >= n))
      return Status::error(std::string(id_key) + " is " + std::to_string(*id) + ", outside the " + std::to_string(n) +
                           " tokens, and " + add_key + " adds it to every sequence");
  }
  config.pad_id = optional_id(gguf, "tokenizer.ggml.padding_token_id", n);
  config.unk_id = optional_id(gguf, "tokenizer.ggml.unknown_token_id", n);
  config.model.unk_id = config.unk_id;
  if (gguf.get_bool("tokenizer.ggml.add_bos_token").value_or(add_bos_default) && config.bos_id) {
    config.prefix_ids.push_back(*config.bos_id);
  }
  if (gguf.get_bool("tokenizer.ggml.add_eos_token").value_or(false) && config.eos_id) {
    config.suffix_ids.push_back(*config.eos_id);
  }
  return Tokenizer::create(std::move(config));
}

}  // namespace

Result<std::shared_ptr<Tokenizer>> Tokenizer::from_gguf(const GgufFile& gguf) {
  auto tok = load(gguf);
  if (!tok) return tok.status().with_context(gguf.path() + ": tokenizer");
  return tok;
}

}  // namespace arbiter
