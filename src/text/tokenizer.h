// Text <-> token ids, reproducing Hugging Face `tokenizers`, SentencePiece and llama.cpp exactly.
//
// Every source (tokenizer.json, a SentencePiece tokenizer.model, GGUF tokenizer.ggml.* metadata) is read
// into one TokenizerConfig; one pipeline runs them all:
//   added tokens split out of the raw text -> normalizers -> added tokens (normalized ones) ->
//   pre-tokenizers -> BPE per word -> post-processor ids (BOS/EOS) when asked.
// Decoding maps ids to token strings and runs the decoder steps.
//
// Input text must be valid UTF-8: Hugging Face's Rust strings cannot hold anything else, so instead of
// guessing a repair, encode() fails with the byte offset of the first ill-formed sequence. decode()
// always returns valid UTF-8 (ill-formed byte sequences from byte tokens become U+FFFD, as HF does).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "text/bpe.h"
#include "text/normalize.h"
#include "text/pretokenize.h"

namespace arbiter {

class GgufFile;

// Which transformers tokenizer class reads a tokenizer.model: most take the normalizer settings from the
// file; Gemma's fixes its own (as_read_by in sentencepiece.h).
enum class SpmReader { kModelSettings, kGemma };

// A token matched in the raw text before the model sees it (HF added_tokens; control and user-defined
// pieces of SentencePiece and GGUF vocabularies).
struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = true;      // matched only when parse_special; skipped by decode(skip_special)
  bool lstrip = false;      // swallows whitespace on its left
  bool rstrip = false;      // swallows whitespace on its right
  bool normalized = false;  // matched in the normalized text instead of the raw text
  bool single_word = false; // matched only when not inside a word
};

enum class DecoderKind { kByteLevel, kReplace, kByteFallback, kFuse, kStrip, kMetaspace };

struct DecoderStep {
  DecoderKind kind = DecoderKind::kByteLevel;
  std::string pattern, content;       // kReplace: pattern -> content; kStrip: the character stripped
  size_t strip_start = 0, strip_stop = 0;  // kStrip: how many to remove at each end of every token
  std::string replacement = "\xE2\x96\x81";  // kMetaspace
  bool strip_first_space = true;      // kMetaspace: the first token loses its leading space
};

struct TokenizerConfig {
  std::string kind;                           // "bpe (byte-level)", "bpe", "sentencepiece-bpe"
  BpeConfig model;
  std::vector<std::string> tokens;            // id -> token as the source spells it (id_to_token)
  std::vector<AddedToken> added_tokens;
  std::vector<NormalizerStep> normalizers;
  std::vector<PreTokenizerStep> pre_tokenizers;
  std::vector<int32_t> prefix_ids, suffix_ids;  // post-processor for one sequence: prefix + ids + suffix
  std::vector<DecoderStep> decoders;
  bool clean_up_spaces = false;               // transformers' clean_up_tokenization_spaces on decode
  // A Prepend normalizer (SentencePiece's word-start mark) applies only to the input's first text, not to
  // text after a special token: tokenizer_config.json's "legacy": false for a SentencePiece model.
  bool prepend_at_input_start_only = false;
  // Normalized added tokens are matched as the normalizers write them (HF tokenizers normalizes each such
  // token's content before matching it in normalized text); SentencePiece, GGUF and slow-tokenizer sources
  // match the content as written.
  bool normalize_added_content = false;
  std::optional<int32_t> bos_id, eos_id, pad_id, unk_id;
};

class Tokenizer {
 public:
  // tokenizer_config_path may be empty; when given it supplies bos/eos/pad and clean-up settings.
  static Result<std::shared_ptr<Tokenizer>> from_tokenizer_json(const std::string& path,
                                                                const std::string& tokenizer_config_path);
  // With tokenizer_config.json (and added_tokens.json) beside the model file: their added tokens, special
  // tokens and add_bos_token / add_eos_token, as transformers' Llama tokenizer reads the folder. `reader`:
  // the tokenizer class that reads the file (sentencepiece.h), for the settings it takes from itself.
  static Result<std::shared_ptr<Tokenizer>> from_sentencepiece_model(const std::string& path,
                                                                     const std::string& tokenizer_config_path = "",
                                                                     const std::string& added_tokens_path = "",
                                                                     SpmReader reader = SpmReader::kModelSettings);
  static Result<std::shared_ptr<Tokenizer>> from_gguf(const GgufFile& gguf);
  static Result<std::shared_ptr<Tokenizer>> create(TokenizerConfig config);
  // Held by shared_ptr, never copied or moved: its BPE model and added-token matchers point into config_.
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // add_special: apply the post-processor (BOS/EOS). parse_special: special-token strings in the text
  // become their ids (otherwise they are encoded as ordinary text); non-special added tokens always do.
  Result<std::vector<int32_t>> encode(std::string_view text, bool add_special, bool parse_special) const;
  Result<std::string> decode(const std::vector<int32_t>& ids, bool skip_special) const;

  const std::string& kind() const { return config_.kind; }
  int32_t vocab_size() const { return static_cast<int32_t>(config_.tokens.size()); }
  std::optional<int32_t> bos_id() const { return config_.bos_id; }
  std::optional<int32_t> eos_id() const { return config_.eos_id; }
  std::optional<int32_t> pad_id() const { return config_.pad_id; }
  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::string id_to_token(int32_t id) const;  // empty for an id out of range
  bool is_special(int32_t id) const;
  const TokenizerConfig& config() const { return config_; }

 private:
  Tokenizer() = default;

  // An added token as one matching pass looks for it: its content, or (normalized tokens of a
  // tokenizer.json) its content as the normalizers write it.
  struct Candidate {
    const AddedToken* token;
    std::string_view text;  // into token->content or normalized_contents_
  };
  // Added tokens of one matching pass, bucketed by first byte, longest first.
  struct Matcher {
    std::vector<std::vector<Candidate>> by_first_byte = std::vector<std::vector<Candidate>>(256);
    bool empty = true;
  };
  struct Segment {
    size_t begin, end;  // in the text being split
    int32_t id;         // an added token's id, or -1 for text
  };

  // parse_special: special tokens are matched as such; otherwise their matches are left as text.
  std::vector<Segment> split_added(std::string_view text, const Matcher& matcher, bool parse_special) const;
  Status encode_text(std::string_view text, bool at_input_start, bool parse_special, std::vector<int32_t>& out) const;

  TokenizerConfig config_;
  std::unique_ptr<Bpe> bpe_;
  std::unordered_map<std::string, int32_t> token_to_id_;
  std::vector<bool> special_;
  Matcher raw_, normalized_;  // added tokens matched in the raw text / in the normalized text
  std::vector<std::string> normalized_contents_;  // per added token; sized once, so views into it stay valid
};

}  // namespace arbiter
