// score --per-turn: every assistant turn of a row's prompt is scored in the conversation up to it, as a
// row holding that conversation alone would be; the turns share their beginnings, which are computed once.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;
using nlohmann::json;

json turn(const std::string& role, const std::string& content) { return json{{"role", role}, {"content", content}}; }

// A conversation whose prompt holds two assistant turns (after a system message), then the response.
json conversation() {
  std::string long_question = "Please explain, step by step and with care,";
  for (int k = 0; k < 10; ++k) long_question += " point " + std::to_string(k) + " of the matter in plain words,";
  return json::array({turn("system", "Be brief."), turn("user", long_question), turn("assistant", "Hello! Which point first?"),
                      turn("user", "Start with point 3."), turn("assistant", "Point 3 is the cost."),
                      turn("user", "And point 4?")});
}

long long summary_count(const std::string& out, const std::string& pattern) {
  std::smatch m;
  return std::regex_search(out, m, std::regex(pattern)) ? std::stoll(m[1]) : -1;
}

TEST(PerTurn, EachTurnScoresAsItsConversationAlone) {
  const std::string dir = temp_dir("per-turn");
  auto made = run_arbiter("-q create-model --arch qwen2 --head seqcls --labels helpfulness,verbosity --tokenizer " + kShared +
                          "/fixtures/tokenizers/qwen3 --out " + dir + "/rm");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const json conv = conversation();
  {
    std::ofstream rows(dir + "/rows.jsonl");
    rows << json{{"id", "whole"}, {"prompt", conv}, {"response", "Point 4 is the risk."}}.dump() << "\n";
    rows << json{{"id", "no-turns"}, {"prompt", "Hi"}, {"response", "Hello."}}.dump() << "\n";
    // Each turn as a row of its own: the conversation before it, the turn as the response.
    std::ofstream cuts(dir + "/cuts.jsonl");
    cuts << json{{"id", "t0"}, {"prompt", json(conv.begin(), conv.begin() + 2)}, {"response", conv[2]["content"]}}.dump() << "\n";
    cuts << json{{"id", "t1"}, {"prompt", json(conv.begin(), conv.begin() + 4)}, {"response", conv[4]["content"]}}.dump() << "\n";
    cuts << json{{"id", "r"}, {"prompt", conv}, {"response", "Point 4 is the risk."}}.dump() << "\n";
  }
  auto per_turn = run_arbiter("score -m " + dir + "/rm -i " + dir + "/rows.jsonl -o " + dir + "/per-turn.jsonl --per-turn");
  ASSERT_EQ(per_turn.exit_code, 0) << per_turn.out;
  auto cut = run_arbiter("-q score -m " + dir + "/rm -i " + dir + "/cuts.jsonl -o " + dir + "/cuts.out.jsonl");
  ASSERT_EQ(cut.exit_code, 0) << cut.out;
  const auto lines = read_jsonl(dir + "/per-turn.jsonl");
  const auto alone = read_jsonl(dir + "/cuts.out.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  ASSERT_EQ(alone.size(), 3u);
  ASSERT_TRUE(lines[0].contains("turns")) << lines[0].dump();
  ASSERT_EQ(lines[0]["turns"].size(), 2u) << lines[0].dump();
  // The same bytes: a turn computed after what it shares with the others reads what it reads alone.
  EXPECT_EQ(lines[0]["turns"][0]["attributes"], alone[0]["attributes"]);
  EXPECT_EQ(lines[0]["turns"][1]["attributes"], alone[1]["attributes"]);
  EXPECT_EQ(lines[0]["attributes"], alone[2]["attributes"]);
  EXPECT_NE(lines[0]["turns"][0]["attributes"], lines[0]["turns"][1]["attributes"]);
  // A prompt without an assistant turn has none to score.
  EXPECT_EQ(lines[1]["turns"], json::array()) << lines[1].dump();
  EXPECT_TRUE(lines[1].contains("attributes")) << lines[1].dump();
  // The long first question is in every sequence of the row, computed once.
  const long long tokens = summary_count(per_turn.out, R"((\d+) tokens in )");
  const long long computed = summary_count(per_turn.out, R"((\d+) computed, shared prefixes once)");
  ASSERT_GT(tokens, 0) << per_turn.out;
  EXPECT_GT(computed, 0) << per_turn.out;
  EXPECT_LT(computed, tokens) << per_turn.out;
}

TEST(PerTurn, WhatItCannotScoreIsAnError) {
  const std::string dir = temp_dir("per-turn-errors");
  // A process reward model's steps are not turns.
  auto prm = run_arbiter("score -m " + kShared + "/fixtures/hf/llama -i " + dir + "/none.jsonl -o " + dir +
                         "/o.jsonl --per-turn --step-tokens '+,-' --step-tag x");
  EXPECT_NE(prm.exit_code, 0);
  EXPECT_NE(prm.out.find("--per-turn"), std::string::npos) << prm.out;
  // A row of token ids has no turns: a row error that says so.
  write_text(dir + "/ids.jsonl", R"({"id": "ids", "input_ids": [1, 2, 3]})" "\n");
  auto made = run_arbiter("-q create-model --arch qwen2 --head seqcls --labels helpfulness --tokenizer " + kShared +
                          "/fixtures/tokenizers/qwen3 --out " + dir + "/rm");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  auto ids = run_arbiter("score -m " + dir + "/rm -i " + dir + "/ids.jsonl -o " + dir + "/o.jsonl --per-turn");
  EXPECT_NE(ids.exit_code, 0);
  EXPECT_NE(ids.out.find("input_ids"), std::string::npos) << ids.out;
  EXPECT_NE(ids.out.find("row ids"), std::string::npos) << ids.out;
}

}  // namespace
}  // namespace arbiter
