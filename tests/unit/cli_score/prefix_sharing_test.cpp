// Shared prefixes from the command line: judging, scoring and extracting features of rows whose
// sequences start alike (a pair's two responses after one long prompt) writes the same bytes with sharing
// on (the default) and off, and the run's summary says how many tokens were computed.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

// Preference pairs whose prompts are long enough (well over 64 tokens) to be worth sharing.
std::string write_pairs(const std::string& dir) {
  const std::string rows = dir + "/pairs.jsonl";
  std::ofstream out(rows);
  const char* topics[] = {"rivers", "bridges", "comets"};
  for (int i = 0; i < 3; ++i) {
    std::string prompt = "Write a careful, well organised explanation about " + std::string(topics[i]) + ".";
    for (int k = 0; k < 12; ++k) prompt += " Cover point " + std::to_string(k) + " in plain words, with an example.";
    nlohmann::json row = {{"id", std::to_string(i)},
                          {"prompt", prompt},
                          {"chosen", "A clear answer about " + std::string(topics[i]) + " that covers every point."},
                          {"rejected", "No."}};
    out << row.dump() << "\n";
  }
  return rows;
}

long long summary_number(const std::string& out, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(pattern))) return -1;
  return std::stoll(m[1]);
}

void expect_same_output(const std::string& command, const std::string& dir, const std::string& name) {
  auto shared = run_arbiter(command + " -o " + dir + "/" + name + ".shared.jsonl");
  ASSERT_EQ(shared.exit_code, 0) << shared.out;
  auto whole = run_arbiter("--no-prefix-sharing " + command + " -o " + dir + "/" + name + ".whole.jsonl");
  ASSERT_EQ(whole.exit_code, 0) << whole.out;
  const std::string a = read_text(dir + "/" + name + ".shared.jsonl"), b = read_text(dir + "/" + name + ".whole.jsonl");
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, b) << name;
  const long long tokens = summary_number(shared.out, R"((\d+) tokens in )");
  const long long computed = summary_number(shared.out, R"((\d+) computed, shared prefixes once)");
  ASSERT_GT(tokens, 0) << shared.out;
  EXPECT_GT(computed, 0) << shared.out;
  EXPECT_LT(computed, tokens) << shared.out;
  EXPECT_EQ(summary_number(whole.out, R"((\d+) computed, shared prefixes once)"), -1) << whole.out;
}

TEST(PrefixSharing, JudgeScoreAndFeaturesWriteTheSameBytesEitherWay) {
  const std::string dir = temp_dir("prefix-sharing");
  const std::string tokenizer = kShared + "/fixtures/tokenizers/qwen3";
  auto judge = run_arbiter("-q create-model --arch qwen2 --tokenizer " + tokenizer + " --out " + dir + "/judge");
  ASSERT_EQ(judge.exit_code, 0) << judge.out;
  auto reward = run_arbiter("-q create-model --arch qwen2 --head seqcls --labels helpfulness,verbosity --tokenizer " +
                            tokenizer + " --out " + dir + "/reward");
  ASSERT_EQ(reward.exit_code, 0) << reward.out;
  const std::string rows = write_pairs(dir);
  expect_same_output("judge -m " + dir + "/judge -i " + rows + " --template generic", dir, "judge");
  expect_same_output("judge -m " + dir + "/judge -i " + rows + " --template pairwise", dir, "pairwise");
  expect_same_output("score -m " + dir + "/reward -i " + rows, dir, "score");
  expect_same_output("features -m " + dir + "/judge -i " + rows, dir, "features");  // a safetensors file
}

TEST(PrefixSharing, BenchCountsWhatASharedPrefixSaves) {
  // Four 128-token sequences starting with the same 100 tokens: 100 + 4 x 28 computed.
  auto shared = run_arbiter("bench --shape tiny --tokens 128 --batch 4 --shared-prefix 100 --repeat 1 --json");
  ASSERT_EQ(shared.exit_code, 0) << shared.out;
  const auto json_start = shared.out.find('{');
  ASSERT_NE(json_start, std::string::npos) << shared.out;
  const nlohmann::json j = nlohmann::json::parse(shared.out.substr(json_start));
  EXPECT_EQ(j["computed_tokens"], 100 + 4 * 28);
  EXPECT_EQ(j["shared_prefix"], 100);
  auto whole = run_arbiter("--no-prefix-sharing bench --shape tiny --tokens 128 --batch 4 --shared-prefix 100 --repeat 1 --json");
  ASSERT_EQ(whole.exit_code, 0) << whole.out;
  EXPECT_EQ(nlohmann::json::parse(whole.out.substr(whole.out.find('{')))["computed_tokens"], 4 * 128);
  auto too_long = run_arbiter("bench --shape tiny --tokens 128 --shared-prefix 128");
  EXPECT_NE(too_long.exit_code, 0);
  EXPECT_NE(too_long.out.find("--shared-prefix must be"), std::string::npos) << too_long.out;
}

TEST(PrefixSharing, LaterBatchesStartAfterWhatEarlierOnesKept) {
  // A judge with a long system prompt, one row per forward pass: every pass after the first takes the
  // system prompt's keys and values from the one before. The same bytes as computing each row whole, and
  // fewer tokens computed than with nothing kept (--prefix-cache-mb 0), which shares nothing across rows.
  const std::string dir = temp_dir("prefix-cache");
  auto judge = run_arbiter("-q create-model --arch qwen2 --tokenizer " + kShared + "/fixtures/tokenizers/qwen3 --out " +
                           dir + "/judge");
  ASSERT_EQ(judge.exit_code, 0) << judge.out;
  std::string system = "You grade answers for a careful reader.";
  for (int k = 0; k < 20; ++k) system += " Rule " + std::to_string(k) + ": weigh accuracy before style, and say why.";
  write_text(dir + "/system.txt", system);
  const std::string rows = dir + "/rows.jsonl";
  {
    std::ofstream out(rows);
    for (int i = 0; i < 4; ++i)
      out << nlohmann::json{{"id", std::to_string(i)}, {"prompt", "Question " + std::to_string(i) + "?"},
                            {"response", "Answer " + std::to_string(i * 7) + "."}}.dump()
          << "\n";
  }
  const std::string command = "judge -m " + dir + "/judge -i " + rows + " --system-prompt-file " + dir +
                              "/system.txt --batch-tokens 64 -o " + dir + "/";
  auto kept = run_arbiter(command + "kept.jsonl");
  ASSERT_EQ(kept.exit_code, 0) << kept.out;
  auto unkept = run_arbiter("--prefix-cache-mb 0 " + command + "unkept.jsonl");
  ASSERT_EQ(unkept.exit_code, 0) << unkept.out;
  auto whole = run_arbiter("--no-prefix-sharing " + command + "whole.jsonl");
  ASSERT_EQ(whole.exit_code, 0) << whole.out;
  const std::string a = read_text(dir + "/kept.jsonl");
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, read_text(dir + "/unkept.jsonl"));
  EXPECT_EQ(a, read_text(dir + "/whole.jsonl"));
  const long long tokens = summary_number(kept.out, R"((\d+) tokens in )");
  const long long computed = summary_number(kept.out, R"((\d+) computed, shared prefixes once)");
  ASSERT_GT(tokens, 300) << kept.out;  // the system prompt alone is well over 64 tokens a row
  ASSERT_GT(computed, 0) << kept.out;
  // Each row's own tokens are a few dozen: the three later rows' system prompts make up most of the rest.
  EXPECT_LT(computed, tokens / 2) << kept.out;
  EXPECT_EQ(summary_number(unkept.out, R"((\d+) computed, shared prefixes once)"), -1) << unkept.out;
}

TEST(PrefixSharing, InfoGivesWhatATokensKeysAndValuesTake) {
  // The unit of --prefix-cache-mb: keys and values of every layer, f32, from the model's own config.json.
  const std::string model = kShared + "/fixtures/hf/llama";
  std::ifstream config_file(model + "/config.json");
  const nlohmann::json config = nlohmann::json::parse(config_file);
  const int64_t expected = 2 * config["num_hidden_layers"].get<int64_t>() * config["num_key_value_heads"].get<int64_t>() *
                           config["head_dim"].get<int64_t>() * 4;
  const RunResult r = run_arbiter("info --json -m " + model);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["kv_bytes_per_token"], expected) << r.out;
}

}  // namespace
}  // namespace arbiter
