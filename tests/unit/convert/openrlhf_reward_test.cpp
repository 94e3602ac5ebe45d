// OpenRLHF's reward models (its RewardModel class): a model_type backbone with a Linear(d, 1) value head
// named by config.json's value_head_prefix ("value_head" in checkpoints older than the key), read at an
// EOS after the conversation: trailing newlines dropped and " " + EOS appended unless the text ends with
// it, as OpenRLHF's reward data is built. The qwen2 fixture's backbone with a random value head stands in
// for such a model: on transformers' float64 reference states the reward is the head computed in double,
// from the Hugging Face directory and from its GGUF conversion; through `arbiter score`, it is read at the
// EOS of a conversation spelled out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

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

constexpr int64_t kHeadDim = 64;
constexpr int32_t kImEndId = 2;  // the fixture tokenizer's <|im_end|>, its EOS

std::vector<float> random_openrlhf_head(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  std::vector<float> w;
  for (int64_t i = 0; i < kHeadDim; ++i) w.push_back(normal(rng));
  return w;
}

double openrlhf_head_in_double(const std::vector<float>& w, const float* state) {
  double z = 0.0;
  for (int64_t i = 0; i < kHeadDim; ++i) z += double(w[size_t(i)]) * double(state[i]);
  return z;
}

// The qwen2 fixture saved as OpenRLHF saves a reward model: class RewardModel, the head `<prefix>.weight`,
// value_head_prefix in config.json unless `prefix_in_config` is false.
std::string openrlhf_model(const std::string& name, const std::string& prefix, bool prefix_in_config,
                           const std::vector<float>& w) {
  const fs::path dir = fs::path(scratch_dir()) / name;
  arbiter::reward_head_test::model_with_head_tensors(dir, "RewardModel", {make_f32_tensor(prefix + ".weight", {1, kHeadDim}, w)});
  std::ifstream in(dir / "config.json");
  nlohmann::json config = nlohmann::json::parse(in);
  if (prefix_in_config) config["value_head_prefix"] = prefix;
  config["normalize_reward"] = false;
  config["mean"] = 0.25;
  config["std"] = 2.0;
  arbiter::reward_head_test::replace_text(dir / "config.json", config.dump(2));
  return dir.string();
}

TEST(OpenRlhfReward, ValueHeadOnTheReferenceStatesFromTheDirectoryAndItsGguf) {
  const std::vector<float> w = random_openrlhf_head(41);
  const std::string dir = openrlhf_model("openrlhf-old", "value_head", /*prefix_in_config=*/false, w);
  auto model = load_model(dir);
  ASSERT_TRUE(model.is_ok()) << model.message();
  const ModelConfig& c = (*model)->config;
  EXPECT_TRUE(c.is_classifier());
  EXPECT_EQ(c.arch, Architecture::kQwen2);
  EXPECT_EQ(c.num_labels, 1);
  EXPECT_TRUE(c.reward_at_eos);

  // An input_ids row is read at its own last token: the reference's third sequence, whole.
  auto ref = SafetensorsFile::open(hf_fixture("qwen2") + "/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  const std::vector<int32_t> ids = testing::reference_sequences(**ref)[2].tokens;
  const std::vector<float> states = as_floats(*(*ref)->tensor("seq2.final_norm"));  // [T, 64]
  const double expected = openrlhf_head_in_double(w, states.data() + (ids.size() - 1) * kHeadDim);
  const std::string rows = scratch_dir() + "/openrlhf-ids.jsonl";
  write_text(rows, nlohmann::json{{"input_ids", ids}}.dump() + "\n");

  const std::string gguf = scratch_dir() + "/openrlhf-old.f32.gguf";
  auto run = run_arbiter("convert -q " + dir + " -o " + gguf + " --type f32");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  auto from_gguf = load_model(gguf);
  ASSERT_TRUE(from_gguf.is_ok()) << from_gguf.message();
  EXPECT_TRUE((*from_gguf)->config.reward_at_eos);
  // Raw, and as OpenRLHF's --normalize_reward serves it: (r - mean) / std with config.json's 0.25 and 2.
  const double normalized = (expected - 0.25) / 2.0;
  for (const std::string& path : {dir, gguf}) {
    const std::string out = scratch_dir() + "/openrlhf-ids." + (path == gguf ? "gguf" : "hf") + ".jsonl";
    run = run_arbiter("score -q -m " + path + " -i " + rows + " -o " + out);
    ASSERT_EQ(run.exit_code, 0) << run.out;
    EXPECT_NEAR(read_jsonl(out)[0]["score"].get<double>(), expected, 1e-5 * (1.0 + std::fabs(expected))) << path;
    run = run_arbiter("score -q -m " + path + " -i " + rows + " -o " + out + " --normalize-reward");
    ASSERT_EQ(run.exit_code, 0) << run.out;
    EXPECT_NEAR(read_jsonl(out)[0]["score"].get<double>(), normalized, 1e-5 * (1.0 + std::fabs(normalized))) << path;
  }
  // `info` says where the reward is read and what it would be normalized by, from the GGUF's metadata.
  auto info = run_arbiter("info -m " + gguf + " --json");
  ASSERT_EQ(info.exit_code, 0) << info.out;
  const nlohmann::json described = nlohmann::json::parse(info.out.substr(info.out.find('{')));
  EXPECT_EQ(described["reward_read_at"], "eos") << info.out;
  EXPECT_EQ(described["reward_normalization"]["mean"].get<double>(), 0.25) << info.out;
  EXPECT_EQ(described["reward_normalization"]["std"].get<double>(), 2.0) << info.out;
  // A classifier that saved no mean and std: --normalize-reward is an error naming what is missing.
  run = run_arbiter("score -q -m " + hf_fixture("qwen2-seqcls1") + " -i " + rows + " -o " + scratch_dir() +
                    "/openrlhf-refused.jsonl --normalize-reward");
  EXPECT_NE(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("--normalize-reward"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("mean"), std::string::npos) << run.out;

  // A value_head_prefix that is not a string: an error naming the field.
  std::ifstream in(fs::path(dir) / "config.json");
  nlohmann::json config = nlohmann::json::parse(in);
  config["value_head_prefix"] = 3;
  arbiter::reward_head_test::replace_text(fs::path(dir) / "config.json", config.dump(2));
  auto refused = load_model(dir);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.message().find("value_head_prefix"), std::string::npos) << refused.message();
}

// OpenRLHF's first class, LLMForSequenceClassification: a value head with a bias, and the reward's mean
// and std kept as tensors beside it (which conversion leaves behind).
TEST(OpenRlhfReward, TheFirstClassWithABiasAndTensorsForMeanAndStd) {
  const std::vector<float> w = random_openrlhf_head(43);
  const float bias = 0.375f;
  const fs::path dir = fs::path(scratch_dir()) / "openrlhf-first";
  arbiter::reward_head_test::model_with_head_tensors(
      dir, "LLMForSequenceClassification",
      {make_f32_tensor("value_head.weight", {1, kHeadDim}, w), make_f32_tensor("value_head.bias", {1}, {bias}),
       make_f32_tensor("mean", {1}, {0.0f}), make_f32_tensor("std", {1}, {1.0f})});
  auto ref = SafetensorsFile::open(hf_fixture("qwen2") + "/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  const std::vector<int32_t> ids = testing::reference_sequences(**ref)[2].tokens;
  const std::vector<float> states = as_floats(*(*ref)->tensor("seq2.final_norm"));  // [T, 64]
  const double expected = openrlhf_head_in_double(w, states.data() + (ids.size() - 1) * kHeadDim) + bias;
  const std::string rows = scratch_dir() + "/openrlhf-first-ids.jsonl";
  write_text(rows, nlohmann::json{{"input_ids", ids}}.dump() + "\n");
  const std::string gguf = scratch_dir() + "/openrlhf-first.f32.gguf";
  auto run = run_arbiter("convert -q " + dir.string() + " -o " + gguf + " --type f32");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  for (const std::string& path : {dir.string(), gguf}) {
    const std::string out = scratch_dir() + "/openrlhf-first." + (path == gguf ? "gguf" : "hf") + ".jsonl";
    run = run_arbiter("score -q -m " + path + " -i " + rows + " -o " + out);
    ASSERT_EQ(run.exit_code, 0) << run.out;
    EXPECT_NEAR(read_jsonl(out)[0]["score"].get<double>(), expected, 1e-5 * (1.0 + std::fabs(expected))) << path;
  }
}

// The reward at the last of `tokens`, from a forward of the directory's model.
double reward_at_last(const std::string& dir, const std::vector<float>& w, const std::vector<int32_t>& tokens) {
  auto model = load_model(dir);
  EXPECT_TRUE(model.is_ok()) << model.message();
  if (!model.is_ok()) return NAN;
  ForwardOptions options;
  options.final_norm = true;
  auto out = make_cpu_backend(*model)->forward({SequenceInput{tokens, {int32_t(tokens.size() - 1)}}}, options);
  EXPECT_TRUE(out.is_ok()) << out.message();
  return out.is_ok() ? openrlhf_head_in_double(w, (*out)[0].final_norm.data()) : NAN;
}

TEST(OpenRlhfReward, ConversationsAreReadAtTheEosAfterThem) {
  const std::vector<float> w = random_openrlhf_head(42);
  const std::string dir = openrlhf_model("openrlhf-score", "score", /*prefix_in_config=*/true, w);
  auto model = load_model(dir);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto tokenizer = load_model_tokenizer(**model);
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.message();
  ASSERT_EQ((*tokenizer)->eos_id(), std::optional<int32_t>(kImEndId));
  auto encode = [&](const std::string& text) {
    auto ids = (*tokenizer)->encode(text, false, true);
    EXPECT_TRUE(ids.is_ok()) << ids.message();
    return ids.is_ok() ? *ids : std::vector<int32_t>{};
  };

  const std::string rows = scratch_dir() + "/openrlhf-rows.jsonl";
  write_text(rows, R"({"id": "r1", "prompt": "Name a color.", "response": "Blue is a color.\n"})" "\n");
  // A template that ends with newlines and no EOS: they go, and " <|im_end|>" follows.
  const std::string plain_template = scratch_dir() + "/openrlhf-lines.jinja";
  write_text(plain_template, "{% for m in messages %}{{ m['content'] }}\n{% endfor %}");
  // A ChatML template, whose text ends with "<|im_end|>\n": the newline goes and nothing is added.
  const std::string chatml_template = scratch_dir() + "/openrlhf-chatml.jinja";
  write_text(chatml_template,
             "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}");
  const struct {
    std::string template_path, text, extra;
  } cases[] = {
      {plain_template, "Name a color.\nBlue is a color. <|im_end|>", ""},
      {chatml_template, "<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant\nBlue is a color.\n<|im_end|>", ""},
  };
  for (const auto& c : cases) {
    const std::vector<int32_t> tokens = encode(c.text);
    ASSERT_FALSE(tokens.empty());
    ASSERT_EQ(tokens.back(), kImEndId) << c.text;
    const std::string out = scratch_dir() + "/openrlhf-rows.out.jsonl";
    auto run = run_arbiter("score -q -m " + dir + " -i " + rows + " -o " + out + " --chat-template " + c.template_path);
    ASSERT_EQ(run.exit_code, 0) << run.out;
    const double expected = reward_at_last(dir, w, tokens);
    EXPECT_NEAR(read_jsonl(out)[0]["score"].get<double>(), expected, 1e-5 * (1.0 + std::fabs(expected))) << c.text;
  }

  // Cut on the right to six tokens: the sixth is the EOS the reward is read at.
  std::vector<int32_t> cut = encode("Name a color.\nBlue is a color. <|im_end|>");
  ASSERT_GT(cut.size(), 6u);
  cut.resize(6);
  cut.back() = kImEndId;
  const std::string out = scratch_dir() + "/openrlhf-cut.jsonl";
  auto run = run_arbiter("score -q -m " + dir + " -i " + rows + " -o " + out + " --chat-template " + plain_template +
                         " --max-length 6 --truncation right");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const double expected = reward_at_last(dir, w, cut);
  EXPECT_NEAR(read_jsonl(out)[0]["score"].get<double>(), expected, 1e-5 * (1.0 + std::fabs(expected)));
}

}  // namespace
}  // namespace arbiter::convert_test
