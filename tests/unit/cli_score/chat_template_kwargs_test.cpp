// --chat-template-kwargs reaches every render of the chat template: Qwen3's template writes an empty
// thinking block after the generation prompt when enable_thinking is false, so each judged sequence
// grows by exactly that block's tokens.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

// The token count of a run's summary line ("... N tokens in ...").
long long summary_tokens(const std::string& out) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(R"((\d+) tokens in )"))) return -1;
  return std::stoll(m[1]);
}

TEST(ChatTemplateKwargs, EnableThinkingFalseAddsTheEmptyThinkingBlock) {
  const std::string dir = temp_dir("template-kwargs");
  auto made = run_arbiter("-q create-model --arch qwen2 --tokenizer " + kShared + "/fixtures/tokenizers/qwen3 --out " +
                          dir + "/judge");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const std::string rows = dir + "/rows.jsonl";
  std::ofstream(rows) << R"({"id": "a", "prompt": "Say hi.", "response": "Hi!"})" "\n"
                         R"({"id": "b", "prompt": "Add 2 and 2.", "response": "4"})" "\n"
                         R"({"id": "c", "prompt": "Name a colour.", "response": "Blue."})" "\n";
  auto plain = run_arbiter("judge -m " + dir + "/judge -i " + rows + " -o " + dir + "/plain.jsonl");
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  auto no_thinking = run_arbiter("judge -m " + dir + "/judge -i " + rows + " -o " + dir + "/kwargs.jsonl " +
                                 "--chat-template-kwargs '{\"enable_thinking\": false}'");
  ASSERT_EQ(no_thinking.exit_code, 0) << no_thinking.out;
  std::ofstream(dir + "/block.txt") << "<think>\n\n</think>\n\n";
  auto block = run_arbiter("tokenize -m " + dir + "/judge --special --json --text-file " + dir + "/block.txt");
  ASSERT_EQ(block.exit_code, 0) << block.out;
  const long long block_tokens = nlohmann::json::parse(block.out)["count"].get<long long>();
  EXPECT_EQ(block_tokens, 4);  // <think>, \n\n, </think>, \n\n
  const long long without = summary_tokens(plain.out), with = summary_tokens(no_thinking.out);
  ASSERT_GT(without, 0) << plain.out;
  EXPECT_EQ(with - without, 3 * block_tokens) << "three judged sequences";
}

TEST(ChatTemplateKwargs, NotAnObjectIsAnError) {
  const std::string dir = temp_dir("template-kwargs-bad");
  const std::string rows = dir + "/rows.jsonl";
  std::ofstream(rows) << R"({"id": "a", "prompt": "p", "response": "r"})" "\n";
  for (const std::string bad : {"'[1]'", "'{\"enable_thinking\": '", "'true'"}) {
    auto r = run_arbiter("judge -m " + kShared + "/models/stories260K/stories260K.gguf -i " + rows + " -o " + dir +
                         "/out.jsonl --chat-template-kwargs " + bad);
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.out.find("--chat-template-kwargs: expected a JSON object"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace arbiter
