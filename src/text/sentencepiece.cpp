#include "text/sentencepiece.h"

#include <cstring>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/json_text.h"
#include "core/mapped_file.h"
#include "text/tokenizer.h"
#include "text/tokenizer_config_file.h"

namespace arbiter {

namespace {

// Protobuf wire format: each field is a varint key (field << 3 | wire type) and a value.
class ProtoReader {
 public:
  explicit ProtoReader(std::string_view bytes) : bytes_(bytes) {}
  bool done() const { return pos_ >= bytes_.size(); }
  size_t pos() const { return pos_; }

  Result<uint64_t> varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= bytes_.size()) return Status::error("truncated varint at byte " + std::to_string(pos_));
      uint8_t b = static_cast<uint8_t>(bytes_[pos_++]);
      value |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (b < 0x80) return value;
    }
    return Status::error("varint longer than 10 bytes at byte " + std::to_string(pos_));
  }

  struct Field {
    uint32_t number;
    uint32_t wire;
    uint64_t value;          // varint and fixed values
    std::string_view bytes;  // length-delimited values
  };

  Result<Field> next() {
    ARB_ASSIGN(uint64_t key, varint());
    Field f{static_cast<uint32_t>(key >> 3), static_cast<uint32_t>(key & 7), 0, {}};
    switch (f.wire) {
      case 0: {
        ARB_ASSIGN(f.value, varint());
        break;
      }
      case 1: ARB_TRY(fixed(8, &f.value)); break;
      case 5: ARB_TRY(fixed(4, &f.value)); break;
      case 2: {
        ARB_ASSIGN(uint64_t len, varint());
        if (len > bytes_.size() - pos_) return Status::error("field " + std::to_string(f.number) + " overruns the message");
        f.bytes = bytes_.substr(pos_, len);
        pos_ += len;
        break;
      }
      default:
        return Status::error("unsupported wire type " + std::to_string(f.wire) + " at byte " + std::to_string(pos_));
    }
    return f;
  }

 private:
  Status fixed(size_t n, uint64_t* out) {
    if (bytes_.size() - pos_ < n) return Status::error("truncated fixed-width field at byte " + std::to_string(pos_));
    *out = 0;
    std::memcpy(out, bytes_.data() + pos_, n);  // little-endian host, as protobuf
    pos_ += n;
    return Status::ok();
  }

  std::string_view bytes_;
  size_t pos_ = 0;
};

float as_float(uint64_t bits) {
  uint32_t b = static_cast<uint32_t>(bits);
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

Result<SpmPiece> parse_piece(std::string_view bytes) {
  SpmPiece piece;
  ProtoReader r(bytes);
  while (!r.done()) {
    ARB_ASSIGN(auto f, r.next());
    if (f.number == 1 && f.wire == 2) piece.piece = std::string(f.bytes);
    else if (f.number == 2 && f.wire == 5) piece.score = as_float(f.value);
    else if (f.number == 3 && f.wire == 0) piece.type = static_cast<SpmPieceType>(f.value);
  }
  return piece;
}

Status parse_trainer_spec(std::string_view bytes, SpmModel& model) {
  ProtoReader r(bytes);
  while (!r.done()) {
    ARB_ASSIGN(auto f, r.next());
    if (f.wire != 0) continue;
    auto i32 = static_cast<int32_t>(static_cast<int64_t>(f.value));  // int32 -1 travels as 2^64 - 1
    switch (f.number) {
      case 3: model.model_type = i32; break;
      case 24: model.treat_whitespace_as_suffix = f.value != 0; break;
      case 35: model.byte_fallback = f.value != 0; break;
      case 40: model.unk_id = i32; break;
      case 41: model.bos_id = i32; break;
      case 42: model.eos_id = i32; break;
      case 43: model.pad_id = i32; break;
      default: break;
    }
  }
  return Status::ok();
}

Status parse_normalizer_spec(std::string_view bytes, SpmModel& model) {
  ProtoReader r(bytes);
  while (!r.done()) {
    ARB_ASSIGN(auto f, r.next());
    if (f.number == 1 && f.wire == 2) model.normalizer_name = std::string(f.bytes);
    else if (f.number == 2 && f.wire == 2) model.precompiled_charsmap = std::string(f.bytes);
    else if (f.number == 3 && f.wire == 0) model.add_dummy_prefix = f.value != 0;
    else if (f.number == 4 && f.wire == 0) model.remove_extra_whitespaces = f.value != 0;
    else if (f.number == 5 && f.wire == 0) model.escape_whitespaces = f.value != 0;
  }
  return Status::ok();
}

}  // namespace

Result<SpmModel> parse_spm_model(std::string_view bytes) {
  SpmModel model;
  ProtoReader r(bytes);
  while (!r.done()) {
    size_t at = r.pos();
    ARB_ASSIGN(auto f, r.next());
    if (f.wire != 2) continue;
    Status st;
    if (f.number == 1) {
      auto piece = parse_piece(f.bytes);
      if (!piece) return piece.status().with_context("piece " + std::to_string(model.pieces.size()));
      model.pieces.push_back(std::move(piece).value());
    } else if (f.number == 2) {
      st = parse_trainer_spec(f.bytes, model).with_context("trainer_spec");
    } else if (f.number == 3) {
      st = parse_normalizer_spec(f.bytes, model).with_context("normalizer_spec");
    }
    if (!st) return st.with_context("ModelProto field at byte " + std::to_string(at));
  }
  if (model.pieces.empty()) return Status::error("no pieces (not a SentencePiece model?)");
  return model;
}

SpmModel as_read_by(SpmModel model, SpmReader reader) {
  if (reader == SpmReader::kGemma) {
    model.add_dummy_prefix = false;
    model.remove_extra_whitespaces = false;
    model.precompiled_charsmap.clear();
    model.escape_whitespaces = true;
    model.byte_fallback = true;
  }
  return model;
}

namespace {

Result<TokenizerConfig> spm_to_config(const SpmModel& spm) {
  if (spm.model_type != 2) {
    return Status::error("model_type " + std::to_string(spm.model_type) + " is not supported (only BPE = 2)");
  }
  if (spm.treat_whitespace_as_suffix) return Status::error("treat_whitespace_as_suffix is not supported");
  TokenizerConfig config;
  config.kind = "sentencepiece-bpe";
  int32_t n = static_cast<int32_t>(spm.pieces.size());
  config.model.order = BpeMergeOrder::kPieceScore;
  config.model.byte_fallback = spm.byte_fallback;
  // sentencepiece merges a run of unknown pieces into one (PopulateSentencePieceText), and transformers'
  // converters write fuse_unk for the same reason.
  config.model.fuse_unk = true;
  config.model.pieces.resize(n);
  config.model.scores.resize(n);
  config.model.mergeable.resize(n);
  for (int32_t id = 0; id < n; ++id) {
    const SpmPiece& p = spm.pieces[id];
    config.tokens.push_back(p.piece);
    config.model.scores[id] = p.score;
    bool is_text = p.type == SpmPieceType::kNormal || p.type == SpmPieceType::kUserDefined;
    config.model.mergeable[id] = is_text;
    // Byte pieces stay reachable by name for byte fallback; control and unknown pieces are never produced
    // from text by the model, only matched as added tokens.
    if (is_text || p.type == SpmPieceType::kByte || p.type == SpmPieceType::kUnused) config.model.pieces[id] = p.piece;
    if (p.type == SpmPieceType::kControl || p.type == SpmPieceType::kUnknown || p.type == SpmPieceType::kUserDefined) {
      AddedToken added;
      added.id = id;
      added.content = p.piece;
      added.special = p.type != SpmPieceType::kUserDefined;
      added.normalized = p.type == SpmPieceType::kUserDefined;
      if (!added.content.empty()) config.added_tokens.push_back(std::move(added));
    }
  }
  auto valid = [&](int32_t id) -> std::optional<int32_t> {
    if (id >= 0 && id < n) return id;
    return std::nullopt;
  };
  config.unk_id = valid(spm.unk_id);
  config.model.unk_id = config.unk_id;
  config.bos_id = valid(spm.bos_id);
  config.eos_id = valid(spm.eos_id);
  config.pad_id = valid(spm.pad_id);
  // Llama, Mistral and Gemma prepend BOS (transformers' add_bos_token default for these tokenizers).
  if (config.bos_id) config.prefix_ids.push_back(*config.bos_id);

  // Normalization as the library does it: the rules, whitespace clean-up, dummy prefix, then spaces
  // written as U+2581.
  if (!spm.precompiled_charsmap.empty()) {
    NormalizerStep step;
    step.kind = NormalizerKind::kCharsmap;
    ARB_ASSIGN(step.charsmap, PrecompiledCharsmap::parse(spm.precompiled_charsmap));
    config.normalizers.push_back(std::move(step));
  }
  if (spm.remove_extra_whitespaces) config.normalizers.push_back(NormalizerStep::of(NormalizerKind::kCollapseSpaces));
  if (spm.add_dummy_prefix) {
    NormalizerStep step;
    step.kind = NormalizerKind::kPrepend;
    step.content = " ";
    config.normalizers.push_back(std::move(step));
  }
  if (spm.escape_whitespaces) {
    NormalizerStep step;
    step.kind = NormalizerKind::kReplace;
    ARB_ASSIGN(step.pattern, Regex::compile(" ", true));
    step.content = "\xE2\x96\x81";
    config.normalizers.push_back(std::move(step));
  }
  config.decoders = spm_decoders(spm.add_dummy_prefix);
  if (spm.escape_whitespaces) ARB_TRY(add_spm_word_split(config));
  return config;
}

}  // namespace

std::vector<DecoderStep> spm_decoders(bool strip_dummy_prefix) {
  std::vector<DecoderStep> steps(3);
  steps[0].kind = DecoderKind::kReplace;
  steps[0].pattern = "\xE2\x96\x81";
  steps[0].content.assign(1, ' ');
  steps[1].kind = DecoderKind::kByteFallback;
  steps[2].kind = DecoderKind::kFuse;
  if (strip_dummy_prefix) {
    DecoderStep strip;
    strip.kind = DecoderKind::kStrip;
    strip.content = " ";
    strip.strip_start = 1;
    steps.push_back(strip);
  }
  return steps;
}

Status add_spm_word_split(TokenizerConfig& config) {
  const std::string space = "\xE2\x96\x81";
  for (size_t id = 0; id < config.model.pieces.size(); ++id) {
    const std::string& piece = config.model.pieces[id];
    if (!config.model.mergeable.empty() && !config.model.mergeable[id]) continue;
    // Any U+2581 after the first character must follow another U+2581.
    for (size_t pos = piece.find(space, 1); pos != std::string::npos; pos = piece.find(space, pos + 1)) {
      if (pos < space.size() || piece.compare(pos - space.size(), space.size(), space) != 0) return Status::ok();
    }
  }
  PreTokenizerStep split;
  split.kind = PreTokenizerKind::kSplit;
  ARB_ASSIGN(split.pattern, Regex::compile("\\x{2581}*[^\\x{2581}]+|\\x{2581}+"));
  split.behavior = SplitBehavior::kIsolated;
  config.pre_tokenizers.push_back(std::move(split));
  return Status::ok();
}

namespace {

// Reads a JSON file of a tokenizer's folder; errors name it.
Result<nlohmann::json> read_json_object(const std::string& path) {
  ARB_ASSIGN(std::string text, read_file(path));
  auto j = parse_json_text(text);  // nesting bounded before the parse
  if (!j) return j.status().with_context(path);
  if (!j->is_object()) return Status::error(path + ": not a JSON object");
  return j;
}

// The tokens added beside the model file, in their ids' places (past the model's pieces, or over them),
// and tokenizer_config.json's special tokens and BOS / EOS flags.
Status apply_folder_files(const std::string& tokenizer_config_path, const std::string& added_tokens_path,
                          TokenizerConfig& config) {
  nlohmann::json tc = nlohmann::json::object();
  if (!tokenizer_config_path.empty()) {
    ARB_ASSIGN(tc, read_json_object(tokenizer_config_path));
  }
  nlohmann::json added_json;
  if (!added_tokens_path.empty()) {
    ARB_ASSIGN(added_json, read_json_object(added_tokens_path));
  }
  auto added = added_tokens_of(tc, added_tokens_path.empty() ? nullptr : &added_json, config.tokens.size());
  if (!added) return added.status().with_context(tokenizer_config_path.empty() ? added_tokens_path : tokenizer_config_path);
  for (AddedToken& token : *added) {
    const size_t id = size_t(token.id);
    if (id >= config.tokens.size()) {
      config.tokens.resize(id + 1);
      config.model.pieces.resize(id + 1);
      config.model.scores.resize(id + 1, 0.0f);
      config.model.mergeable.resize(id + 1, false);
    }
    config.tokens[id] = token.content;
    std::erase_if(config.added_tokens, [&](const AddedToken& a) { return a.id == token.id; });
    config.added_tokens.push_back(std::move(token));
  }
  std::unordered_map<std::string, int32_t> ids;
  for (size_t id = 0; id < config.tokens.size(); ++id)
    if (!config.tokens[id].empty()) ids.emplace(config.tokens[id], int32_t(id));
  for (const AddedToken& token : config.added_tokens) ids[token.content] = token.id;
  if (tokenizer_config_path.empty()) return Status::ok();
  // transformers' Llama tokenizer with legacy=False marks a word start only where the input begins (its
  // fast tokenizer: Metaspace with prepend_scheme "first"); the default, legacy, after every special token.
  if (auto legacy = tc.find("legacy"); legacy != tc.end() && legacy->is_boolean() && !legacy->get<bool>())
    config.prepend_at_input_start_only = true;
  return apply_tokenizer_config(tc, ids, config, /*always_add_flags=*/true).with_context(tokenizer_config_path);
}

}  // namespace

Result<std::shared_ptr<Tokenizer>> Tokenizer::from_sentencepiece_model(const std::string& path,
                                                                       const std::string& tokenizer_config_path,
                                                                       const std::string& added_tokens_path,
                                                                       SpmReader reader) {
  ARB_ASSIGN(std::string bytes, read_file(path));
  auto spm = parse_spm_model(bytes);
  if (!spm) return spm.status().with_context(path);
  auto config = spm_to_config(as_read_by(std::move(spm).value(), reader));
  if (!config) return config.status().with_context(path);
  if (!tokenizer_config_path.empty() || !added_tokens_path.empty()) {
    // nlohmann throws on a value of the wrong type inside well-formed JSON.
    try {
      ARB_TRY(apply_folder_files(tokenizer_config_path, added_tokens_path, *config));
    } catch (const std::exception& e) {
      return Status::error((tokenizer_config_path.empty() ? added_tokens_path : tokenizer_config_path) + ": " + e.what());
    }
  }
  auto tok = create(std::move(config).value());
  if (!tok) return tok.status().with_context(path);
  return tok;
}

}  // namespace arbiter
