// SentencePiece tokenizer.model files against the sentencepiece library's own encodings (tiny-spm) and
// the tiny models' tokenizers.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "text/sentencepiece.h"
#include "text/tokenizer.h"

namespace arbiter {
namespace {

using test::read_json;
using test::shared_path;

TEST(SentencePiece, ParsesModelProto) {
  auto spm = parse_spm_model(test::slurp(shared_path("fixtures/tokenizers/tiny-spm/tokenizer.model")));
  ASSERT_TRUE(spm.is_ok()) << spm.message();
  EXPECT_EQ(spm->pieces.size(), 512u);
  EXPECT_EQ(spm->model_type, 2);
  EXPECT_TRUE(spm->byte_fallback);
  EXPECT_EQ(spm->normalizer_name, "nmt_nfkc");
  EXPECT_FALSE(spm->remove_extra_whitespaces);
  EXPECT_TRUE(spm->add_dummy_prefix);
  EXPECT_EQ(spm->pieces[0].piece, "<unk>");
  EXPECT_EQ(spm->pieces[0].type, SpmPieceType::kUnknown);
  EXPECT_EQ(spm->pieces[1].type, SpmPieceType::kControl);
  EXPECT_EQ(spm->pieces[3].piece, "<0x00>");
  EXPECT_EQ(spm->pieces[3].type, SpmPieceType::kByte);
  EXPECT_EQ(spm->pad_id, -1);
}

TEST(SentencePiece, RejectsGarbage) {
  EXPECT_FALSE(parse_spm_model("").is_ok());
  EXPECT_FALSE(parse_spm_model("\x0a\xff\xff\xff\x0f").is_ok());  // length past the end
  auto missing = Tokenizer::from_sentencepiece_model("/nonexistent/tokenizer.model");
  EXPECT_FALSE(missing.is_ok());
}

TEST(SentencePiece, TinySpmMatchesLibrary) {
  std::string dir = shared_path("fixtures/tokenizers/tiny-spm");
  auto tok = Tokenizer::from_sentencepiece_model(dir + "/tokenizer.model");
  ASSERT_TRUE(tok.is_ok()) << tok.message();
  auto ref = read_json(dir + "/reference.json");
  size_t n = ref["texts"].size(), ids_ok = 0, pieces_ok = 0, decoded_ok = 0;
  for (size_t i = 0; i < n; ++i) {
    std::string text = ref["texts"][i];
    // The library never parses control symbols out of text.
    auto ids = (*tok)->encode(text, false, false);
    ASSERT_TRUE(ids.is_ok()) << ids.message();
    auto want = ref["ids"][i].get<std::vector<int32_t>>();
    EXPECT_EQ(*ids, want) << "text: " << text;
    ids_ok += *ids == want;
    std::vector<std::string> pieces;
    for (int32_t id : want) pieces.push_back((*tok)->id_to_token(id));
    EXPECT_EQ(pieces, ref["pieces"][i].get<std::vector<std::string>>());
    pieces_ok += pieces == ref["pieces"][i].get<std::vector<std::string>>();
    auto decoded = (*tok)->decode(want, true);
    ASSERT_TRUE(decoded.is_ok());
    EXPECT_EQ(*decoded, ref["decoded"][i].get<std::string>()) << "text: " << text;
    decoded_ok += *decoded == ref["decoded"][i].get<std::string>();
  }
  std::printf("tiny-spm: ids %zu/%zu, pieces %zu/%zu, decoded %zu/%zu\n", ids_ok, n, pieces_ok, n, decoded_ok, n);
}

TEST(SentencePiece, AddsBosWhenAsked) {
  auto tok = Tokenizer::from_sentencepiece_model(shared_path("fixtures/tokenizers/tiny-spm/tokenizer.model"));
  ASSERT_TRUE(tok.is_ok()) << tok.message();
  auto ids = (*tok)->encode("Hello", true, false);
  ASSERT_TRUE(ids.is_ok());
  ASSERT_FALSE(ids->empty());
  EXPECT_EQ(ids->front(), 1);
  auto parsed = (*tok)->encode("<s>", false, true);
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(*parsed, std::vector<int32_t>{1});
}

TEST(SentencePiece, TinyModelsLoad) {
  for (const char* model : {"llama", "llama-bf16", "llama-seqcls1", "llama-seqcls5", "mistral", "gemma2",
                            "gemma2-seqcls1"}) {
    auto tok = Tokenizer::from_sentencepiece_model(shared_path(std::string("fixtures/hf/") + model + "/tokenizer.model"));
    ASSERT_TRUE(tok.is_ok()) << model << ": " << tok.message();
    EXPECT_EQ((*tok)->vocab_size(), 512) << model;
    EXPECT_EQ((*tok)->kind(), "sentencepiece-bpe");
    EXPECT_EQ((*tok)->bos_id(), 1);
    EXPECT_EQ((*tok)->eos_id(), 2);
    EXPECT_EQ((*tok)->id_to_token(0), "<unk>");
    EXPECT_TRUE((*tok)->is_special(1));
    EXPECT_EQ((*tok)->token_to_id("<0x41>"), 3 + 0x41);
  }
}

TEST(TokenizerJson, TinyByteLevelModelsLoad) {
  for (const char* model : {"qwen2", "qwen2-seqcls1", "qwen2-sharded", "qwen3", "qwen3-seqcls1"}) {
    std::string dir = shared_path(std::string("fixtures/hf/") + model);
    auto tok = Tokenizer::from_tokenizer_json(dir + "/tokenizer.json", dir + "/tokenizer_config.json");
    ASSERT_TRUE(tok.is_ok()) << model << ": " << tok.message();
    EXPECT_EQ((*tok)->kind(), "bpe (byte-level)") << model;
    // The model's 512 embedding rows exceed the tokenizer's 509 ids (0..508), as in real Qwen models.
    auto json = read_json(dir + "/tokenizer.json");
    int32_t max_id = 0;
    for (const auto& [token, id] : json["model"]["vocab"].items()) max_id = std::max(max_id, id.get<int32_t>());
    EXPECT_EQ((*tok)->vocab_size(), max_id + 1) << model;
    EXPECT_LE((*tok)->vocab_size(), read_json(dir + "/config.json")["vocab_size"].get<int>()) << model;
    auto added = json["added_tokens"];
    EXPECT_EQ(added.size(), 3u);
    for (const auto& entry : added) {
      EXPECT_EQ((*tok)->token_to_id(entry["content"].get<std::string>()), entry["id"].get<int32_t>()) << model;
      EXPECT_TRUE((*tok)->is_special(entry["id"].get<int32_t>()));
    }
    EXPECT_EQ((*tok)->eos_id(), (*tok)->token_to_id("<|im_end|>"));
    EXPECT_EQ((*tok)->pad_id(), (*tok)->token_to_id("<|endoftext|>"));
    EXPECT_FALSE((*tok)->bos_id().has_value());
    // Every id round-trips through decode without error.
    std::vector<int32_t> all;
    for (int32_t id = 0; id < (*tok)->vocab_size(); ++id) all.push_back(id);
    EXPECT_TRUE((*tok)->decode(all, false).is_ok());
  }
}

}  // namespace
}  // namespace arbiter

namespace arbiter {
namespace {

// The word split that add_spm_word_split enables must not change any id: encode the reference texts
// (joined, so words meet across texts) with and without it.
TEST(SentencePiece, WordSplitChangesNoIds) {
  auto tok = Tokenizer::from_sentencepiece_model(shared_path("fixtures/tokenizers/tiny-spm/tokenizer.model"));
  ASSERT_TRUE(tok.is_ok()) << tok.message();
  ASSERT_EQ((*tok)->config().pre_tokenizers.size(), 1u);  // the vocabulary allows the split
  TokenizerConfig whole_text = (*tok)->config();
  whole_text.pre_tokenizers.clear();
  auto unsplit = Tokenizer::create(whole_text);
  ASSERT_TRUE(unsplit.is_ok()) << unsplit.message();
  auto ref = read_json(shared_path("fixtures/tokenizers/tiny-spm/reference.json"));
  std::string text;
  for (int copy = 0; copy < 20; ++copy) {
    for (const auto& t : ref["texts"]) text += t.get<std::string>() + (copy % 2 ? " " : "");
  }
  auto a = (*tok)->encode(text, false, false);
  auto b = (*unsplit)->encode(text, false, false);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(*a, *b);
}

}  // namespace
}  // namespace arbiter
