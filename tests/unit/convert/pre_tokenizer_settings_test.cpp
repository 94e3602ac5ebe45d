// tokenizer.ggml.pre names more than a split: GGUF readers take ignore_merges from llama-bpe and NFC from
// qwen2. A Llama 3 split without ignore_merges is written as smaug-bpe, so the file encodes as the folder
// does; a difference no name can carry is warned about.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../../support/cli_helpers.h"
#include "convert_test_util.h"
#include "io/gguf.h"

namespace arbiter::convert_test {
namespace {

using arbiter::testing::run_arbiter;
using arbiter::testing::write_text;
using nlohmann::json;
namespace fs = std::filesystem;

std::string gguf_pre(const std::string& path) {
  auto file = GgufFile::open(path);
  EXPECT_TRUE(file.is_ok()) << file.message();
  if (!file.is_ok()) return "";
  return (*file)->get_string("tokenizer.ggml.pre").value_or("");
}

TEST(PreTokenizerSettings, LlamaThreesSplitWithoutIgnoreMergesEncodesAsTheFolder) {
  const fs::path tok = fs::path(scratch_dir()) / "llama3-merges";
  fs::create_directories(tok);
  std::ifstream in(kShared + "/fixtures/tokenizers/llama3/tokenizer.json");
  json tokenizer = json::parse(in);
  ASSERT_EQ(tokenizer["model"].value("ignore_merges", false), true);
  tokenizer["model"]["ignore_merges"] = false;
  write_text((tok / "tokenizer.json").string(), tokenizer.dump());
  fs::copy_file(kShared + "/fixtures/tokenizers/llama3/tokenizer_config.json", tok / "tokenizer_config.json",
                fs::copy_options::overwrite_existing);
  const std::string model = scratch_dir() + "/llama3-merges-rm";
  auto made = run_arbiter("-q create-model --arch llama --head seqcls --tokenizer " + tok.string() + " --out " + model);
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const std::string gguf = scratch_dir() + "/llama3-merges.gguf";
  auto converted = run_arbiter("convert " + model + " -o " + gguf + " --type f32");
  ASSERT_EQ(converted.exit_code, 0) << converted.out;
  EXPECT_EQ(converted.out.find("ignore_merges"), std::string::npos) << converted.out;  // a name carries it
  EXPECT_EQ(gguf_pre(gguf), "smaug-bpe");
  // Words that are whole vocabulary entries but merge otherwise: ignore_merges decides their ids.
  for (const std::string text : {"C\xe1\xbb\xad" "a Vi\xe1\xbb\x87t", "hello world", "  tabs\tand 12345 digits"})
    EXPECT_EQ(arbiter::testing::tokenize_ids(gguf, text), arbiter::testing::tokenize_ids(model, text)) << text;
}

TEST(PreTokenizerSettings, AQwenSplitWithoutNfcIsWarnedAbout) {
  // The fixture's Qwen tokenizer.json has no NFC normalizer, which real Qwen2 / Qwen3 files have.
  auto converted = run_arbiter("convert " + hf_fixture("qwen3") + " -o " + scratch_dir() + "/qwen3-nfc.gguf --type f32");
  ASSERT_EQ(converted.exit_code, 0) << converted.out;
  EXPECT_NE(converted.out.find("NFC-normalize the text of pre-tokenizer 'qwen2', which this tokenizer does not"),
            std::string::npos)
      << converted.out;
}

}  // namespace
}  // namespace arbiter::convert_test
