// Steps as turns of a conversation (RLHFlow's process reward models): the problem and the first step are
// the user's turn, each step is answered by the assistant with "+", and the model is read where each
// assistant turn opens; the step's reward is the softmax's share of "+" against "-" there. Held to a
// forward read by hand at the positions before each "+" of the text the chat template makes.
#include <gtest/gtest.h>

#include <cmath>

#include "../../support/answer_reads.h"
#include "../../support/cli_helpers.h"
#include "model/model.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

const std::string kModel = kShared + "/fixtures/hf/qwen2";  // Qwen's chat markup, <|im_start|> as one token
const std::string kProblem = "What is 2 * 3?";
const std::vector<std::string> kSteps = {"2 * 3 is 6.", "So it is 7.", "Done."};

TEST(StepTurns, EachStepIsAUserTurnReadWhereTheAnswerOpens) {
  auto model = load_model(kModel);
  ASSERT_TRUE(model.is_ok()) << model.message();
  // By hand: the conversation as the template writes it, read before each "+" (no step holds one).
  const std::vector<double> expected = rewards_before_answers(*model, qwen_step_turns(kProblem, kSteps, "+"), "+", "-");
  ASSERT_EQ(expected.size(), kSteps.size());
  const std::string dir = temp_dir("step-turns");
  // Listed steps, and the same solution as a response split at newlines (a file each: a file holds one layout).
  std::string response;
  for (const std::string& step : kSteps) response += (response.empty() ? "" : "\n") + step;
  write_text(dir + "/listed.jsonl", nlohmann::json{{"problem", kProblem}, {"steps", kSteps}}.dump() + "\n");
  write_text(dir + "/split.jsonl", nlohmann::json{{"prompt", kProblem}, {"response", response}}.dump() + "\n");
  for (const std::string name : {"listed", "split"}) {
    auto r = run_arbiter("score -q -m " + kModel + " -i " + dir + "/" + name + ".jsonl -o " + dir + "/" + name +
                         ".out.jsonl --step-tokens '+,-' --step-turns --split-steps '\\n' --step-aggregate last");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto lines = read_jsonl(dir + "/" + name + ".out.jsonl");
    ASSERT_EQ(lines.size(), 1u);
    const auto got = lines[0]["step_rewards"].get<std::vector<double>>();
    ASSERT_EQ(got.size(), expected.size()) << lines[0].dump();
    for (size_t s = 0; s < got.size(); ++s) EXPECT_NEAR(got[s], expected[s], 1e-6) << name << " step " << s;
    EXPECT_NEAR(lines[0]["score"].get<double>(), expected.back(), 1e-6) << lines[0].dump();  // --step-aggregate last
  }
}

TEST(StepTurns, OptionsThatCannotBeReadAreErrorsNamingThem) {
  const std::string dir = temp_dir("step-turns-errors");
  write_text(dir + "/rows.jsonl", nlohmann::json{{"problem", "p"}, {"steps", {"a", "b"}}}.dump() + "\n");
  // A template without a generation prompt has no assistant turn opening to read at.
  write_text(dir + "/concat.jinja", "{{ messages | map(attribute='content') | join(' ') }}");
  const std::string base = "score -q -m " + kModel + " -i " + dir + "/rows.jsonl -o " + dir + "/out.jsonl ";
  struct Case {
    std::string options, message;
  };
  const std::vector<Case> cases = {
      {"--step-turns", "--step-tokens"},
      {"--step-turns --step-token-ids 5,6", "as text"},
      {"--step-turns --step-tokens '+,-' --step-tag Rew", "leave out"},
      {"--step-turns --step-tokens '+,-' --step-join x", "leave out"},
      {"--step-turns --step-tokens '+,-' --chat-template " + dir + "/concat.jinja", "generation prompt"},
  };
  for (const Case& c : cases) {
    auto r = run_arbiter(base + c.options);
    EXPECT_NE(r.exit_code, 0) << c.options << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.options << "\n" << r.out;
  }
  // A conversation too long for --max-length is not cut (the first steps' reads would be lost).
  auto r = run_arbiter(base + "--step-turns --step-tokens '+,-' --max-length 12");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("not truncated"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace arbiter
