// Damaged tokenizer files give errors that name the file at fault and say where: a tokenizer.json or
// tokenizer_config.json cut short (an interrupted download) is malformed JSON at a byte, a wrong type
// inside tokenizer_config.json names that file and its key, and an id far past a file's tokens is refused
// before any table is sized by it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "fixtures.h"
#include "text/tokenizer.h"
#include "tiny_byte_level.h"

namespace arbiter {
namespace {

std::string write_file_under(const std::string& dir_name, const std::string& file, const std::string& text) {
  const std::filesystem::path dir = test::scratch_root() / dir_name;
  std::filesystem::create_directories(dir);
  const std::string path = (dir / file).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(TokenizerFileErrors, ATruncatedTokenizerJsonIsMalformedAtAByte) {
  const std::string full = test::slurp(test::shared_path("fixtures/tokenizers/qwen3/tokenizer.json"));
  const std::string path = write_file_under("truncated-json", "tokenizer.json", full.substr(0, full.size() / 2));
  auto tok = Tokenizer::from_tokenizer_json(path, "");
  ASSERT_FALSE(tok.is_ok());
  EXPECT_EQ(tok.message().rfind(path + ": malformed JSON", 0), 0u) << tok.message();
  EXPECT_TRUE(contains(tok.message(), "of " + std::to_string(full.size() / 2) + ")")) << tok.message();
}

TEST(TokenizerFileErrors, TokenizerConfigErrorsNameThatFile) {
  const std::string dir = test::shared_path("fixtures/tokenizers/qwen3");
  const std::string config = test::slurp(dir + "/tokenizer_config.json");
  const std::string truncated = write_file_under("truncated-config", "tokenizer_config.json", config.substr(0, 500));
  auto cut = Tokenizer::from_tokenizer_json(dir + "/tokenizer.json", truncated);
  ASSERT_FALSE(cut.is_ok());
  EXPECT_EQ(cut.message().rfind(truncated + ": malformed JSON", 0), 0u) << cut.message();

  nlohmann::json edited = nlohmann::json::parse(config);
  edited["eos_token"] = {{"content", 5}};
  const std::string mistyped = write_file_under("mistyped-config", "tokenizer_config.json", edited.dump());
  auto typed = Tokenizer::from_tokenizer_json(dir + "/tokenizer.json", mistyped);
  ASSERT_FALSE(typed.is_ok());
  EXPECT_EQ(typed.message().rfind(mistyped + ": eos_token", 0), 0u) << typed.message();
}

TEST(TokenizerFileErrors, AnIdFarPastTheTokensIsRefused) {
  nlohmann::json tokenizer = test::tiny_byte_level_tokenizer({{"<x>", true, false}});
  tokenizer["model"]["vocab"]["far"] = 1 << 24;
  const std::string far_vocab = test::write_tiny_tokenizer("far-vocab-id", tokenizer);
  const auto start = std::chrono::steady_clock::now();
  auto tok = Tokenizer::from_tokenizer_json(far_vocab, "");
  ASSERT_FALSE(tok.is_ok());
  EXPECT_EQ(tok.message().rfind(far_vocab + ": model.vocab: token 'far' has id 16777216", 0), 0u) << tok.message();
  // Refused before the tables are sized by it (1.5 GB and seconds at that id).
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);

  tokenizer = test::tiny_byte_level_tokenizer({{"<x>", true, false}});
  tokenizer["added_tokens"][0]["id"] = 300000;
  const std::string far_added = test::write_tiny_tokenizer("far-added-id", tokenizer);
  auto added = Tokenizer::from_tokenizer_json(far_added, "");
  ASSERT_FALSE(added.is_ok());
  EXPECT_EQ(added.message().rfind(far_added + ": added token '<x>': id 300000", 0), 0u) << added.message();

  // Gaps of reserved ids, as real files have, are fine.
  tokenizer["added_tokens"][0]["id"] = 256 + 1000;
  auto gapped = Tokenizer::from_tokenizer_json(test::write_tiny_tokenizer("gapped-added-id", tokenizer), "");
  ASSERT_TRUE(gapped.is_ok()) << gapped.message();
  EXPECT_EQ(*(*gapped)->encode("<x>", false, true), std::vector<int32_t>{1256});
}

}  // namespace
}  // namespace arbiter
