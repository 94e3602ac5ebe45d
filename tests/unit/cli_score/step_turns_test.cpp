// Steps as turns of a conversation (RLHFlow's process reward models): the problem and the first step are
// the user's turn, each step is answered by the assistant with "+", and the model is read where each
// assistant turn opens; the step's reward is the softmax's share of "+" against "-" there. Held to a
// forward read by hand at the positions before each "+" of the text the chat template makes.
#include <gtest/gtest.h>

#include <cmath>

#include "../../support/step_token_reads.h"
#include "../../support/cli_helpers.h"
#include "model/model.h"
#include "train/features_file.h"
#include "train/reward_head.h"

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
  // A template without a generation prompt has no assistant turn opening to read at; nor has one that
  // always writes it (as some Llama 3 templates do), even after the assistant's own turn.
  write_text(dir + "/concat.jinja", "{{ messages | map(attribute='content') | join(' ') }}");
  write_text(dir + "/always.jinja",
             "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
             "{% endfor %}{{ '<|im_start|>assistant\\n' }}");
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
      {"--step-turns --step-tokens '+,-' --chat-template " + dir + "/always.jinja", "generation prompt"},
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

// A binary head on a frozen backbone, read the same way: `features --step-turns` writes the state where each
// answer's turn opens (held to a forward read by hand there), `train head --objective binary` fits it, and
// `score --head --step-turns` gives each step the head's sigmoid on those states.
TEST(StepTurns, FeaturesTrainAHeadThatScoresEachTurn) {
  struct Row {
    std::string problem;
    std::vector<std::string> steps;
    int label;  // ProcessBench: the first wrong step, -1 when none is
  };
  const std::vector<Row> rows = {{kProblem, kSteps, 1}, {"Add 3 and 5.", {"3 and 5 make 8.", "So 8."}, -1},
                                 {"Halve 9.", {"9 / 2 = 4.", "So 4."}, 0}};
  const std::string dir = temp_dir("step-turns-head");
  std::string text;
  for (const Row& r : rows)
    text += nlohmann::json{{"problem", r.problem}, {"steps", r.steps}, {"label", r.label}}.dump() + "\n";
  write_text(dir + "/rows.jsonl", text);
  auto r = run_arbiter("features -q -m " + kModel + " -i " + dir + "/rows.jsonl -o " + dir + "/f.safetensors --step-turns");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto features = train::read_features(dir + "/f.safetensors");
  ASSERT_TRUE(features.is_ok()) << features.message();
  ASSERT_EQ(features->rows, 3 + 2 + 2);

  auto model = load_model(kModel);
  ASSERT_TRUE(model.is_ok()) << model.message();
  const SequenceInput seq = reads_at_token(**model, qwen_step_turns(kProblem, kSteps, "+"), "+", /*before=*/true);
  ASSERT_EQ(seq.read_positions.size(), kSteps.size());
  ForwardOptions forward;
  forward.final_norm = true;
  auto out = make_cpu_backend(*model)->forward({seq}, forward);
  ASSERT_TRUE(out.is_ok()) << out.message();
  const int64_t d = features->dim;
  for (size_t k = 0; k < kSteps.size(); ++k)
    for (int64_t j = 0; j < d; ++j)
      ASSERT_NEAR(features->at(int64_t(k), 0)[j], (*out)[0].final_norm[k * size_t(d) + size_t(j)], 1e-6) << "step " << k;

  r = run_arbiter("train head --features " + dir + "/f.safetensors --objective binary --out " + dir +
                  "/head.safetensors --epochs 5 --validation-fraction 0");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto head = train::load_reward_head(dir + "/head.safetensors");
  ASSERT_TRUE(head.is_ok()) << head.message();
  r = run_arbiter("score -q -m " + kModel + " -i " + dir + "/rows.jsonl -o " + dir + "/scored.jsonl --head " + dir +
                  "/head.safetensors --step-turns");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(dir + "/scored.jsonl");
  ASSERT_EQ(lines.size(), rows.size());
  int64_t at = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto got = lines[i]["step_rewards"].get<std::vector<double>>();
    ASSERT_EQ(got.size(), rows[i].steps.size()) << lines[i].dump();
    for (size_t k = 0; k < got.size(); ++k, ++at)
      EXPECT_NEAR(got[k], 1.0 / (1.0 + std::exp(-train::head_score(*head, features->at(at, 0)))), 1e-6) << i << " " << k;
  }
  // A head trained on another objective is not read at every step.
  train::RewardHead regression = *head;
  regression.objective = "regression";
  ASSERT_TRUE(train::save_reward_head(dir + "/regression.safetensors", regression));
  r = run_arbiter("score -q -m " + kModel + " -i " + dir + "/rows.jsonl -o " + dir + "/bad.jsonl --head " + dir +
                  "/regression.safetensors --step-turns");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("binary"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace arbiter
