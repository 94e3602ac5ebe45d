// A process reward head trained on a frozen causal backbone, end to end through the binary: `features
// --step-tag` writes the state at every step separator with ProcessBench's labels per step, `train head
// --objective binary` fits a logistic head on them, and `score --head --step-tag` reads that head at every
// separator. The features are held to a forward read by hand at the separators of the text the join
// makes; the scores to the saved head applied to those features.
#include <gtest/gtest.h>

#include <cmath>

#include "../../support/cli_helpers.h"
#include "model/model.h"
#include "model/model_tokenizer.h"
#include "runtime/backend.h"
#include "text/tokenizer.h"
#include "train/features_file.h"
#include "train/reward_head.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

struct StepRow {
  std::string id, problem;
  std::vector<std::string> steps;
  int label;  // ProcessBench: the first wrong step, -1 when none is
};

const std::vector<StepRow> kRows = {
    {"a", "What is 2 + 2?", {"2 + 2 is 4.", "So it is 4."}, -1},
    {"b", "Add 3 and 5.", {"3 + 5 = 9.", "The answer is 9.", "Done."}, 0},
    {"c", "What is 10 - 4?", {"10 - 4 = 6.", "Then 6 + 1 = 8.", "So 8.", "Done."}, 1},
    {"d", "Double 7.", {"7 * 2 = 14.", "The answer is 14."}, -1},
    {"e", "Halve 9.", {"9 / 2 = 4.5.", "So it is 4."}, 1},
    {"f", "What is 3 * 3?", {"3 * 3 = 6."}, 0},
};


std::string write_rows(const std::string& dir) {
  std::string text;
  for (const StepRow& r : kRows)
    text += nlohmann::json{{"id", r.id}, {"problem", r.problem}, {"steps", r.steps}, {"label", r.label}}.dump() + "\n";
  write_text(dir + "/steps.jsonl", text);
  return dir + "/steps.jsonl";
}

// The fixture's vocabulary has no "ки": "Rew" is one of its tokens, written on its own line after each step.
const std::string kStepOptions = " --step-tag Rew --step-join '\\nRew\\n'";

TEST(StepHead, FeaturesPerStepTrainABinaryHeadThatScoresEveryStep) {
  const std::string model_dir = kShared + "/fixtures/hf/qwen2";
  const std::string dir = temp_dir("step-head");
  const std::string rows = write_rows(dir);
  const std::string template_path = dir + "/concat.jinja";
  write_text(template_path, "{{ messages | map(attribute='content') | join(' ') }}");
  const std::string format = " --chat-template " + template_path + kStepOptions;

  auto r = run_arbiter("features -q -m " + model_dir + " -i " + rows + " -o " + dir + "/steps.safetensors" + format);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto features = train::read_features(dir + "/steps.safetensors");
  ASSERT_TRUE(features.is_ok()) << features.message();
  size_t total_steps = 0;
  for (const StepRow& row : kRows) total_steps += row.steps.size();
  ASSERT_EQ(features->rows, int64_t(total_steps));
  EXPECT_EQ(features->responses, 1);
  ASSERT_TRUE(features->labels.count("step_correct"));
  const std::vector<double>& correct = features->labels.at("step_correct");

  // Ids and labels: steps before the first wrong one right, it wrong, those after it unknown.
  size_t at = 0;
  for (const StepRow& row : kRows) {
    for (size_t k = 0; k < row.steps.size(); ++k, ++at) {
      EXPECT_EQ(features->ids[at], row.id + "/step" + std::to_string(k));
      if (row.label < 0 || int(k) < row.label) EXPECT_EQ(correct[at], 1.0) << features->ids[at];
      else if (int(k) == row.label) EXPECT_EQ(correct[at], 0.0) << features->ids[at];
      else EXPECT_TRUE(std::isnan(correct[at])) << features->ids[at];
    }
  }

  // Row c's features: the final-normed states at the separators of the text the template and join make.
  auto model = load_model(model_dir);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto tokenizer = load_model_tokenizer(**model);
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.message();
  const StepRow& c = kRows[2];
  std::string text = c.problem + " ";
  for (const std::string& step : c.steps) text += step + "\nRew\n";
  auto tokens = (*tokenizer)->encode(text, false, true);
  const auto tag = (*tokenizer)->encode("Rew", false, true);
  ASSERT_TRUE(tokens.is_ok() && tag.is_ok() && tag->size() == 1u);
  SequenceInput seq{*tokens, {}};
  for (size_t p = 0; p < tokens->size(); ++p)
    if ((*tokens)[p] == (*tag)[0]) seq.read_positions.push_back(int32_t(p));
  ASSERT_EQ(seq.read_positions.size(), c.steps.size());
  ForwardOptions forward;
  forward.final_norm = true;
  auto out = make_cpu_backend(*model)->forward({seq}, forward);
  ASSERT_TRUE(out.is_ok()) << out.message();
  const int64_t d = features->dim, first_c = 2 + 3;  // rows a and b come first
  for (size_t k = 0; k < c.steps.size(); ++k)
    for (int64_t j = 0; j < d; ++j)
      ASSERT_NEAR(features->at(first_c + int64_t(k), 0)[j], (*out)[0].final_norm[k * size_t(d) + size_t(j)], 1e-6)
          << "step " << k << " dim " << j;

  // Train on the labelled steps, then score: every step's reward is the head's sigmoid on its features.
  r = run_arbiter("train head --features " + dir + "/steps.safetensors --objective binary --out " + dir +
                  "/head.safetensors --epochs 5 --validation-fraction 0 --report-json " + dir + "/report.json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto head = train::load_reward_head(dir + "/head.safetensors");
  ASSERT_TRUE(head.is_ok()) << head.message();
  EXPECT_EQ(head->objective, "binary");
  const nlohmann::json report = nlohmann::json::parse(read_text(dir + "/report.json"));
  size_t labelled = 0;
  for (double y : correct) labelled += !std::isnan(y);
  EXPECT_EQ(report["binary"]["train_rows"].get<size_t>(), labelled) << report.dump();

  r = run_arbiter("score -q -m " + model_dir + " -i " + rows + " -o " + dir + "/scored.jsonl --head " + dir +
                  "/head.safetensors --step-aggregate mean" + format);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(dir + "/scored.jsonl");
  ASSERT_EQ(lines.size(), kRows.size());
  at = 0;
  for (size_t i = 0; i < kRows.size(); ++i) {
    const auto got = lines[i]["step_rewards"].get<std::vector<double>>();
    ASSERT_EQ(got.size(), kRows[i].steps.size()) << lines[i].dump();
    double mean = 0;
    for (size_t k = 0; k < got.size(); ++k, ++at) {
      const double expected = 1.0 / (1.0 + std::exp(-train::head_score(*head, features->at(int64_t(at), 0))));
      EXPECT_NEAR(got[k], expected, 1e-6) << kRows[i].id << " step " << k;
      mean += expected / double(got.size());
    }
    EXPECT_NEAR(lines[i]["score"].get<double>(), mean, 1e-6);
    EXPECT_EQ(lines[i]["human_first_error_step"].get<double>(), double(kRows[i].label));
  }
  // ProcessBench's measure reads the lines as it reads any process reward model's.
  r = run_arbiter("eval processbench --input " + dir + "/scored.jsonl");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("F1"), std::string::npos) << r.out;

  // Rows labelled step by step (Math-Shepherd's) carry their labels to the scored lines, and the eval
  // judges each step: accuracy at the threshold and AUROC, here worked out from the lines themselves.
  const std::string shepherd_tag = "\xd0\xba\xd0\xb8";
  write_text(dir + "/shepherd.jsonl",
             nlohmann::json{{"input", "What is 2 + 3? Step 1: 2 + 3 = 5. " + shepherd_tag + "\nStep 2: So 6. " + shepherd_tag},
                            {"label", "What is 2 + 3? Step 1: 2 + 3 = 5. +\nStep 2: So 6. -"}}.dump() + "\n" +
             nlohmann::json{{"input", "What is 1 + 1? Step 1: 1 + 1 = 3. " + shepherd_tag + "\nStep 2: So 3. " + shepherd_tag},
                            {"label", "What is 1 + 1? Step 1: 1 + 1 = 3. -\nStep 2: So 3. -"}}.dump() + "\n" +
             nlohmann::json{{"input", "What is 2 * 2? Step 1: 2 * 2 = 4. " + shepherd_tag + "\nStep 2: So 4. " + shepherd_tag},
                            {"label", "What is 2 * 2? Step 1: 2 * 2 = 4. +\nStep 2: So 4. +"}}.dump() + "\n");
  r = run_arbiter("score -q -m " + model_dir + " -i " + dir + "/shepherd.jsonl -o " + dir + "/shepherd.scored.jsonl --head " +
                  dir + "/head.safetensors" + format);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::vector<double> right, wrong;
  for (const nlohmann::json& line : read_jsonl(dir + "/shepherd.scored.jsonl")) {
    const auto rewards = line["step_rewards"].get<std::vector<double>>();
    const auto labels = line["human_step_labels"].get<std::vector<double>>();
    ASSERT_EQ(rewards.size(), labels.size()) << line.dump();
    for (size_t k = 0; k < rewards.size(); ++k) (labels[k] == 1.0 ? right : wrong).push_back(rewards[k]);
  }
  ASSERT_EQ(right.size(), 3u);
  ASSERT_EQ(wrong.size(), 3u);
  double wins = 0, hits = 0;
  for (double a : right) {
    hits += a >= 0.5;
    for (double b : wrong) wins += a > b ? 1.0 : a == b ? 0.5 : 0.0;
  }
  for (double b : wrong) hits += b < 0.5;
  r = run_arbiter("eval processbench --json --input " + dir + "/shepherd.scored.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json eval = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  EXPECT_EQ(eval["steps"]["labelled"], 6) << eval.dump();
  EXPECT_NEAR(eval["steps"]["auroc"].get<double>(), wins / 9.0, 1e-12) << eval.dump();
  EXPECT_NEAR(eval["steps"]["accuracy"].get<double>(), hits / 6.0, 1e-12) << eval.dump();
}

TEST(StepHead, HeadsThatAreNotStepHeadsAndLayoutsThatCannotBeReadAreErrors) {
  const std::string model_dir = kShared + "/fixtures/hf/qwen2";
  const std::string dir = temp_dir("step-head-errors");
  const std::string rows = write_rows(dir);
  train::RewardHead regression;
  regression.labels = {"helpfulness"};
  regression.dim = 64;
  regression.weight.assign(64, 0.01);
  regression.bias = {0.0};
  regression.layer = "final_norm";
  regression.objective = "regression";
  ASSERT_TRUE(train::save_reward_head(dir + "/regression.safetensors", regression).is_ok());
  auto r = run_arbiter("score -q -m " + model_dir + " -i " + rows + " -o " + dir + "/out.jsonl --head " + dir +
                       "/regression.safetensors" + kStepOptions);
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("--objective binary"), std::string::npos) << r.out;

  r = run_arbiter("features -q -m " + model_dir + " -i " + rows + " -o " + dir + "/f.safetensors --step-tag Rew "
                  "--step-join ' ки\\n'");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("does not hold the separator"), std::string::npos) << r.out;
  r = run_arbiter("features -q -m " + model_dir + " -i " + rows + " -o " + dir + "/g.safetensors --split-steps x");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("--step-tag"), std::string::npos) << r.out;

  // Math-Shepherd's rows: the steps re-joined around this vocabulary's tag, labelled by their "+" / "-".
  const std::string tag = "\xd0\xba\xd0\xb8";
  write_text(dir + "/shepherd.jsonl",
             nlohmann::json{{"input", "What is 2 + 3? Step 1: 2 + 3 = 6. " + tag + "\nStep 2: So 6. " + tag},
                            {"label", "What is 2 + 3? Step 1: 2 + 3 = 6. -\nStep 2: So 6. -"}}.dump() + "\n" +
             nlohmann::json{{"input", "What is 1 + 1? Step 1: 1 + 1 = 2. " + tag + "\nStep 2: So 2. " + tag},
                            {"label", "What is 1 + 1? Step 1: 1 + 1 = 2. +\nStep 2: So 2. +"}}.dump() + "\n");
  r = run_arbiter("features -q -m " + model_dir + " -i " + dir + "/shepherd.jsonl -o " + dir + "/shepherd.safetensors" +
                  kStepOptions);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto shepherd = train::read_features(dir + "/shepherd.safetensors");
  ASSERT_TRUE(shepherd.is_ok()) << shepherd.message();
  EXPECT_EQ(shepherd->labels.at("step_correct"), (std::vector<double>{0, 0, 1, 1}));

  // step_labels must say one thing per step.
  write_text(dir + "/bad.jsonl", nlohmann::json{{"id", "z"}, {"problem", "p"}, {"steps", {"a", "b"}},
                                                {"step_labels", {1}}}.dump() + "\n");
  r = run_arbiter("features -q -m " + model_dir + " -i " + dir + "/bad.jsonl -o " + dir + "/h.safetensors" + kStepOptions);
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("step_labels"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/h.safetensors"));

  // A binary head cannot become a sequence classifier (its score is a probability per step).
  r = run_arbiter("train head --features " + dir + "/none.safetensors --objective binary --out " + dir +
                  "/x.safetensors --export-hf-dir " + dir + "/hf --backbone " + model_dir);
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("--export-hf-dir"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace arbiter
