// Malformed tokenizer.ggml.* metadata is refused, naming the key, rather than read as something else: a
// tokenizer.ggml.pre that is not a string would otherwise split text as GPT-2 does (for a Llama 3 file,
// other ids), and an empty token list would encode every text to nothing.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "io/gguf.h"
#include "../../support/scratch_root.h"
#include "text/tokenizer.h"

namespace arbiter {
namespace {

// ggml-vocab-gpt-2.gguf with one metadata value replaced, written to the scratch directory.
std::string gpt2_vocab_with(const std::string& name, const std::string& key, const GgufValue& value) {
  auto source = GgufFile::open(test::shared_path("models/vocab/ggml-vocab-gpt-2.gguf"));
  EXPECT_TRUE(source.is_ok()) << source.message();
  GgufWriter writer;
  if (source) {
    for (const auto& [k, v] : (*source)->metadata()) writer.set(k, v);
  }
  writer.set(key, value);
  const std::string path = (test::scratch_root() / name).string();
  EXPECT_TRUE(writer.write(path).is_ok());
  return path;
}

std::string tokenizer_error_of(const std::string& path) {
  auto gguf = GgufFile::open(path);
  if (!gguf) return "open: " + gguf.message();
  auto tok = Tokenizer::from_gguf(**gguf);
  return tok.is_ok() ? "" : tok.message();
}

TEST(GgufVocabErrors, APreTokenizerNameOfAnotherTypeIsAnError) {
  const std::string path = gpt2_vocab_with("pre-number.gguf", "tokenizer.ggml.pre", GgufValue::from_u32(5));
  EXPECT_EQ(tokenizer_error_of(path), path + ": tokenizer: tokenizer.ggml.pre is a uint32, not a string");
}

TEST(GgufVocabErrors, AnEmptyVocabularyIsAnError) {
  const std::string path = gpt2_vocab_with("no-tokens.gguf", "tokenizer.ggml.tokens", GgufValue::from_strings({}));
  EXPECT_EQ(tokenizer_error_of(path), path + ": tokenizer: tokenizer.ggml.tokens is empty");
}

}  // namespace
}  // namespace arbiter
