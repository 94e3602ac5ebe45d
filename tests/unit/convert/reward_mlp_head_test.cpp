// Two-layer reward heads (Qwen2ForRewardModel, Qwen2ForProcessRewardModel): the qwen2 fixture's backbone
// with a head Linear(64, 64) + ReLU + Linear(64, n) added. The expected scores are that head computed here
// in double precision on the reference's final-norm states (transformers' float64 forward), so the test
// measures the engine's backbone and head against the outside reference, read at every position (a process
// reward model reads many). The same model converted to GGUF must give the same scores.
#include <gtest/gtest.h>

#include <cmath>

#include "../../support/reward_head_fixture.h"
#include "io/gguf.h"
#include "convert_test_util.h"
#include "score/step_rewards.h"

namespace arbiter::convert_test {
namespace {

using namespace arbiter::reward_head_test;

// Every position of the three reference sequences through the model's head, against the double head on
// the reference states: the worst |ours - expected| / (sum of |terms|).
double worst_head_error(const std::string& model_path, const MlpHead& h, const std::string& backbone = "qwen2") {
  auto model = load_model(model_path);
  EXPECT_TRUE(model.is_ok()) << model.message();
  if (!model.is_ok()) return INFINITY;
  auto ref = SafetensorsFile::open(hf_fixture(backbone) + "/ref.safetensors");
  EXPECT_TRUE(ref.is_ok()) << ref.message();
  auto backend = make_cpu_backend(*model);
  ForwardOptions options;
  options.score_head = true;
  const std::vector<SequenceInput> sequences = testing::reference_sequences(**ref);
  auto out = backend->forward(sequences, options);
  EXPECT_TRUE(out.is_ok()) << out.message();
  if (!out.is_ok()) return INFINITY;
  double worst = 0;
  for (size_t s = 0; s < sequences.size(); ++s) {
    const std::vector<float> states = as_floats(*(*ref)->tensor("seq" + std::to_string(s) + ".final_norm"));
    const SequenceOutput& o = (*out)[s];
    EXPECT_EQ(o.num_reads, int64_t(sequences[s].tokens.size()));
    EXPECT_EQ(o.scores.size(), size_t(o.num_reads * h.labels));
    for (int64_t r = 0; r < o.num_reads && o.scores.size() == size_t(o.num_reads * h.labels); ++r) {
      std::vector<double> scale;
      const std::vector<double> expected = head_in_double(h, states.data() + r * h.d, &scale);
      for (int64_t k = 0; k < h.labels; ++k)
        worst = std::max(worst, std::fabs(double(o.scores[size_t(r * h.labels + k)]) - expected[size_t(k)]) /
                                    std::max(scale[size_t(k)], 1e-30));
    }
  }
  return worst;
}

// The directory converted to <scratch>/<name>.<type>.gguf (empty, with a failure, when it cannot be).
std::string converted_gguf(const std::string& dir, const std::string& name, const std::string& type = "f32") {
  ConvertOptions options;
  options.out_path = scratch_dir() + "/" + name + "." + type + ".gguf";
  options.type = type;
  options.progress = false;
  auto report = convert_hf_to_gguf(dir, options);
  EXPECT_TRUE(report.is_ok()) << report.message();
  return report.is_ok() ? options.out_path : "";
}

TEST(RewardMlpHead, OutcomeRewardModelMatchesTheHeadOnReferenceStates) {
  const MlpHead head = random_head(64, 1, 7);
  const std::string dir = model_with_head(fs::path(scratch_dir()) / "qwen2-rm", "Qwen2ForRewardModel", head);
  auto model = load_model(dir);
  ASSERT_TRUE(model.is_ok()) << model.message();
  const ModelConfig& c = (*model)->config;
  EXPECT_TRUE(c.is_classifier() && c.score_mlp && !c.process_reward);
  EXPECT_EQ(c.num_labels, 1);  // the class fixes one output whatever config.json says
  const double worst = worst_head_error(dir, head);
  std::printf("[reward head] Qwen2ForRewardModel worst error %.3g of the terms' size\n", worst);
  EXPECT_LE(worst, 1e-5);
}

TEST(RewardMlpHead, InfOrmLlamaHeadMatchesAndConvertsToGguf) {
  // INF-ORM's class: a Llama backbone (GGUF permutes its Q/K rows) and num_labels outputs.
  const MlpHead head = random_head(64, 3, 23);
  const std::string dir = model_with_head(fs::path(scratch_dir()) / "llama-inform", "INFORMForSequenceClassification",
                                          head, true, false, "llama");
  auto model = load_model(dir);
  ASSERT_TRUE(model.is_ok()) << model.message();
  EXPECT_TRUE((*model)->config.score_mlp && !(*model)->config.process_reward);
  EXPECT_EQ((*model)->config.num_labels, 3);
  const double worst = worst_head_error(dir, head, "llama");
  std::printf("[reward head] INFORMForSequenceClassification worst error %.3g of the terms' size\n", worst);
  EXPECT_LE(worst, 1e-5);
  const std::string gguf = converted_gguf(dir, "llama-inform");
  EXPECT_LE(worst_head_error(gguf, head, "llama"), 1e-5);
}

TEST(RewardMlpHead, ProcessRewardModelMatchesAtEveryPositionAndConvertsToGguf) {
  const MlpHead head = random_head(64, 2, 11);
  const std::string dir = model_with_head(fs::path(scratch_dir()) / "qwen2-prm", "Qwen2ForProcessRewardModel", head);
  auto model = load_model(dir);
  ASSERT_TRUE(model.is_ok()) << model.message();
  const ModelConfig& c = (*model)->config;
  EXPECT_TRUE(c.process_reward && c.score_mlp);
  EXPECT_EQ(c.num_labels, 2);
  EXPECT_EQ(c.step_tag, "<extra_0>");
  const double worst = worst_head_error(dir, head);
  std::printf("[reward head] Qwen2ForProcessRewardModel worst error %.3g of the terms' size\n", worst);
  EXPECT_LE(worst, 1e-5);

  // GGUF keeps the head, its ReLU layer and the step separator.
  const std::string gguf_path = converted_gguf(dir, "qwen2-prm");
  auto gguf = load_model(gguf_path);
  ASSERT_TRUE(gguf.is_ok()) << gguf.message();
  EXPECT_TRUE((*gguf)->config.process_reward && (*gguf)->config.score_mlp);
  EXPECT_EQ((*gguf)->config.step_tag, "<extra_0>");
  const double worst_gguf = worst_head_error(gguf_path, head);
  std::printf("[reward head] converted to GGUF f32: worst error %.3g\n", worst_gguf);
  EXPECT_LE(worst_gguf, 1e-5);
}

TEST(RewardMlpHead, QuantizedFilesKeepBothHeadLayersExact) {
  const MlpHead head = random_head(64, 1, 29);
  const std::string dir = model_with_head(fs::path(scratch_dir()) / "qwen2-rm-q8", "Qwen2ForRewardModel", head);
  auto gguf = GgufFile::open(converted_gguf(dir, "qwen2-rm", "q8_0"));
  ASSERT_TRUE(gguf.is_ok()) << gguf.message();
  for (const char* name : {"cls.relu.weight", "cls.relu.bias", "cls.output.weight", "cls.output.bias"}) {
    const TensorView* t = (*gguf)->tensor(name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(t->dtype, DType::F32) << name;
  }
  EXPECT_EQ((*gguf)->tensor("blk.0.attn_q.weight")->dtype, DType::Q8_0);  // the backbone is quantized
}

TEST(RewardMlpHead, StepRewardIsTheSoftmaxOfTheRightClass) {
  const float logits[] = {0.3f, 1.7f}, far[] = {-400.0f, 400.0f}, wrong[] = {900.0f, -900.0f};
  const double a = logits[0], b = logits[1];
  EXPECT_NEAR(step_reward(logits), std::exp(b) / (std::exp(a) + std::exp(b)), 1e-12);
  EXPECT_EQ(step_reward(far), 1.0);
  EXPECT_EQ(step_reward(wrong), 0.0);
  EXPECT_EQ(first_error_step({0.9, 0.7, 0.2, 0.1}, 0.5), 2);
  EXPECT_EQ(first_error_step({0.9, 0.7}, 0.5), -1);
  EXPECT_DOUBLE_EQ(aggregate_steps({0.9, 0.5, 0.8}, StepAggregate::kMin), 0.5);
  EXPECT_DOUBLE_EQ(aggregate_steps({0.9, 0.5, 0.8}, StepAggregate::kProduct), 0.9 * 0.5 * 0.8);
  EXPECT_DOUBLE_EQ(aggregate_steps({0.9, 0.5, 0.8}, StepAggregate::kMean), (0.9 + 0.5 + 0.8) / 3);
  EXPECT_DOUBLE_EQ(aggregate_steps({0.9, 0.5, 0.8}, StepAggregate::kLast), 0.8);
  EXPECT_FALSE(parse_step_aggregate("median").is_ok());
}

TEST(RewardMlpHead, MissingHeadTensorIsAnErrorNamingIt) {
  const MlpHead head = random_head(64, 1, 3);
  const std::string dir = model_with_head(fs::path(scratch_dir()) / "qwen2-rm-nobias", "Qwen2ForRewardModel", head, /*with_hidden_bias=*/false);
  auto model = load_model(dir);
  ASSERT_FALSE(model.is_ok());
  EXPECT_NE(model.message().find("score.0.bias"), std::string::npos) << model.message();
}

}  // namespace
}  // namespace arbiter::convert_test
