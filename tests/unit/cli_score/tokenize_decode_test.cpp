// `tokenize --decode`: the text is written whole (a byte token 0x00 decodes to a NUL, which the JSON form
// shows as \u0000), and an empty id list decodes to nothing rather than falling through to encoding.
#include <gtest/gtest.h>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;
using nlohmann::json;

TEST(TokenizeDecode, PlainOutputKeepsNulBytes) {
  const std::string tiny_spm = kShared + "/fixtures/tokenizers/tiny-spm";
  // 267 "▁a", 3 "<0x00>" (byte fallback: a NUL byte), 267 "▁a"; the first word's space is stripped.
  const auto plain = run_arbiter("-t 1 tokenize -m " + tiny_spm + " --decode 267,3,267");
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  EXPECT_EQ(plain.out, std::string("a\0 a\n", 5));
  const auto as_json = run_arbiter("-t 1 tokenize -m " + tiny_spm + " --decode 267,3,267 --json");
  ASSERT_EQ(as_json.exit_code, 0) << as_json.out;
  EXPECT_EQ(json::parse(as_json.out)["text"], std::string("a\0 a", 4));
}

TEST(TokenizeDecode, NoIdsDecodeToNothing) {
  const std::string llama3 = kShared + "/fixtures/tokenizers/llama3";
  const auto as_json = run_arbiter("-t 1 tokenize -m " + llama3 + " --decode '' --json");
  ASSERT_EQ(as_json.exit_code, 0) << as_json.out;
  EXPECT_EQ(json::parse(as_json.out), (json{{"text", ""}}));
  const auto plain = run_arbiter("-t 1 tokenize -m " + llama3 + " --decode '' --skip-special");
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  EXPECT_EQ(plain.out, "\n");
  const auto too_large = run_arbiter("-t 1 tokenize -m " + llama3 + " --decode 99999999999");
  EXPECT_NE(too_large.exit_code, 0);
  EXPECT_NE(too_large.out.find("'99999999999' is outside the 32-bit integer range"), std::string::npos) << too_large.out;
}

}  // namespace
}  // namespace arbiter
