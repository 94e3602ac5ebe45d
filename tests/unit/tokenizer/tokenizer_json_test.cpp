// tokenizer.json tokenizers against the ids Hugging Face tokenizers produced (reference.json) and
// llama.cpp's test vectors for the same vocabularies.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "text/tokenizer.h"

namespace arbiter {
namespace {

using test::read_json;
using test::shared_path;

std::shared_ptr<Tokenizer> load_fixture(const std::string& name) {
  std::string dir = shared_path("fixtures/tokenizers/" + name);
  auto tok = Tokenizer::from_tokenizer_json(dir + "/tokenizer.json", dir + "/tokenizer_config.json");
  EXPECT_TRUE(tok.is_ok()) << tok.message();
  return tok.is_ok() ? *tok : nullptr;
}

// Shared across tests: loading an 11 MB tokenizer.json takes a fraction of a second.
std::shared_ptr<Tokenizer> fixture(const std::string& name) {
  static std::map<std::string, std::shared_ptr<Tokenizer>> cache;
  auto& slot = cache[name];
  if (!slot) slot = load_fixture(name);
  return slot;
}

void check_reference(const std::string& name) {
  auto tok = fixture(name);
  ASSERT_TRUE(tok);
  auto ref = read_json(shared_path("fixtures/tokenizers/" + name + "/reference.json"));
  size_t n = ref["texts"].size(), plain_ok = 0, special_ok = 0, decoded_ok = 0;
  for (size_t i = 0; i < n; ++i) {
    std::string text = ref["texts"][i];
    auto plain = tok->encode(text, false, true);
    ASSERT_TRUE(plain.is_ok()) << plain.message();
    auto want_plain = ref["ids_plain"][i].get<std::vector<int32_t>>();
    EXPECT_EQ(*plain, want_plain) << name << " ids_plain for: " << text;
    plain_ok += *plain == want_plain;

    auto special = tok->encode(text, true, true);
    ASSERT_TRUE(special.is_ok()) << special.message();
    auto want_special = ref["ids_special"][i].get<std::vector<int32_t>>();
    EXPECT_EQ(*special, want_special) << name << " ids_special for: " << text;
    special_ok += *special == want_special;

    auto decoded = tok->decode(want_plain, true);
    ASSERT_TRUE(decoded.is_ok()) << decoded.message();
    EXPECT_EQ(*decoded, ref["decoded"][i].get<std::string>()) << name << " decoded for: " << text;
    decoded_ok += *decoded == ref["decoded"][i].get<std::string>();
  }
  std::printf("%s reference: ids_plain %zu/%zu, ids_special %zu/%zu, decoded %zu/%zu\n", name.c_str(), plain_ok, n,
              special_ok, n, decoded_ok, n);
}

TEST(TokenizerJson, Llama3MatchesHuggingFace) { check_reference("llama3"); }
TEST(TokenizerJson, Qwen3MatchesHuggingFace) { check_reference("qwen3"); }

// The rendered chat strings, encoded with special tokens parsed, give apply_chat_template's ids.
void check_chat(const std::string& name) {
  auto tok = fixture(name);
  ASSERT_TRUE(tok);
  auto ref = read_json(shared_path("fixtures/tokenizers/" + name + "/reference.json"));
  size_t ok = 0;
  for (const auto& chat : ref["chat"]) {
    auto ids = tok->encode(chat["rendered"].get<std::string>(), false, true);
    ASSERT_TRUE(ids.is_ok()) << ids.message();
    auto want = chat["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(*ids, want) << chat["rendered"];
    ok += *ids == want;
  }
  std::printf("%s chat: %zu/%zu\n", name.c_str(), ok, ref["chat"].size());
}

TEST(TokenizerJson, Llama3ChatRenderedIds) { check_chat("llama3"); }
TEST(TokenizerJson, Qwen3ChatRenderedIds) { check_chat("qwen3"); }

TEST(TokenizerJson, Llama3Properties) {
  auto tok = fixture("llama3");
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->kind(), "bpe (byte-level)");
  EXPECT_EQ(tok->vocab_size(), 128256);
  EXPECT_EQ(tok->bos_id(), 128000);
  EXPECT_EQ(tok->eos_id(), 128001);
  EXPECT_EQ(tok->token_to_id("<|eot_id|>"), 128009);
  EXPECT_EQ(tok->id_to_token(128006), "<|start_header_id|>");
  EXPECT_TRUE(tok->is_special(128009));
  EXPECT_FALSE(tok->is_special(15339));
}

TEST(TokenizerJson, Qwen3Properties) {
  auto tok = fixture("qwen3");
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->kind(), "bpe (byte-level)");
  EXPECT_EQ(tok->token_to_id("<|im_start|>"), 151644);
  EXPECT_EQ(tok->eos_id(), 151645);   // tokenizer_config eos_token <|im_end|>
  EXPECT_EQ(tok->pad_id(), 151643);   // <|endoftext|>
  EXPECT_FALSE(tok->bos_id().has_value());
}

// Without parse_special a special token's text is ordinary text.
TEST(TokenizerJson, SpecialTextNotParsedWhenAsked) {
  auto tok = fixture("qwen3");
  ASSERT_TRUE(tok);
  auto parsed = tok->encode("<|im_end|>", false, true);
  auto literal = tok->encode("<|im_end|>", false, false);
  ASSERT_TRUE(parsed.is_ok() && literal.is_ok());
  EXPECT_EQ(*parsed, std::vector<int32_t>{151645});
  EXPECT_GT(literal->size(), 1u);
  for (int32_t id : *literal) EXPECT_LT(id, 151643);
  auto back = tok->decode(*literal, true);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, "<|im_end|>");
}

// llama.cpp's test vectors for Llama 3 (llama-bpe) and Qwen2, with the tokenizer.json of the same
// vocabulary. The qwen3 file shares Qwen2's regular vocabulary and merges.
void check_vectors(const std::string& tokenizer, const std::string& vectors) {
  auto tok = fixture(tokenizer);
  ASSERT_TRUE(tok);
  auto cases = test::read_vocab_vectors(shared_path("models/vocab/" + vectors));
  ASSERT_EQ(cases.size(), 46u);
  size_t ok = 0;
  for (const auto& c : cases) {
    auto ids = tok->encode(c.text, false, false);
    ASSERT_TRUE(ids.is_ok()) << ids.message();
    EXPECT_EQ(*ids, c.ids) << vectors << ": '" << c.text << "'";
    ok += *ids == c.ids;
  }
  std::printf("%s with %s: %zu/%zu\n", vectors.c_str(), tokenizer.c_str(), ok, cases.size());
}

TEST(TokenizerJson, LlamaBpeVectors) { check_vectors("llama3", "ggml-vocab-llama-bpe.gguf"); }
TEST(TokenizerJson, Qwen2Vectors) { check_vectors("qwen3", "ggml-vocab-qwen2.gguf"); }

}  // namespace
}  // namespace arbiter
