// Skywork-o1-Open-PRM's class (Qwen2ForPrmModel): a value head, Linear(d, 1) named v_head.summary, read at
// every step's closing newline, the step's reward its sigmoid. The qwen2 fixture's backbone with a random
// value head stands in for the model: at separators in a reference sequence, the rewards are held to the
// head computed in double on transformers' float64 final-norm states there; a listed solution's rewards to
// a forward read by hand at the response's newlines only (the prompt's own newline is not a step); the same
// model converted to GGUF gives the same rewards.
#include <gtest/gtest.h>

#include <cmath>

#include "../../support/cli_helpers.h"
#include "../../support/reward_head_fixture.h"
#include "convert_test_util.h"
#include "model/model_tokenizer.h"
#include "text/tokenizer.h"

namespace arbiter::convert_test {
namespace {

namespace fs = std::filesystem;
using arbiter::testing::read_jsonl;
using arbiter::testing::run_arbiter;

struct ValueHead {
  std::vector<float> w;  // [64]
  float b = 0.0f;
};

ValueHead random_value_head(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  ValueHead h;
  for (int i = 0; i < 64; ++i) h.w.push_back(normal(rng));
  h.b = normal(rng);
  return h;
}

double sigmoid_of_head(const ValueHead& h, const float* state) {
  double z = h.b;
  for (int i = 0; i < 64; ++i) z += double(h.w[size_t(i)]) * double(state[i]);
  return 1.0 / (1.0 + std::exp(-z));
}

// The qwen2 fixture with v_head.summary.* added in a second shard and the class renamed.
std::string skywork_model(const fs::path& dir, const ValueHead& h) {
  arbiter::reward_head_test::model_with_head_tensors(
      dir, "Qwen2ForPrmModel",
      {make_f32_tensor("v_head.summary.weight", {1, 64}, h.w), make_f32_tensor("v_head.summary.bias", {1}, {h.b})});
  return dir.string();
}

std::string converted_f32(const std::string& dir, const std::string& name) { return convert_f32(dir, name + ".f32"); }

TEST(ValueHeadPrm, RewardsAtSeparatorsFollowTheReferenceStates) {
  const ValueHead head = random_value_head(21);
  const std::string dir = skywork_model(fs::path(scratch_dir()) / "skywork-prm", head);
  auto model = load_model(dir);
  ASSERT_TRUE(model.is_ok()) << model.message();
  const ModelConfig& c = (*model)->config;
  EXPECT_TRUE(c.is_classifier() && c.process_reward && !c.score_mlp);
  EXPECT_EQ(c.num_labels, 1);
  EXPECT_EQ(c.step_tag, "\n");

  // The reference's third sequence holds token 11 twice: read there, by id.
  auto ref = SafetensorsFile::open(hf_fixture("qwen2") + "/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  const TensorView* ids_view = (*ref)->tensor("seq2.input_ids");
  const auto* p = static_cast<const int32_t*>(ids_view->data);
  const std::vector<int32_t> ids(p, p + ids_view->numel());
  const std::vector<float> states = as_floats(*(*ref)->tensor("seq2.final_norm"));  // [T, 64]
  std::vector<double> expected;
  for (size_t t = 0; t < ids.size(); ++t)
    if (ids[t] == 11) expected.push_back(sigmoid_of_head(head, states.data() + t * 64));
  ASSERT_EQ(expected.size(), 2u);
  write_text(fs::path(scratch_dir()) / "skywork-rows.jsonl", nlohmann::json{{"input_ids", ids}}.dump() + "\n");

  const std::string gguf = converted_f32(dir, "skywork-prm");
  ASSERT_FALSE(gguf.empty());
  for (const std::string& path : {dir, gguf}) {
    const std::string out = scratch_dir() + "/skywork-ref." + (path == gguf ? "gguf" : "hf") + ".jsonl";
    auto run = run_arbiter("score -q -m " + path + " -i " + scratch_dir() + "/skywork-rows.jsonl -o " + out +
                           " --step-tag-id 11");
    ASSERT_EQ(run.exit_code, 0) << run.out;
    const auto got = read_jsonl(out)[0]["step_rewards"].get<std::vector<double>>();
    ASSERT_EQ(got.size(), 2u);
    for (size_t s = 0; s < 2; ++s) EXPECT_NEAR(got[s], expected[s], 1e-5) << path << " step " << s;
  }
  auto info = run_arbiter("info -m " + gguf + " --json");
  EXPECT_EQ(info.exit_code, 0) << info.out;
  EXPECT_NE(info.out.find("\"step_tag\": \"\\n\""), std::string::npos) << info.out;
}

TEST(ValueHeadPrm, ListedStepsAreReadAtTheResponsesNewlinesOnly) {
  const ValueHead head = random_value_head(22);
  const std::string dir = skywork_model(fs::path(scratch_dir()) / "skywork-prm-steps", head);
  // Skywork's layout: the problem and a newline, then each step and its newline; the problem holds a
  // newline of its own, which is not a step.
  write_text(fs::path(scratch_dir()) / "skywork.jinja", "{{ messages | map(attribute='content') | join('\\n') }}");
  const std::string problem = "Add 3 and 5.\nGive the sum.";
  const std::vector<std::string> steps = {"3 + 5 = 8.", "The sum is 8."};
  write_text(fs::path(scratch_dir()) / "skywork-steps.jsonl",
             nlohmann::json{{"problem", problem}, {"steps", steps}, {"label", -1}}.dump() + "\n");
  auto run = run_arbiter("score -q -m " + dir + " -i " + scratch_dir() + "/skywork-steps.jsonl -o " + scratch_dir() +
                         "/skywork-steps.out.jsonl --chat-template " + scratch_dir() + "/skywork.jinja");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const nlohmann::json line = read_jsonl(scratch_dir() + "/skywork-steps.out.jsonl")[0];

  auto model = load_model(dir);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto tokenizer = load_model_tokenizer(**model);
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.message();
  const std::string prompt_text = problem + "\n";
  auto prompt_tokens = (*tokenizer)->encode(prompt_text, false, true);
  auto tokens = (*tokenizer)->encode(prompt_text + steps[0] + "\n" + steps[1] + "\n", false, true);
  const auto newline = (*tokenizer)->encode("\n", false, true);
  ASSERT_TRUE(prompt_tokens.is_ok() && tokens.is_ok() && newline.is_ok() && newline->size() == 1u);
  SequenceInput seq{*tokens, {}};
  for (size_t i = prompt_tokens->size(); i < tokens->size(); ++i)
    if ((*tokens)[i] == (*newline)[0]) seq.read_positions.push_back(int32_t(i));
  ASSERT_EQ(seq.read_positions.size(), 2u);
  ForwardOptions options;
  options.final_norm = true;
  auto out = make_cpu_backend(*model)->forward({seq}, options);
  ASSERT_TRUE(out.is_ok()) << out.message();
  const auto got = line["step_rewards"].get<std::vector<double>>();
  ASSERT_EQ(got.size(), 2u) << line.dump();
  for (size_t s = 0; s < 2; ++s)
    EXPECT_NEAR(got[s], sigmoid_of_head(head, (*out)[0].final_norm.data() + s * 64), 1e-6) << "step " << s;

  // With the model's own chat template, the newlines of its markup around the turns are not steps either.
  run = run_arbiter("score -q -m " + dir + " -i " + scratch_dir() + "/skywork-steps.jsonl -o " + scratch_dir() +
                    "/skywork-chat.out.jsonl");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(read_jsonl(scratch_dir() + "/skywork-chat.out.jsonl")[0]["step_rewards"].size(), 2u);

  // A prompt of many lines cut from the left to fit --max-length: its remaining newlines are still not steps.
  std::string long_problem;
  for (int i = 0; i < 20; ++i) long_problem += "Line.\n";
  long_problem += "Sum?";
  write_text(fs::path(scratch_dir()) / "skywork-long.jsonl",
             nlohmann::json{{"problem", long_problem}, {"steps", steps}}.dump() + "\n");
  auto long_tokens = (*tokenizer)->encode(long_problem + "\n" + steps[0] + "\n" + steps[1] + "\n", false, true);
  auto response_tokens = (*tokenizer)->encode(steps[0] + "\n" + steps[1] + "\n", false, true);
  ASSERT_TRUE(long_tokens.is_ok() && response_tokens.is_ok());
  const size_t max_length = response_tokens->size() + 8;  // the response and the prompt's last few lines
  ASSERT_LT(max_length, long_tokens->size());
  run = run_arbiter("score -q -m " + dir + " -i " + scratch_dir() + "/skywork-long.jsonl -o " + scratch_dir() +
                    "/skywork-long.out.jsonl --chat-template " + scratch_dir() + "/skywork.jinja --max-length " +
                    std::to_string(max_length));
  ASSERT_EQ(run.exit_code, 0) << run.out;
  SequenceInput kept{std::vector<int32_t>(long_tokens->end() - long(max_length), long_tokens->end()), {}};
  for (size_t i = max_length - response_tokens->size(); i < max_length; ++i)
    if (kept.tokens[i] == (*newline)[0]) kept.read_positions.push_back(int32_t(i));
  ASSERT_EQ(kept.read_positions.size(), 2u);
  auto kept_out = make_cpu_backend(*model)->forward({kept}, options);
  ASSERT_TRUE(kept_out.is_ok()) << kept_out.message();
  const nlohmann::json long_line = read_jsonl(scratch_dir() + "/skywork-long.out.jsonl")[0];
  const auto long_got = long_line["step_rewards"].get<std::vector<double>>();
  ASSERT_EQ(long_got.size(), 2u) << long_line.dump();
  for (size_t s = 0; s < 2; ++s)
    EXPECT_NEAR(long_got[s], sigmoid_of_head(head, (*kept_out)[0].final_norm.data() + s * 64), 1e-6) << "step " << s;

  // A step holding a newline is two steps to this model: the count says so, naming the separator.
  write_text(fs::path(scratch_dir()) / "skywork-multiline.jsonl",
             nlohmann::json{{"problem", "p"}, {"steps", {"one\ntwo", "three"}}}.dump() + "\n");
  run = run_arbiter("score -q -m " + dir + " -i " + scratch_dir() + "/skywork-multiline.jsonl -o " + scratch_dir() +
                    "/skywork-multiline.out.jsonl --chat-template " + scratch_dir() + "/skywork.jinja");
  EXPECT_NE(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("2 steps but 3 separators"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace arbiter::convert_test
