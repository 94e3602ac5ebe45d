// tokenizer.ggml.pre: which split each name selects, seen through a small byte-level vocabulary whose
// whole-word entries show where the pieces end. The expected pieces are read off the patterns'
// definitions (Tekken splits words at an upper-case letter after a lower-case one; SmolLM isolates every
// digit; Llama 3 keeps up to three digits together), not from this tokenizer's output.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/gguf.h"
#include "../../support/scratch_root.h"
#include "text/tokenizer.h"
#include "text/unicode.h"

namespace arbiter {
namespace {

// GPT-2's byte-level spelling of a text.
std::string spell(const std::string& text) {
  std::string out;
  for (char c : text) out += byte_to_unicode(uint8_t(c));
  return out;
}

struct Vocab {
  std::vector<std::string> tokens;  // byte-level spellings
  int32_t id(const std::string& text) const {
    for (size_t i = 0; i < tokens.size(); ++i)
      if (tokens[i] == spell(text)) return int32_t(i);
    ADD_FAILURE() << "no token '" << text << "'";
    return -1;
  }
};

// Token 0 is <s>; then every byte; then the whole words the tests look for.
Vocab small_vocab() {
  Vocab v;
  v.tokens.push_back("<s>");
  for (int b = 0; b < 256; ++b) v.tokens.push_back(byte_to_unicode(uint8_t(b)));
  for (const char* word : {"Hello", "World", "HelloWorld", "12", "123", "1234", " x", "x1"})
    v.tokens.push_back(spell(word));
  return v;
}

// The small vocabulary in a GGUF with the given pre-tokenizer name, loaded back.
Result<std::shared_ptr<Tokenizer>> load_with_pre(const std::string& pre, std::optional<bool> add_bos) {
  const Vocab v = small_vocab();
  GgufWriter w;
  w.set("general.architecture", GgufValue::from_string("llama"));
  w.set("tokenizer.ggml.model", GgufValue::from_string("gpt2"));
  w.set("tokenizer.ggml.pre", GgufValue::from_string(pre));
  w.set("tokenizer.ggml.tokens", GgufValue::from_strings(v.tokens));
  std::vector<int32_t> types(v.tokens.size(), 1);
  types[0] = 3;  // control
  w.set("tokenizer.ggml.token_type", GgufValue::from_i32s(types));
  // Merges build "12" and "123" from digits, so whether digits reach BPE together shows.
  w.set("tokenizer.ggml.merges", GgufValue::from_strings({"1 2", "12 3", "123 4", "Ġ x", "x 1"}));
  w.set("tokenizer.ggml.bos_token_id", GgufValue::from_u32(0));
  if (add_bos) w.set("tokenizer.ggml.add_bos_token", GgufValue::from_bool(*add_bos));
  const std::string suffix = !add_bos ? "" : *add_bos ? "-bos" : "-no-bos";
  const std::string path = (test::scratch_root() / ("pre-" + pre + suffix + ".gguf")).string();
  ARB_TRY(w.write(path));
  ARB_ASSIGN(auto gguf, GgufFile::open(path));
  return Tokenizer::from_gguf(*gguf);
}

std::shared_ptr<Tokenizer> tokenizer_with_pre(const std::string& pre, std::optional<bool> add_bos = std::nullopt) {
  auto tok = load_with_pre(pre, add_bos);
  EXPECT_TRUE(tok.is_ok()) << tok.message();
  return tok.is_ok() ? *tok : nullptr;
}

std::vector<int32_t> encode(const std::shared_ptr<Tokenizer>& tok, const std::string& text, bool add_special = false) {
  auto ids = tok->encode(text, add_special, false);
  EXPECT_TRUE(ids.is_ok()) << ids.message();
  return ids.is_ok() ? *ids : std::vector<int32_t>{};
}

TEST(GgufPreTokenizer, TekkenSplitsWordsAtCaseChanges) {
  const Vocab v = small_vocab();
  auto tekken = tokenizer_with_pre("tekken");
  auto llama3 = tokenizer_with_pre("llama-bpe");
  ASSERT_TRUE(tekken && llama3);
  // One \p{L}+ word for Llama 3 (found whole: both ignore merges for a word in the vocabulary); Tekken's
  // upper*lower+ alternative ends the first word before the second capital.
  EXPECT_EQ(encode(llama3, "HelloWorld"), (std::vector<int32_t>{v.id("HelloWorld")}));
  EXPECT_EQ(encode(tekken, "HelloWorld"), (std::vector<int32_t>{v.id("Hello"), v.id("World")}));
  // Digits one by one for Tekken; up to three together for Llama 3.
  EXPECT_EQ(encode(tekken, "1234"), (std::vector<int32_t>{v.id("1"), v.id("2"), v.id("3"), v.id("4")}));
  EXPECT_EQ(encode(llama3, "1234"), (std::vector<int32_t>{v.id("123"), v.id("4")}));
}

TEST(GgufPreTokenizer, SmolLmIsolatesEveryDigitBeforeGpt2Words) {
  const Vocab v = small_vocab();
  auto smollm = tokenizer_with_pre("smollm");
  auto gpt2 = tokenizer_with_pre("gpt-2");
  ASSERT_TRUE(smollm && gpt2);
  // GPT-2's " ?\p{N}+" keeps "1234" whole (merged to "1234"); SmolLM splits it into digits first.
  EXPECT_EQ(encode(gpt2, "1234"), (std::vector<int32_t>{v.id("1234")}));
  EXPECT_EQ(encode(smollm, "1234"), (std::vector<int32_t>{v.id("1"), v.id("2"), v.id("3"), v.id("4")}));
  // " x1": GPT-2 gives " x" then "1"; SmolLM the same pieces, the digit split first.
  EXPECT_EQ(encode(gpt2, " x1"), (std::vector<int32_t>{v.id(" x"), v.id("1")}));
  EXPECT_EQ(encode(smollm, " x1"), (std::vector<int32_t>{v.id(" x"), v.id("1")}));
}

TEST(GgufPreTokenizer, DeepSeekR1QwenUsesQwenSplit) {
  const Vocab v = small_vocab();
  auto r1 = tokenizer_with_pre("deepseek-r1-qwen");
  ASSERT_TRUE(r1);
  EXPECT_EQ(encode(r1, "1234"), (std::vector<int32_t>{v.id("1"), v.id("2"), v.id("3"), v.id("4")}));
  EXPECT_EQ(encode(r1, "HelloWorld"), (std::vector<int32_t>{v.id("H"), v.id("e"), v.id("l"), v.id("l"), v.id("o"),
                                                          v.id("W"), v.id("o"), v.id("r"), v.id("l"), v.id("d")}));
}

TEST(GgufPreTokenizer, Llama3AndTekkenAddBosWhenTheFileDoesNotSay) {
  for (const char* pre : {"tekken", "llama-bpe"}) {
    auto tok = tokenizer_with_pre(pre);
    ASSERT_TRUE(tok);
    auto ids = encode(tok, "12", true);
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids.front(), 0) << pre;
    auto off = tokenizer_with_pre(pre, false);
    ASSERT_TRUE(off);
    EXPECT_NE(encode(off, "12", true).front(), 0) << pre << " with add_bos_token = false";
  }
  auto gpt2 = tokenizer_with_pre("gpt-2");
  ASSERT_TRUE(gpt2);
  EXPECT_NE(encode(gpt2, "12", true).front(), 0);
}

TEST(GgufPreTokenizer, UnknownNameIsRefusedWithTheName) {
  auto tok = load_with_pre("made-up-pre", std::nullopt);
  ASSERT_FALSE(tok.is_ok());
  EXPECT_NE(tok.message().find("made-up-pre"), std::string::npos) << tok.message();
  EXPECT_NE(tok.message().find("pre-made-up-pre.gguf"), std::string::npos) << tok.message();
}

}  // namespace
}  // namespace arbiter
