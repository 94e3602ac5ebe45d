// `arbiter score` with a process reward model, through the binary as a user runs it: ProcessBench-style
// rows (problem, steps, label) become one assistant turn whose steps each end with the separator, the head
// is read at every separator, and each step's reward is the softmax's "right" class. The expected rewards
// are computed here from a template rendered by hand, the tokenizer, a forward read at the separators
// and the head in double precision (the forward itself is held to the float64 reference in
// reward_mlp_head_test.cpp).
#include <gtest/gtest.h>

#include <cmath>

#include "../../support/cli_helpers.h"
#include "model/model_tokenizer.h"
#include "../../support/reward_head_fixture.h"
#include "convert_test_util.h"
#include "score/step_rewards.h"

namespace arbiter::convert_test {
namespace {

using namespace arbiter::reward_head_test;

using arbiter::testing::read_jsonl;
using arbiter::testing::run_arbiter;

struct StepRow {
  std::string id, problem;
  std::vector<std::string> steps;
  int label;
};

const std::vector<StepRow> kRows = {
    {"a", "What is 2 + 2?", {"2 + 2 is 4.", "So the answer is 4."}, -1},
    {"b", "Add 3 and 5.", {"3 + 5 = 9.", "The answer is 9.", "Done."}, 0},
};

std::string write_rows(const std::string& dir) {
  const std::string path = dir + "/steps.jsonl";
  std::ofstream out(path);
  for (const StepRow& r : kRows)
    out << nlohmann::json{{"id", r.id}, {"problem", r.problem}, {"steps", r.steps}, {"label", r.label}}.dump() << "\n";
  return path;
}

// The fixture's chat template, rendered by hand for one user turn and the steps as the assistant's turn.
std::string rendered(const StepRow& r) {
  std::string text = "<|im_start|>user\n" + r.problem + "<|im_end|>\n<|im_start|>assistant\n";
  for (const std::string& step : r.steps) text += step + "<extra_0>";
  return text + "<|im_end|>\n";
}

TEST(ProcessRewardScore, ReadsEveryStepSeparatorAndReportsStepRewards) {
  const MlpHead head = random_head(64, 2, 5);
  const std::string dir = model_with_head(fs::path(scratch_dir()) / "qwen2-prm-cli", "Qwen2ForProcessRewardModel", head, true, true);
  const std::string rows = write_rows(scratch_dir());
  const std::string out_path = scratch_dir() + "/prm-scores.jsonl";
  auto run = run_arbiter("score -q -m " + dir + " -i " + rows + " -o " + out_path + " --step-aggregate product --step-threshold 0.65");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto lines = read_jsonl(out_path);
  ASSERT_EQ(lines.size(), kRows.size());

  auto model = load_model(dir);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto tokenizer = load_model_tokenizer(**model);
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.message();
  auto backend = make_cpu_backend(*model);
  for (size_t i = 0; i < kRows.size(); ++i) {
    const StepRow& r = kRows[i];
    auto tokens = (*tokenizer)->encode(rendered(r), false, true);
    ASSERT_TRUE(tokens.is_ok()) << tokens.message();
    SequenceInput seq{*tokens, {}};
    for (size_t p = 0; p < tokens->size(); ++p)
      if ((*tokens)[p] == kStepTagId) seq.read_positions.push_back(int32_t(p));
    ASSERT_EQ(seq.read_positions.size(), r.steps.size()) << "the tag must be one token per step";
    ForwardOptions options;
    options.final_norm = true;
    auto out = backend->forward({seq}, options);
    ASSERT_TRUE(out.is_ok()) << out.message();
    std::vector<double> expected;
    for (size_t s = 0; s < r.steps.size(); ++s) {
      const std::vector<double> logits = head_in_double(head, (*out)[0].final_norm.data() + s * 64, nullptr);
      expected.push_back(1.0 / (1.0 + std::exp(logits[0] - logits[1])));
    }

    const nlohmann::json& line = lines[i];
    EXPECT_EQ(line["id"], r.id);
    ASSERT_TRUE(line.contains("step_rewards")) << line.dump();
    const auto got = line["step_rewards"].get<std::vector<double>>();
    ASSERT_EQ(got.size(), expected.size()) << line.dump();
    double product = 1.0;
    int64_t first_error = -1;
    for (size_t s = 0; s < got.size(); ++s) {
      EXPECT_NEAR(got[s], expected[s], 1e-5) << r.id << " step " << s;
      product *= expected[s];
      if (first_error < 0 && expected[s] < 0.65) first_error = int64_t(s);
    }
    EXPECT_NEAR(line["score"].get<double>(), product, 1e-5) << line.dump();
    EXPECT_EQ(line["first_error_step"].get<int64_t>(), first_error) << line.dump();
    EXPECT_EQ(line["human_first_error_step"].get<double>(), double(r.label)) << line.dump();
  }
}

TEST(ProcessRewardScore, SplitStepsReadsPlainSolutionsAsTheirSteps) {
  // Sampled solutions without separators, split at blank lines, read as the same steps given as a list.
  const MlpHead head = random_head(64, 2, 5);
  const std::string dir = model_with_head(fs::path(scratch_dir()) / "qwen2-prm-split", "Qwen2ForProcessRewardModel", head, true, true);
  const StepRow& r = kRows[1];
  const std::string listed = scratch_dir() + "/listed.jsonl", plain = scratch_dir() + "/plain.jsonl";
  write_text(listed, nlohmann::json{{"problem", r.problem}, {"steps", r.steps}}.dump() + "\n");
  std::string solution = "\n\n";  // leading, doubled and trailing delimiters make no empty steps
  for (const std::string& step : r.steps) solution += step + "\n\n\n\n";
  write_text(plain, nlohmann::json{{"prompt", r.problem}, {"responses", {solution, r.steps[0]}}}.dump() + "\n");
  auto run = run_arbiter("score -q -m " + dir + " -i " + listed + " -o " + scratch_dir() + "/listed.out.jsonl");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  run = run_arbiter("score -q -m " + dir + " -i " + plain + " -o " + scratch_dir() + "/plain.out.jsonl --field response=responses --split-steps '\\n\\n'");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto expected = read_jsonl(scratch_dir() + "/listed.out.jsonl")[0]["step_rewards"].get<std::vector<double>>();
  const nlohmann::json line = read_jsonl(scratch_dir() + "/plain.out.jsonl")[0];
  ASSERT_EQ(line["responses"].size(), 2u) << line.dump();
  EXPECT_EQ(line["responses"][0]["step_rewards"].get<std::vector<double>>(), expected) << line.dump();
  EXPECT_EQ(line["responses"][1]["step_rewards"].size(), 1u) << line.dump();  // one step, no delimiter

  // Without --split-steps a plain solution is an error naming the way out; on another model, the option is.
  run = run_arbiter("score -q -m " + dir + " -i " + plain + " -o " + scratch_dir() + "/plain2.out.jsonl --field response=responses");
  EXPECT_NE(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("--split-steps"), std::string::npos) << run.out;
  run = run_arbiter("score -q -m " + hf_fixture("qwen2-seqcls1") + " -i " + plain + " -o " + scratch_dir() +
                    "/plain3.out.jsonl --field response=responses --split-steps x");
  EXPECT_NE(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("not a process reward model"), std::string::npos) << run.out;
}

TEST(ProcessRewardScore, SeparatorsThatAreNotOneTokenAreErrors) {
  const MlpHead head = random_head(64, 2, 5);
  const std::string rows = write_rows(scratch_dir());
  // The model's own tokenizer lacks <extra_0>: it is several tokens there.
  const std::string untagged = model_with_head(fs::path(scratch_dir()) / "qwen2-prm-untagged", "Qwen2ForProcessRewardModel", head);
  auto run = run_arbiter("score -q -m " + untagged + " -i " + rows + " -o " + scratch_dir() + "/untagged.jsonl");
  EXPECT_NE(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("<extra_0>"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("--step-tag"), std::string::npos) << run.out;
  // A separator given by hand must be one token as well.
  const std::string tagged = model_with_head(fs::path(scratch_dir()) / "qwen2-prm-tagged", "Qwen2ForProcessRewardModel", head, true, true);
  run = run_arbiter("score -q -m " + tagged + " -i " + rows + " -o " + scratch_dir() + "/two.jsonl --step-tag 'ki ki'");
  EXPECT_NE(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("'ki ki'"), std::string::npos) << run.out;
}

TEST(ProcessRewardScore, StepsFieldMustBeAListOfStrings) {
  const MlpHead head = random_head(64, 2, 5);
  const std::string dir = model_with_head(fs::path(scratch_dir()) / "qwen2-prm-badrows", "Qwen2ForProcessRewardModel", head, true, true);
  for (const std::string bad : {R"({"problem": "p", "steps": []})", R"({"problem": "p", "steps": ["a", 3]})",
                                 R"({"problem": "p", "steps": ["a"], "label": 4})"}) {
    const std::string path = scratch_dir() + "/bad-steps.jsonl";
    write_text(path, bad + "\n");
    auto run = run_arbiter("score -q -m " + dir + " -i " + path + " -o " + scratch_dir() + "/bad-out.jsonl");
    EXPECT_NE(run.exit_code, 0) << bad << "\n" << run.out;
    EXPECT_TRUE(run.out.find("'steps'") != std::string::npos || run.out.find("'label'") != std::string::npos)
        << bad << "\n" << run.out;
  }
}

}  // namespace
}  // namespace arbiter::convert_test
