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

}  // namespace
}  // namespace arbiter
