// Inputs of the wrong kind: a folder given as a file, messages that are not messages, a dataset whose rows
// are not objects, a classifier given as a judge. Each is an error naming what it got, never an empty result with exit 0.
#include <gtest/gtest.h>

#include <fstream>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

TEST(WrongKindOfInput, IsNamedNotTakenAsEmpty) {
  const std::string dir = temp_dir("wrong-kind");
  const std::string qwen3 = kShared + "/fixtures/tokenizers/qwen3";
  std::ofstream(dir + "/numbers.json") << "[1, 2]";
  std::ofstream(dir + "/roleless.json") << R"([{"content": "x"}])";
  std::ofstream(dir + "/five.jsonl") << "5\n";
  std::ofstream(dir + "/rows.jsonl") << R"({"prompt": "a", "response": "b"})" "\n";
  std::ofstream(dir + "/sharegpt.jsonl") << R"({"prompt": [{"role": "human", "content": "Hi?"}], "response": "Hello."})" "\n";
  const std::pair<std::string, std::string> cases[] = {
      {"tokenize -m " + qwen3 + " --text-file " + dir, dir + ": is a directory, not a file"},
      {"score -q -m " + kShared + "/fixtures/hf/qwen2-seqcls1 -i " + dir + "/rows.jsonl -o " + dir + " --resume",
       dir + ": is a directory, not an output file"},
      {"chat-template -m " + qwen3 + " --messages " + dir + "/numbers.json",
       "numbers.json: message 0 is not a {role, content} object with a string role"},
      {"chat-template -m " + qwen3 + " --messages " + dir + "/roleless.json",
       "roleless.json: message 0 is not a {role, content} object with a string role"},
      {"info --data " + dir + "/five.jsonl", "five.jsonl:1: a row must be a JSON object, not number"},
      // ShareGPT's speakers given as roles: a template would render a 'human' turn no model was trained on.
      {"score -q -m " + kShared + "/fixtures/hf/qwen2-seqcls1 -i " + dir + "/sharegpt.jsonl -o " + dir + "/scored.jsonl",
       "sharegpt.jsonl:1"},
      {"score -q -m " + kShared + "/fixtures/hf/qwen2-seqcls1 -i " + dir + "/sharegpt.jsonl -o " + dir + "/scored.jsonl",
       "a message's role is 'human': ShareGPT's human / gpt are user / assistant"},
      // Splitting at nothing is no split.
      {"score -q -m " + kShared + "/fixtures/hf/qwen2-seqcls1 -i " + dir + "/rows.jsonl -o " + dir + "/split.jsonl --split-steps ''",
       "--split-steps: must not be empty"},
      // A classifier saved without an LM head has no next-token logits to judge with.
      {"judge -q -m " + kShared + "/fixtures/hf/llama-seqcls1 -i " + dir + "/rows.jsonl -o " + dir + "/judged.jsonl",
       "a sequence-classification model without an LM head"},
  };
  for (const auto& [command, message] : cases) {
    const RunResult r = run_arbiter(command);
    EXPECT_NE(r.exit_code, 0) << command << "\n" << r.out;
    EXPECT_NE(r.out.find(message), std::string::npos) << command << "\n" << r.out;
  }
}

// GGUF has no key for tied embeddings: a classifier converted without an LM head must not read as tied
// (judged on its embedding), while one whose config ties them still judges.
TEST(WrongKindOfInput, ConvertedClassifierWithoutLmHeadIsNotJudged) {
  const std::string dir = temp_dir("classifier-gguf");
  std::ofstream(dir + "/rows.jsonl") << R"({"prompt": "a", "response": "b"})" "\n";
  const RunResult untied = run_arbiter("convert -q " + kShared + "/fixtures/hf/llama-seqcls1 -o " + dir + "/untied.gguf");
  ASSERT_EQ(untied.exit_code, 0) << untied.out;
  const RunResult refused = run_arbiter("judge -q -m " + dir + "/untied.gguf -i " + dir + "/rows.jsonl -o " + dir + "/a.jsonl");
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE(refused.out.find("a sequence-classification model without an LM head"), std::string::npos) << refused.out;

  const RunResult tied = run_arbiter("convert -q " + kShared + "/fixtures/hf/qwen2-seqcls1 -o " + dir + "/tied.gguf");
  ASSERT_EQ(tied.exit_code, 0) << tied.out;
  const RunResult info = run_arbiter("info --json -m " + dir + "/tied.gguf");
  ASSERT_EQ(info.exit_code, 0) << info.out;
  EXPECT_EQ(nlohmann::json::parse(info.out)["tied_embeddings"], true) << info.out;
  EXPECT_EQ(nlohmann::json::parse(info.out)["lm_head"], "the token embedding (tied)") << info.out;
  const RunResult untied_info = run_arbiter("info --json -m " + dir + "/untied.gguf");
  ASSERT_EQ(untied_info.exit_code, 0) << untied_info.out;
  EXPECT_EQ(nlohmann::json::parse(untied_info.out)["lm_head"], "none (a classifier saved without one: cannot judge)");
  const RunResult judged = run_arbiter("judge -q -m " + dir + "/tied.gguf -i " + dir + "/rows.jsonl -o " + dir + "/b.jsonl");
  EXPECT_EQ(judged.exit_code, 0) << judged.out;
}

}  // namespace
}  // namespace arbiter
