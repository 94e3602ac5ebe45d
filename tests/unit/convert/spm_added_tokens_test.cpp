// A SentencePiece model fine-tuned with tokens of its own (ChatML's <|im_start|> / <|im_end|> on a
// Llama-2 or Mistral base): the model file knows none of them, tokenizer_config.json's
// added_tokens_decoder or added_tokens.json list them, and tokenizer_config.json names the EOS and whether
// a BOS is added. The folder reads them, and `convert` writes them into the GGUF, which then encodes as
// the folder does.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../../support/cli_helpers.h"
#include "convert_test_util.h"
#include "model/model_tokenizer.h"
#include "text/tokenizer.h"

namespace arbiter::convert_test {
namespace {

using arbiter::testing::run_arbiter;
using arbiter::testing::write_text;
using nlohmann::json;
namespace fs = std::filesystem;

constexpr int32_t kImEnd = 512, kImStart = 513;  // past the 512 pieces of the fixture's tokenizer.model

// A tokenizer folder: the llama fixture's tokenizer.model, with the ChatML tokens listed either in
// tokenizer_config.json (added_tokens_decoder) or in added_tokens.json.
std::string chatml_folder(const std::string& name, bool in_added_tokens_json) {
  const fs::path dir = fs::path(scratch_dir()) / name;
  fs::create_directories(dir);
  fs::copy_file(hf_fixture("llama") + "/tokenizer.model", dir / "tokenizer.model", fs::copy_options::overwrite_existing);
  json config = {{"tokenizer_class", "LlamaTokenizer"}, {"bos_token", "<s>"}, {"eos_token", "<|im_end|>"},
                 {"add_bos_token", false},
                 {"chat_template", "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"}};
  if (in_added_tokens_json) {
    config["additional_special_tokens"] = json::array({"<|im_end|>", "<|im_start|>"});
    write_text((dir / "added_tokens.json").string(), json{{"<|im_end|>", kImEnd}, {"<|im_start|>", kImStart}}.dump());
  } else {
    config["added_tokens_decoder"] = {
        {std::to_string(kImEnd), {{"content", "<|im_end|>"}, {"special", true}, {"normalized", false}}},
        {std::to_string(kImStart), {{"content", "<|im_start|>"}, {"special", false}, {"normalized", false}}}};
  }
  write_text((dir / "tokenizer_config.json").string(), config.dump());
  return dir.string();
}

json tokenize(const std::string& model, const std::string& text) {
  return arbiter::testing::tokenize_ids(model, text, "--special");
}

class SpmAddedTokens : public ::testing::TestWithParam<bool> {};

TEST_P(SpmAddedTokens, TheFolderAndItsConversionEncodeAlike) {
  const std::string name = GetParam() ? "chatml-added-json" : "chatml-decoder";
  const std::string tok = chatml_folder(name + "-tok", GetParam());
  // The folder's tokenizer: both tokens whole, no BOS (add_bos_token false), <|im_end|> the EOS.
  const json ids = tokenize(tok, "<|im_start|>user hi<|im_end|>");
  ASSERT_TRUE(ids.is_array());
  const auto got = ids.get<std::vector<int32_t>>();
  ASSERT_GE(got.size(), 3u);
  EXPECT_EQ(got.front(), kImStart) << ids.dump();
  EXPECT_EQ(got.back(), kImEnd) << ids.dump();

  // A model of that vocabulary, converted: the GGUF encodes the same ids and names <|im_end|> its EOS.
  const std::string model = scratch_dir() + "/" + name + "-rm";
  auto made = run_arbiter("-q create-model --arch llama --head seqcls --tokenizer " + tok + " --out " + model);
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const std::string gguf = scratch_dir() + "/" + name + ".gguf";
  auto converted = run_arbiter("-q convert " + model + " -o " + gguf + " --type f32");
  ASSERT_EQ(converted.exit_code, 0) << converted.out;
  for (const std::string text : {"<|im_start|>user hi<|im_end|>", "plain text, no tokens", "a<|im_end|>b<|im_start|>"})
    EXPECT_EQ(tokenize(gguf, text), tokenize(model, text)) << text;
  auto decoded = run_arbiter("tokenize -m " + gguf + " --decode " + std::to_string(kImEnd) + "," + std::to_string(kImStart));
  ASSERT_EQ(decoded.exit_code, 0) << decoded.out;
  EXPECT_NE(decoded.out.find("<|im_end|><|im_start|>"), std::string::npos) << decoded.out;
  for (const std::string& path : {model, gguf}) {
    auto loaded = load_model(path);
    ASSERT_TRUE(loaded.is_ok()) << loaded.message();
    auto tokenizer = load_model_tokenizer(**loaded);
    ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.message();
    EXPECT_EQ((*tokenizer)->eos_id(), std::optional<int32_t>(kImEnd)) << path;
  }
}

INSTANTIATE_TEST_SUITE_P(Lists, SpmAddedTokens, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "AddedTokensJson" : "AddedTokensDecoder"; });

// tokenizer_config.json's "legacy": false (transformers' Llama tokenizer): a word-start mark only where
// the input begins, none on the text after a special token; legacy (the default) marks both.
TEST(SpmLegacyFlag, FalseMarksOnlyTheInputsStart) {
  for (const bool legacy : {true, false}) {
    const std::string tok = chatml_folder(legacy ? "legacy-true" : "legacy-false", false);
    std::ifstream in(tok + "/tokenizer_config.json");
    json config = json::parse(in);
    in.close();
    config["legacy"] = legacy;
    write_text(tok + "/tokenizer_config.json", config.dump());
    auto r = run_arbiter("tokenize -m " + tok + " --json --parse-special --text 'x<|im_end|>y'");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto tokens = json::parse(r.out)["tokens"].get<std::vector<std::string>>();
    ASSERT_GE(tokens.size(), 3u) << r.out;
    EXPECT_EQ(tokens.front().rfind("\u2581", 0), 0u) << r.out;  // the input's start is marked either way
    const auto end = std::find(tokens.begin(), tokens.end(), "<|im_end|>");
    ASSERT_NE(end, tokens.end()) << r.out;
    ASSERT_NE(end + 1, tokens.end()) << r.out;
    EXPECT_EQ((end + 1)->rfind("\u2581", 0) == 0, legacy) << "legacy " << legacy << ": " << r.out;
  }
}

// Ids no vocabulary has (a corrupt or hostile file) are refused, naming the file and the entry, rather
// than a vocabulary of billions allocated.
TEST(SpmAddedTokens, AnIdPastAnyVocabularyIsRefused) {
  const std::string tok = chatml_folder("huge-id", true);
  write_text(tok + "/added_tokens.json", R"({"<|im_end|>": 2000000000})");
  auto r = run_arbiter("tokenize -m " + tok + " --text hi");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("added_tokens.json: '<|im_end|>' has no token id"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace arbiter::convert_test
