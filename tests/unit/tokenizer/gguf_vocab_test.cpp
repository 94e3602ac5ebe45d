// GGUF vocabularies (tokenizer.ggml.*) against llama.cpp's test vectors.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "io/gguf.h"
#include "../../support/scratch_root.h"
#include "text/tokenizer.h"

namespace arbiter {
namespace {

using test::shared_path;

std::shared_ptr<Tokenizer> load_gguf(const std::string& name) {
  auto gguf = GgufFile::open(shared_path("models/vocab/" + name));
  EXPECT_TRUE(gguf.is_ok()) << gguf.message();
  if (!gguf) return nullptr;
  auto tok = Tokenizer::from_gguf(**gguf);
  EXPECT_TRUE(tok.is_ok()) << tok.message();
  return tok.is_ok() ? *tok : nullptr;
}

void check_vectors(const std::string& name) {
  auto tok = load_gguf(name);
  ASSERT_TRUE(tok);
  auto cases = test::read_vocab_vectors(shared_path("models/vocab/" + name));
  ASSERT_EQ(cases.size(), 46u);
  size_t ok = 0;
  for (const auto& c : cases) {
    auto ids = tok->encode(c.text, false, false);
    ASSERT_TRUE(ids.is_ok()) << ids.message();
    EXPECT_EQ(*ids, c.ids) << name << ": '" << c.text << "'";
    ok += *ids == c.ids;
  }
  std::printf("%s: %zu/%zu\n", name.c_str(), ok, cases.size());
}

TEST(GgufVocab, LlamaSpmVectors) { check_vectors("ggml-vocab-llama-spm.gguf"); }
TEST(GgufVocab, Gpt2Vectors) { check_vectors("ggml-vocab-gpt-2.gguf"); }

TEST(GgufVocab, LlamaSpmProperties) {
  auto tok = load_gguf("ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->kind(), "sentencepiece-bpe");
  EXPECT_EQ(tok->vocab_size(), 32000);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  auto ids = tok->encode("Hello world", true, false);
  ASSERT_TRUE(ids.is_ok());
  EXPECT_EQ(*ids, (std::vector<int32_t>{1, 15043, 3186}));  // add_bos_token = true
  auto text = tok->decode(*ids, true);
  ASSERT_TRUE(text.is_ok());
  EXPECT_EQ(*text, "Hello world");
}

TEST(GgufVocab, Gpt2Properties) {
  auto tok = load_gguf("ggml-vocab-gpt-2.gguf");
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->kind(), "bpe (byte-level)");
  EXPECT_EQ(tok->vocab_size(), 50257);
  EXPECT_EQ(tok->token_to_id("<|endoftext|>"), 50256);
  auto ids = tok->encode(" Hello world", false, false);
  ASSERT_TRUE(ids.is_ok());
  auto text = tok->decode(*ids, false);
  ASSERT_TRUE(text.is_ok());
  EXPECT_EQ(*text, " Hello world");
}

// A special token id outside the vocabulary is read as absent, as llama.cpp reads it, and said: a model
// that reads its reward at the EOS then reports that it has none instead of reading another token.
TEST(GgufVocab, ASpecialIdOutsideTheVocabularyIsReadAsAbsentWithAWarning) {
  auto source = GgufFile::open(shared_path("models/vocab/ggml-vocab-llama-spm.gguf"));
  ASSERT_TRUE(source.is_ok()) << source.message();
  GgufWriter writer;
  for (const auto& [key, value] : (*source)->metadata()) writer.set(key, value);
  writer.set("tokenizer.ggml.eos_token_id", GgufValue::from_u32(32000));
  const std::string path = (test::scratch_root() / "eos-outside.gguf").string();
  ASSERT_TRUE(writer.write(path).is_ok());
  auto edited = GgufFile::open(path);
  ASSERT_TRUE(edited.is_ok()) << edited.message();
  testing::internal::CaptureStderr();
  auto tok = Tokenizer::from_gguf(**edited);
  const std::string said = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(tok.is_ok()) << tok.message();
  EXPECT_EQ((*tok)->eos_id(), std::nullopt);
  EXPECT_EQ((*tok)->bos_id(), 1);
  EXPECT_NE(said.find("tokenizer.ggml.eos_token_id is 32000, outside the 32000 tokens: read as absent"), std::string::npos)
      << said;
}

}  // namespace
}  // namespace arbiter
