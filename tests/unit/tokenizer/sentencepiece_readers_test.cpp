// A tokenizer.model read as the tokenizer class that loads it reads it:
// - without byte fallback, a run of unknown characters is one <unk>: sentencepiece's
//   PopulateSentencePieceText merges consecutive unknown pieces, and transformers' converters write
//   fuse_unk for the same reason;
// - a Gemma folder's is read as transformers' Gemma tokenizer builds its pipeline (GemmaConverter for
//   GemmaTokenizerFast, and transformers 5's GemmaTokenizer): spaces become U+2581 and nothing else, so no
//   word-start "▁" is prepended and no normalization rules apply, whatever the file's normalizer spec says.
//   The canonical GGUF converter writes Gemma files the same way (add_space_prefix = false, no rules), so
//   the fixture's converted file is the reference for the folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fixtures.h"
#include "io/gguf.h"
#include "model/model_tokenizer.h"
#include "model/tokenizer_class.h"
#include "text/sentencepiece.h"
#include "text/tokenizer.h"
#include "../../support/scratch_root.h"

namespace arbiter {
namespace {

using test::shared_path;

// tiny-spm's tokenizer.model with trainer_spec.byte_fallback (field 35, varint: key bytes 98 02) set to 0.
std::string model_without_byte_fallback() {
  std::string bytes = test::slurp(shared_path("fixtures/tokenizers/tiny-spm/tokenizer.model"));
  const std::string flag_on("\x98\x02\x01", 3);
  const size_t at = bytes.find(flag_on);
  EXPECT_NE(at, std::string::npos);
  EXPECT_EQ(bytes.find(flag_on, at + 1), std::string::npos);
  if (at != std::string::npos) bytes[at + 2] = '\x00';
  return bytes;
}

TEST(SentencePieceReaders, UnknownRunsFuseWithoutByteFallback) {
  const std::filesystem::path dir = test::scratch_root() / "spm-no-byte-fallback";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "tokenizer.model").string();
  std::ofstream(path, std::ios::binary) << model_without_byte_fallback();
  auto spm = parse_spm_model(test::slurp(path));
  ASSERT_TRUE(spm.is_ok()) << spm.message();
  ASSERT_FALSE(spm->byte_fallback);
  auto tok = Tokenizer::from_sentencepiece_model(path);
  ASSERT_TRUE(tok.is_ok()) << tok.message();
  // "▁a", one <unk> for the three euro signs, "b".
  EXPECT_EQ(*(*tok)->encode("a\u20ac\u20ac\u20acb", false, false), (std::vector<int32_t>{267, 0, 430}));
  EXPECT_EQ(*(*tok)->encode("a\u20acb", false, false), (std::vector<int32_t>{267, 0, 430}));
}

TEST(SentencePieceReaders, GemmaFolderEncodesAsItsCanonicalGguf) {
  auto folder = load_tokenizer_at(shared_path("fixtures/hf/gemma2"));
  ASSERT_TRUE(folder.is_ok()) << folder.message();
  auto gguf = GgufFile::open(shared_path("fixtures/gguf/gemma2.f32.gguf"));
  ASSERT_TRUE(gguf.is_ok()) << gguf.message();
  auto converted = Tokenizer::from_gguf(**gguf);
  ASSERT_TRUE(converted.is_ok()) << converted.message();
  for (const std::string text : {"hi there", " leading", "two  spaces", "line\nbreak", "\u2122 \uff21\uff22",
                                 "a\u20ac\u20acb"}) {
    auto ids = (*folder)->encode(text, true, true);
    ASSERT_TRUE(ids.is_ok()) << ids.message();
    EXPECT_EQ(*ids, *(*converted)->encode(text, true, true)) << text;
    auto decoded = (*folder)->decode(*ids, true);
    ASSERT_TRUE(decoded.is_ok());
    EXPECT_EQ(*decoded, text);
  }
  // No lone "▁" before the first word.
  const std::vector<int32_t> hi = *(*folder)->encode("hi", false, false);
  ASSERT_FALSE(hi.empty());
  EXPECT_NE((*folder)->id_to_token(hi.front()).rfind("\xE2\x96\x81", 0), 0u);
}

TEST(SentencePieceReaders, GemmaIsTheTokenizerClassOrElseTheArchitecture) {
  const std::filesystem::path dir = test::scratch_root() / "tokenizer-class";
  std::filesystem::create_directories(dir);
  const auto write = [&](const char* file, const nlohmann::json& j) { std::ofstream(dir / file) << j.dump(); };
  EXPECT_EQ(sentencepiece_reader_for(dir.string()), SpmReader::kModelSettings);
  write("config.json", {{"model_type", "gemma2"}});
  EXPECT_EQ(sentencepiece_reader_for(dir.string()), SpmReader::kGemma);
  write("tokenizer_config.json", {{"tokenizer_class", "LlamaTokenizer"}});
  EXPECT_EQ(sentencepiece_reader_for(dir.string()), SpmReader::kModelSettings);
  write("tokenizer_config.json", {{"tokenizer_class", "GemmaTokenizerFast"}});
  write("config.json", {{"model_type", "llama"}});
  EXPECT_EQ(sentencepiece_reader_for(dir.string()), SpmReader::kGemma);
  write("tokenizer_config.json", {{"bos_token", "<bos>"}});
  EXPECT_EQ(sentencepiece_reader_for(dir.string()), SpmReader::kModelSettings);
}

}  // namespace
}  // namespace arbiter
