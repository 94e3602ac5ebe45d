// Tokenizer::from_tokenizer_json: Hugging Face tokenizer.json (+ tokenizer_config.json) into a
// TokenizerConfig. Only what changes ids is read; offsets-only settings (trim_offsets) are ignored.
// Components arbiter does not implement are errors naming the component, never silently skipped.
#include <nlohmann/json.hpp>

#include <climits>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "core/json_text.h"
#include "core/mapped_file.h"
#include "text/tokenizer.h"
#include "text/string_index.h"
#include "text/token_id_bound.h"
#include "text/tokenizer_config_file.h"
#include "text/unicode.h"

namespace arbiter {

namespace {

using json = nlohmann::json;

bool get_bool(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::string get_string(const json& j, const char* key, const std::string& fallback = "") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::string type_of(const json& j) { return get_string(j, "type"); }

// {"String": "..."} or {"Regex": "..."}.
Result<std::shared_ptr<const Regex>> parse_pattern(const json& pattern, const std::string& where) {
  if (pattern.contains("Regex")) return Regex::compile(pattern["Regex"].get<std::string>());
  if (pattern.contains("String")) return Regex::compile(pattern["String"].get<std::string>(), true);
  return Status::error(where + ": pattern is neither String nor Regex");
}

Result<std::string> base64_decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=' || c == '\n') continue;
    int v = value(c);
    if (v < 0) return Status::error("invalid base64 character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

Status parse_normalizer(const json& j, std::vector<NormalizerStep>& steps) {
  if (j.is_null()) return Status::ok();
  std::string type = type_of(j);
  NormalizerStep step;
  if (type == "Sequence") {
    for (const json& child : j.at("normalizers")) ARB_TRY(parse_normalizer(child, steps));
    return Status::ok();
  } else if (type == "NFC") { step.kind = NormalizerKind::kNFC;
  } else if (type == "NFD") { step.kind = NormalizerKind::kNFD;
  } else if (type == "NFKC") { step.kind = NormalizerKind::kNFKC;
  } else if (type == "NFKD") { step.kind = NormalizerKind::kNFKD;
  } else if (type == "Lowercase") { step.kind = NormalizerKind::kLowercase;
  } else if (type == "Prepend") {
    step.kind = NormalizerKind::kPrepend;
    step.content = get_string(j, "prepend");
  } else if (type == "Replace") {
    step.kind = NormalizerKind::kReplace;
    ARB_ASSIGN(step.pattern, parse_pattern(j.at("pattern"), "normalizer Replace"));
    step.content = get_string(j, "content");
  } else if (type == "Strip") {
    step.kind = NormalizerKind::kStrip;
    step.strip_left = get_bool(j, "strip_left", true);
    step.strip_right = get_bool(j, "strip_right", true);
  } else if (type == "Precompiled") {
    step.kind = NormalizerKind::kCharsmap;
    ARB_ASSIGN(std::string blob, base64_decode(get_string(j, "precompiled_charsmap")));
    if (blob.empty()) return Status::ok();  // an empty map normalizes nothing
    ARB_ASSIGN(step.charsmap, PrecompiledCharsmap::parse(blob));
  } else {
    return Status::error("normalizer type '" + type + "' is not supported");
  }
  steps.push_back(std::move(step));
  return Status::ok();
}

Result<SplitBehavior> parse_behavior(const std::string& name) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  return Status::error("split behavior '" + name + "' is not known");
}

PrependScheme parse_prepend_scheme(const json& j) {
  std::string scheme = get_string(j, "prepend_scheme");
  if (scheme == "first") return PrependScheme::kFirst;
  if (scheme == "never") return PrependScheme::kNever;
  if (scheme.empty() && !get_bool(j, "add_prefix_space", true)) return PrependScheme::kNever;
  return PrependScheme::kAlways;
}

Status add_split(const std::string& pattern, SplitBehavior behavior, bool invert, std::vector<PreTokenizerStep>& steps) {
  PreTokenizerStep step;
  step.kind = PreTokenizerKind::kSplit;
  ARB_ASSIGN(step.pattern, Regex::compile(pattern));
  step.behavior = behavior;
  step.invert = invert;
  steps.push_back(std::move(step));
  return Status::ok();
}

Status parse_pre_tokenizer(const json& j, std::vector<PreTokenizerStep>& steps, bool* byte_level) {
  if (j.is_null()) return Status::ok();
  std::string type = type_of(j);
  if (type == "Sequence") {
    for (const json& child : j.at("pretokenizers")) ARB_TRY(parse_pre_tokenizer(child, steps, byte_level));
    return Status::ok();
  }
  if (type == "Split") {
    PreTokenizerStep step;
    step.kind = PreTokenizerKind::kSplit;
    ARB_ASSIGN(step.pattern, parse_pattern(j.at("pattern"), "pre_tokenizer Split"));
    ARB_ASSIGN(step.behavior, parse_behavior(get_string(j, "behavior", "Isolated")));
    step.invert = get_bool(j, "invert", false);
    steps.push_back(std::move(step));
    return Status::ok();
  }
  if (type == "ByteLevel") {
    *byte_level = true;
    PreTokenizerStep step;
    step.kind = PreTokenizerKind::kByteLevel;
    step.add_prefix_space = get_bool(j, "add_prefix_space", true);
    if (get_bool(j, "use_regex", true)) {
      ARB_ASSIGN(step.pattern, Regex::compile(kGpt2Pattern));
    }
    steps.push_back(std::move(step));
    return Status::ok();
  }
  if (type == "Metaspace") {
    PreTokenizerStep step;
    step.kind = PreTokenizerKind::kMetaspace;
    step.replacement = get_string(j, "replacement", "\xE2\x96\x81");
    step.prepend_scheme = parse_prepend_scheme(j);
    step.split = get_bool(j, "split", true);
    steps.push_back(std::move(step));
    return Status::ok();
  }
  // The fixed-pattern pre-tokenizers are splits with HF's own patterns.
  if (type == "Whitespace") return add_split(R"(\w+|[^\w\s]+)", SplitBehavior::kRemoved, true, steps);
  if (type == "WhitespaceSplit") return add_split(R"(\s+)", SplitBehavior::kRemoved, false, steps);
  if (type == "Digits") {
    return add_split(R"(\p{N})", get_bool(j, "individual_digits", false) ? SplitBehavior::kIsolated
                                                                          : SplitBehavior::kContiguous,
                     false, steps);
  }
  if (type == "Punctuation") {
    ARB_ASSIGN(SplitBehavior behavior, parse_behavior(get_string(j, "behavior", "Isolated")));
    return add_split(R"(\p{P})", behavior, false, steps);
  }
  return Status::error("pre_tokenizer type '" + type + "' is not supported");
}

// Resolves a token named by a post-processor or tokenizer_config.json.
Result<int32_t> id_of(const std::unordered_map<std::string, int32_t>& ids, const std::string& token,
                      const std::string& where) {
  auto it = ids.find(token);
  if (it == ids.end()) return Status::error(where + ": token '" + token + "' is not in the vocabulary");
  return it->second;
}

Status parse_post_processor(const json& j, const std::unordered_map<std::string, int32_t>& ids,
                            TokenizerConfig& config) {
  if (j.is_null()) return Status::ok();
  std::string type = type_of(j);
  if (type == "Sequence") {
    for (const json& child : j.at("processors")) ARB_TRY(parse_post_processor(child, ids, config));
    return Status::ok();
  }
  if (type == "ByteLevel") return Status::ok();  // offsets only
  if (type == "TemplateProcessing") {
    // single: [{"SpecialToken": {"id": name}}, {"Sequence": {"id": "A"}}, ...]; a special token's ids
    // come from special_tokens[name].ids.
    bool after_sequence = false;
    for (const json& item : j.at("single")) {
      if (item.contains("Sequence")) {
        after_sequence = true;
        continue;
      }
      std::string name = item.at("SpecialToken").at("id").get<std::string>();
      const json& special = j.at("special_tokens");
      if (!special.contains(name)) {
        return Status::error("post_processor TemplateProcessing: special token '" + name + "' has no ids");
      }
      for (const json& id : special[name].at("ids")) {
        (after_sequence ? config.suffix_ids : config.prefix_ids).push_back(id.get<int32_t>());
      }
    }
    return Status::ok();
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    config.prefix_ids.push_back(j.at("cls").at(1).get<int32_t>());
    config.suffix_ids.push_back(j.at("sep").at(1).get<int32_t>());
    return Status::ok();
  }
  return Status::error("post_processor type '" + type + "' is not supported");
}

Status parse_decoder(const json& j, std::vector<DecoderStep>& steps) {
  if (j.is_null()) return Status::ok();
  std::string type = type_of(j);
  DecoderStep step;
  if (type == "Sequence") {
    for (const json& child : j.at("decoders")) ARB_TRY(parse_decoder(child, steps));
    return Status::ok();
  } else if (type == "ByteLevel") { step.kind = DecoderKind::kByteLevel;
  } else if (type == "ByteFallback") { step.kind = DecoderKind::kByteFallback;
  } else if (type == "Fuse") { step.kind = DecoderKind::kFuse;
  } else if (type == "Replace") {
    step.kind = DecoderKind::kReplace;
    const json& pattern = j.at("pattern");
    if (!pattern.contains("String")) return Status::error("decoder Replace: only String patterns are supported");
    step.pattern = pattern["String"].get<std::string>();
    step.content = get_string(j, "content");
  } else if (type == "Strip") {
    step.kind = DecoderKind::kStrip;
    step.content = get_string(j, "content", " ");
    step.strip_start = j.value("start", 0);
    step.strip_stop = j.value("stop", 0);
  } else if (type == "Metaspace") {
    step.kind = DecoderKind::kMetaspace;
    step.replacement = get_string(j, "replacement", "\xE2\x96\x81");
    step.strip_first_space = parse_prepend_scheme(j) != PrependScheme::kNever;
  } else {
    return Status::error("decoder type '" + type + "' is not supported");
  }
  steps.push_back(std::move(step));
  return Status::ok();
}

// tokenizer_config.json names tokens either as a string or as {"content": ...}.
Result<std::optional<std::string>> config_token(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end()) return std::optional<std::string>();
  if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
  if (it->is_object() && it->contains("content")) {
    const json& content = (*it)["content"];
    if (!content.is_string()) return Status::error(std::string(key) + ": 'content' is a " + content.type_name() + ", not a string");
    return std::optional<std::string>(content.get<std::string>());
  }
  return std::optional<std::string>();
}

// model.vocab and model.merges of a BPE model, taken from the parser as it meets them: a document tree of Llama
// 3's 128k-entry vocabulary (a map node per entry) and 280k merges costs more than the rest of loading.
struct ModelTables {
  bool has_vocab = false, has_merges = false;
  std::vector<std::pair<std::string, json>> vocab;        // token, id as written
  std::vector<std::pair<std::string, std::string>> merges;  // "a b" or [a, b], in rank order
  std::string error;                                       // the first malformed entry, named
};

// A parser callback that moves model.vocab's entries and model.merges' rules into `tables` and keeps them out
// of the tree (the rest of the document is built as usual). The callback's depth is the nesting of the
// element: the root's keys are at 1, the model's at 2, the tables' entries at 3.
json::parser_callback_t capture_model_tables(ModelTables& tables) {
  struct State {
    std::string keys[3];  // the last key read at depths 1 and 2 (index by depth)
    std::string token;    // the vocab entry whose id comes next
    bool seen_model = false;
  };
  auto state = std::make_shared<State>();
  return [&tables, state](int depth, json::parse_event_t event, json& parsed) -> bool {
    using E = json::parse_event_t;
    State& st = *state;
    auto fail = [&](std::string message) {
      if (tables.error.empty()) tables.error = std::move(message);
      return false;
    };
    if (event == E::key && (depth == 1 || depth == 2)) {
      st.keys[depth] = parsed.get<std::string>();
      // A key twice would mix two tables into one (HF refuses a document with a key twice).
      if (depth == 1 && st.keys[1] == "model" && std::exchange(st.seen_model, true)) return fail("the key 'model' appears twice");
      if (depth == 2 && st.keys[1] == "model") {
        if (st.keys[2] == "vocab" && std::exchange(tables.has_vocab, true)) return fail("model: the key 'vocab' appears twice");
        if (st.keys[2] == "merges" && std::exchange(tables.has_merges, true)) return fail("model: the key 'merges' appears twice");
      }
      return true;
    }
    if (depth != 3 || st.keys[1] != "model") return true;
    if (st.keys[2] == "vocab") {
      switch (event) {
        case E::key:
          st.token = parsed.get<std::string>();
          return false;  // the entry stays out of the tree
        case E::value:
          tables.vocab.emplace_back(std::move(st.token), std::move(parsed));
          return false;
        case E::object_start:
        case E::array_start:
          return fail("model.vocab: token '" + st.token + "' has no integer id");
        default:
          return true;
      }
    }
    if (st.keys[2] == "merges") {
      auto where = [&] { return "model.merges[" + std::to_string(tables.merges.size()) + "]"; };
      switch (event) {
        case E::array_start:
          return true;  // a [a, b] rule: read whole, then taken at its end
        case E::array_end:
          if (parsed.size() != 2 || !parsed[0].is_string() || !parsed[1].is_string()) {
            return fail(where() + ": neither \"a b\" nor [a, b]");
          }
          tables.merges.emplace_back(parsed[0].get<std::string>(), parsed[1].get<std::string>());
          return false;
        case E::value: {
          if (!parsed.is_string()) return fail(where() + ": neither \"a b\" nor [a, b]");
          // Two tokens split by one space, as HF reads the rule (byte-level tokens spell a space as 'Ġ').
          const std::string& rule = parsed.get_ref<const std::string&>();
          const size_t space = rule.find(' ');
          if (space == std::string::npos) return fail(where() + ": no space in '" + rule + "'");
          if (space == 0 || space + 1 == rule.size() || rule.find(' ', space + 1) != std::string::npos)
            return fail(where() + ": '" + rule + "' is not two tokens split by one space");
          tables.merges.emplace_back(rule.substr(0, space), rule.substr(space + 1));
          return false;
        }
        case E::object_start:
          return fail(where() + ": neither \"a b\" nor [a, b]");
        default:
          return true;
      }
    }
    return true;
  };
}

// entries: the vocabulary's and the added tokens' count, which bounds their ids (token_id_bound.h).
Status parse_model(const json& model, ModelTables& tables, size_t entries, TokenizerConfig& config,
                   std::unordered_map<std::string, int32_t>& ids, bool byte_level) {
  std::string type = type_of(model);
  if (type != "BPE") return Status::error("model type '" + type + "' is not supported (only BPE)");
  if (!get_string(model, "continuing_subword_prefix").empty() || !get_string(model, "end_of_word_suffix").empty()) {
    return Status::error("BPE continuing_subword_prefix / end_of_word_suffix are not supported");
  }
  if (model.contains("dropout") && !model["dropout"].is_null() && model["dropout"].get<double>() > 0) {
    return Status::error("BPE dropout is not supported (encoding must be deterministic)");
  }
  const auto vocab = model.find("vocab"), merges = model.find("merges");
  if (!tables.has_vocab || vocab == model.end() || !vocab->is_object()) {
    return Status::error("model.vocab: missing or not an object");
  }
  if (!tables.has_merges || merges == model.end() || !merges->is_array()) {
    return Status::error("model.merges: missing or not an array");
  }
  if (!tables.error.empty()) return Status::error(tables.error);
  int64_t max_id = -1;
  for (const auto& [token, id] : tables.vocab) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > max_token_id(entries)) {
      return Status::error("model.vocab: token '" + token + "' has id " + id.dump() + " " + token_id_range(entries));
    }
    max_id = std::max(max_id, id.get<int64_t>());
  }
  config.tokens.resize(max_id + 1);
  config.model.pieces.resize(max_id + 1);
  ids.reserve(tables.vocab.size());
  for (auto& [token, id_json] : tables.vocab) {
    const int32_t id = static_cast<int32_t>(id_json.get<int64_t>());
    if (!ids.emplace(token, id).second) return Status::error("model.vocab: token '" + token + "' is listed twice");
    if (!config.tokens[id].empty())
      return Status::error("model.vocab: tokens '" + config.tokens[id] + "' and '" + token + "' share id " + std::to_string(id));
    config.tokens[id] = std::move(token);
  }
  tables.vocab.clear();
  tables.vocab.shrink_to_fit();
  // A byte-level model matches text mapped to its byte-to-unicode characters: a token spelled otherwise (a raw
  // space, '中') is never found by it, as in HF, so its piece stays empty rather than its raw bytes (which
  // would be found in place of the token that spells them).
  auto model_spelling = [&](const std::string& token) -> std::string {
    if (!byte_level) return token;
    auto bytes = unicode_to_bytes(token);
    return bytes ? *bytes : std::string();
  };
  for (int32_t id = 0; id <= max_id; ++id) config.model.pieces[id] = model_spelling(config.tokens[id]);

  const StringIndex token_index(config.tokens);
  auto vocab_id = [&](std::string_view token) { return token_index.find(token); };
  config.model.merges.reserve(tables.merges.size());
  for (size_t rank = 0; rank < tables.merges.size(); ++rank) {
    const auto& [left, right] = tables.merges[rank];
    ARB_ASSIGN(BpeMerge merge, resolve_bpe_merge(vocab_id, left, right, rank));
    config.model.merges.push_back(merge);
  }
  config.model.order = BpeMergeOrder::kRankedPairs;
  config.model.byte_level = byte_level;
  config.model.byte_fallback = get_bool(model, "byte_fallback", false);
  config.model.ignore_merges = get_bool(model, "ignore_merges", false);
  config.model.fuse_unk = get_bool(model, "fuse_unk", false);
  std::string unk = get_string(model, "unk_token");
  if (!unk.empty()) {
    ARB_ASSIGN(config.model.unk_id, id_of(ids, unk, "model.unk_token"));
    config.unk_id = config.model.unk_id;
  }
  return Status::ok();
}

bool contains_type(const json& j, const char* list_key, const std::string& type) {
  if (j.is_null()) return false;
  if (type_of(j) == type) return true;
  if (j.contains(list_key)) {
    for (const json& child : j[list_key]) {
      if (contains_type(child, list_key, type)) return true;
    }
  }
  return false;
}

}  // namespace

Status apply_tokenizer_config(const json& tc, const std::unordered_map<std::string, int32_t>& ids,
                              TokenizerConfig& config, bool always_add_flags) {
  auto resolve = [&](const char* key, std::optional<int32_t>& target) -> Status {
    ARB_ASSIGN(std::optional<std::string> token, config_token(tc, key));
    if (token) {
      ARB_ASSIGN(target, id_of(ids, *token, std::string("tokenizer_config ") + key));
    }
    return Status::ok();
  };
  ARB_TRY(resolve("bos_token", config.bos_id));
  ARB_TRY(resolve("eos_token", config.eos_id));
  ARB_TRY(resolve("pad_token", config.pad_id));
  ARB_TRY(resolve("unk_token", config.unk_id));
  config.clean_up_spaces = get_bool(tc, "clean_up_tokenization_spaces", false);
  // transformers' Llama/Gemma fast tokenizers rebuild the post-processor from add_bos_token /
  // add_eos_token; other classes keep tokenizer.json's.
  static const char* const kRebuilding[] = {"LlamaTokenizer", "LlamaTokenizerFast", "GemmaTokenizer",
                                            "GemmaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast"};
  std::string cls = get_string(tc, "tokenizer_class");
  bool rebuilds = std::any_of(std::begin(kRebuilding), std::end(kRebuilding), [&](const char* c) { return cls == c; });
  if ((rebuilds || always_add_flags) && (tc.contains("add_bos_token") || tc.contains("add_eos_token"))) {
    config.prefix_ids.clear();
    config.suffix_ids.clear();
    if (get_bool(tc, "add_bos_token", true) && config.bos_id) config.prefix_ids.push_back(*config.bos_id);
    if (get_bool(tc, "add_eos_token", false) && config.eos_id) config.suffix_ids.push_back(*config.eos_id);
  }
  return Status::ok();
}

Result<std::vector<AddedToken>> added_tokens_of(const json& tc, const json* added_tokens_json, size_t model_entries) {
  std::vector<AddedToken> out;
  std::unordered_map<std::string, bool> listed;
  const auto decoder = tc.find("added_tokens_decoder");
  const bool has_decoder = decoder != tc.end() && decoder->is_object();
  const size_t entries = model_entries + (has_decoder ? decoder->size() : 0) +
                         (added_tokens_json != nullptr && added_tokens_json->is_object() ? added_tokens_json->size() : 0);
  if (has_decoder) {
    for (auto it = decoder->begin(); it != decoder->end(); ++it) {
      const std::string where = "added_tokens_decoder." + it.key();
      AddedToken added;
      try {
        const long long id = std::stoll(it.key());
        if (id < 0 || id > max_token_id(entries)) return Status::error(where + ": not a token id " + token_id_range(entries));
        added.id = int32_t(id);
      } catch (const std::exception&) {
        return Status::error(where + ": not a token id");
      }
      const json& a = it.value();
      if (!a.is_object() || !a.contains("content") || !a["content"].is_string())
        return Status::error(where + ": no 'content' string");
      added.content = a["content"].get<std::string>();
      added.special = get_bool(a, "special", false);
      added.lstrip = get_bool(a, "lstrip", false);
      added.rstrip = get_bool(a, "rstrip", false);
      added.normalized = get_bool(a, "normalized", !added.special);
      added.single_word = get_bool(a, "single_word", false);
      listed[added.content] = true;
      out.push_back(std::move(added));
    }
  }
  if (added_tokens_json == nullptr) return out;
  if (!added_tokens_json->is_object()) return Status::error("added_tokens.json: not a JSON object");
  // Its tokens are special where tokenizer_config.json names them so (additional_special_tokens, or one
  // of the named special tokens).
  std::unordered_map<std::string, bool> special;
  for (const char* key : {"bos_token", "eos_token", "pad_token", "unk_token", "sep_token", "cls_token", "mask_token"}) {
    ARB_ASSIGN(std::optional<std::string> name, config_token(tc, key));
    if (name) special[*name] = true;
  }
  if (auto extra = tc.find("additional_special_tokens"); extra != tc.end() && extra->is_array())
    for (const json& t : *extra) {
      if (t.is_string()) special[t.get<std::string>()] = true;
      else if (t.is_object() && t.contains("content") && t["content"].is_string()) special[t["content"].get<std::string>()] = true;
    }
  for (auto it = added_tokens_json->begin(); it != added_tokens_json->end(); ++it) {
    if (listed.count(it.key())) continue;
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 || it.value().get<int64_t>() > max_token_id(entries))
      return Status::error("added_tokens.json: '" + it.key() + "' has no token id " + token_id_range(entries));
    AddedToken added;
    added.id = it.value().get<int32_t>();
    added.content = it.key();
    added.special = special.count(it.key()) > 0;
    added.normalized = !added.special;
    out.push_back(std::move(added));
  }
  return out;
}

namespace {

// tokenizer_config.json beside a tokenizer.json. Its errors, a wrong type inside it included, name it
// rather than the tokenizer.json they are reported under.
Status apply_tokenizer_config_file(const std::string& config_path, const std::unordered_map<std::string, int32_t>& ids,
                                   TokenizerConfig& config) {
  auto text = read_file(config_path);
  if (!text) return text.status();
  auto tc = parse_json_text(*text);
  if (!tc) return tc.status().with_context(config_path);
  if (!tc->is_object()) return Status::error(config_path + ": not a JSON object");
  try {
    return apply_tokenizer_config(*tc, ids, config, /*always_add_flags=*/false).with_context(config_path);
  } catch (const std::exception& e) {
    return Status::error(config_path + ": " + e.what());
  }
}

// tokenizer.json read into a configuration, and its tokens' ids by content (for tokenizer_config.json).
struct LoadedTokenizerJson {
  TokenizerConfig config;
  std::unordered_map<std::string, int32_t> ids;
};

Result<LoadedTokenizerJson> load(const std::string& path) {
  ARB_ASSIGN(std::string text, read_file(path));
  ModelTables tables;
  // A malformed file (most often a download cut short) is named as such, with the parser's byte position.
  ARB_ASSIGN(json j, parse_json_text(text, kMaxJsonDepth, capture_model_tables(tables)));
  if (!j.is_object()) return Status::error("not a JSON object");

  LoadedTokenizerJson loaded;
  TokenizerConfig& config = loaded.config;
  std::unordered_map<std::string, int32_t>& ids = loaded.ids;
  const json added_tokens = j.value("added_tokens", json::array());
  const size_t entries = tables.vocab.size() + (added_tokens.is_array() ? added_tokens.size() : 0);
  bool byte_level = contains_type(j.value("decoder", json()), "decoders", "ByteLevel");
  ARB_TRY(parse_pre_tokenizer(j.value("pre_tokenizer", json()), config.pre_tokenizers, &byte_level));
  ARB_TRY(parse_model(j.at("model"), tables, entries, config, ids, byte_level));

  for (const json& a : added_tokens) {
    AddedToken added;
    added.content = a.at("content").get<std::string>();
    const json& id = a.at("id");
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > max_token_id(entries))
      return Status::error("added token '" + added.content + "': id " + id.dump() + " " + token_id_range(entries));
    added.id = static_cast<int32_t>(id.get<int64_t>());
    added.special = get_bool(a, "special", false);
    added.lstrip = get_bool(a, "lstrip", false);
    added.rstrip = get_bool(a, "rstrip", false);
    added.normalized = get_bool(a, "normalized", !added.special);
    added.single_word = get_bool(a, "single_word", false);
    if (static_cast<size_t>(added.id) >= config.tokens.size()) {
      config.tokens.resize(added.id + 1);
      config.model.pieces.resize(added.id + 1);
    }
    config.tokens[added.id] = added.content;
    ids[added.content] = added.id;
    config.added_tokens.push_back(std::move(added));
  }

  ARB_TRY(parse_normalizer(j.value("normalizer", json()), config.normalizers));
  config.normalize_added_content = true;
  ARB_TRY(parse_post_processor(j.value("post_processor", json()), ids, config));
  ARB_TRY(parse_decoder(j.value("decoder", json()), config.decoders));
  config.kind = byte_level ? "bpe (byte-level)" : (config.model.byte_fallback ? "bpe (byte-fallback)" : "bpe");
  return loaded;
}

}  // namespace

Result<std::shared_ptr<Tokenizer>> Tokenizer::from_tokenizer_json(const std::string& path,
                                                                  const std::string& tokenizer_config_path) {
  LoadedTokenizerJson loaded;
  // nlohmann throws on a wrong type inside a well-formed file; the boundary turns that into a Status.
  try {
    auto result = load(path);
    if (!result) return result.status().with_context(path);
    loaded = std::move(result).value();
  } catch (const std::exception& e) {
    return Status::error(path + ": " + e.what());
  }
  if (!tokenizer_config_path.empty()) ARB_TRY(apply_tokenizer_config_file(tokenizer_config_path, loaded.ids, loaded.config));
  auto tokenizer = create(std::move(loaded.config));
  if (!tokenizer) return tokenizer.status().with_context(path);
  return tokenizer;
}

}  // namespace arbiter
