// SentencePiece model files (tokenizer.model): the ModelProto fields a BPE tokenizer needs.
//
// The protobuf is read by hand: the handful of fields used here take a ~100-line varint reader, far
// cheaper than a protobuf dependency plus sentencepiece's .proto compiled into the build.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "text/tokenizer.h"

namespace arbiter {

// SentencePiece.Type
enum class SpmPieceType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct SpmPiece {
  std::string piece;
  float score = 0;
  SpmPieceType type = SpmPieceType::kNormal;
};

struct SpmModel {
  std::vector<SpmPiece> pieces;
  // TrainerSpec
  int32_t model_type = 1;  // 1 unigram, 2 bpe, 3 word, 4 char
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  int32_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
  // NormalizerSpec
  std::string normalizer_name;
  std::string precompiled_charsmap;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

Result<SpmModel> parse_spm_model(std::string_view bytes);

// The model's settings as `reader` applies them. kGemma: transformers' Gemma tokenizer (GemmaTokenizerFast,
// which GemmaConverter builds, and transformers 5's GemmaTokenizer) writes spaces as U+2581 and does nothing
// else to the text, whatever the file's normalizer spec says: no dummy prefix, no whitespace collapsing, no
// normalization rules; and it always has byte fallback. (Real Gemma files say the same; a file that does
// not, such as a test model's, is still read as Gemma reads it.)
SpmModel as_read_by(SpmModel model, SpmReader reader);

// Decoding of SentencePiece-style vocabularies (also GGUF "llama" ones): U+2581 back to spaces, <0xXX>
// pieces fused into UTF-8, and the dummy prefix's space removed from the start.
std::vector<DecoderStep> spm_decoders(bool strip_dummy_prefix);

// SentencePiece BPE merges over the whole text. When no piece the model can produce has a U+2581
// right after another character (true of vocabularies trained with split_by_whitespace), no merge can
// cross the start of a U+2581 run, so the text may be cut there into words without changing a single
// id; the words are then short and cached. Adds that split to config.pre_tokenizers when it is safe.
Status add_spm_word_split(TokenizerConfig& config);

}  // namespace arbiter
