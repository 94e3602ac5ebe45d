// ArmoRM's gated multi-objective head (LlamaForRewardModelWithGating) on the qwen2 fixture's backbone read
// as Llama (with attention biases, the same forward): K objective rewards at the last token, mixed by a
// gating network read where the prompt ends. Expected values are that head computed here in double: on the
// float64 reference states (parity of the whole chain), and, through `arbiter score`, on a forward read at
// the positions found by hand in a conversation rendered by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "../../support/cli_helpers.h"
#include "../../support/reward_head_fixture.h"
#include "convert_test_util.h"
#include "io/gguf.h"
#include "model/model_tokenizer.h"
#include "runtime/score_head.h"
#include "text/tokenizer.h"

namespace arbiter::convert_test {
namespace {

using arbiter::testing::read_jsonl;
using arbiter::testing::run_arbiter;
using namespace arbiter::reward_head_test;

constexpr int64_t kD = 64, kObjectives = 4, kHidden = 16, kGatingHidden = 2;
constexpr double kTemperature = 3.0, kLogitScale = 1.5;

struct GatedHead {
  std::vector<float> regression, transform;          // [K, d], [K, K]
  std::vector<std::vector<float>> weights, biases;   // gating layers: [16, 64], [16, 16], [K, 16]
};

GatedHead random_gated_head() {
  std::mt19937 rng(31);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  auto fill = [&](int64_t n) {
    std::vector<float> v(static_cast<size_t>(n), 0.0f);
    for (float& f : v) f = normal(rng);
    return v;
  };
  GatedHead h{fill(kObjectives * kD), fill(kObjectives * kObjectives), {}, {}};
  int64_t in = kD;
  for (int64_t i = 0; i <= kGatingHidden; ++i) {
    const int64_t out = i < kGatingHidden ? kHidden : kObjectives;
    h.weights.push_back(fill(out * in));
    h.biases.push_back(fill(out));
    in = out;
  }
  return h;
}

// The head in double: rewards [K] at `last`, the gated score.
double gated_in_double(const GatedHead& h, const float* gate, const float* last, std::vector<double>& rewards) {
  std::vector<double> x(gate, gate + kD);
  for (size_t i = 0; i < h.weights.size(); ++i) {
    const size_t in = x.size(), out = h.biases[i].size();
    std::vector<double> y(out);
    for (size_t o = 0; o < out; ++o) {
      double acc = h.biases[i][o];
      for (size_t j = 0; j < in; ++j) acc += double(h.weights[i][o * in + j]) * x[j];
      y[o] = i + 1 < h.weights.size() ? std::max(acc, 0.0) : acc;
    }
    x = y;
  }
  double z = 0.0;
  for (double v : x) z += std::exp(v / kTemperature);
  rewards.assign(kObjectives, 0.0);
  for (int64_t k = 0; k < kObjectives; ++k)
    for (int64_t j = 0; j < kD; ++j) rewards[size_t(k)] += double(h.regression[size_t(k * kD + j)]) * last[j];
  double score = 0.0;
  for (int64_t j = 0; j < kObjectives; ++j) {
    double adjusted = 0.0;
    for (int64_t i = 0; i < kObjectives; ++i) adjusted += rewards[size_t(i)] * h.transform[size_t(i * kObjectives + j)];
    score += std::exp(x[size_t(j)] / kTemperature) / z * kLogitScale * adjusted;
  }
  return score;
}

// fixtures/hf/qwen2 as an ArmoRM: config, the head in a second shard, Llama 3's header tokens added.
std::string gated_model(const std::string& as, const GatedHead& h) {
  const MlpHead unused = random_head(kD, 1, 1);
  const fs::path dir = fs::path(scratch_dir()) / as;
  model_with_head(dir, "LlamaForRewardModelWithGating", unused);  // the backbone shard and index layout
  std::vector<OwnedTensor> head = {make_f32_tensor("regression_layer.weight", {kObjectives, kD}, h.regression),
                                   make_f32_tensor("reward_transform_matrix", {kObjectives, kObjectives}, h.transform),
                                   make_f32_tensor("gating.logit_scale", {1}, {float(kLogitScale)})};
  for (size_t i = 0; i < h.weights.size(); ++i) {
    const int64_t out = int64_t(h.biases[i].size()), in = int64_t(h.weights[i].size()) / out;
    head.push_back(make_f32_tensor("gating.layers." + std::to_string(i) + ".weight", {out, in}, h.weights[i]));
    head.push_back(make_f32_tensor("gating.layers." + std::to_string(i) + ".bias", {out}, h.biases[i]));
  }
  EXPECT_TRUE(write_safetensors((dir / "head.safetensors").string(), head).is_ok());
  std::ifstream index_in(dir / "model.safetensors.index.json");
  nlohmann::json index = nlohmann::json::parse(index_in);
  for (const char* old : {"score.0.weight", "score.0.bias", "score.2.weight", "score.2.bias"}) index["weight_map"].erase(old);
  for (const OwnedTensor& t : head) index["weight_map"][t.name] = "head.safetensors";
  replace_text(dir / "model.safetensors.index.json", index.dump());

  std::ifstream config_in(dir / "config.json");
  nlohmann::json config = nlohmann::json::parse(config_in);
  config["attention_bias"] = true;  // qwen2's q/k/v biases, read as Llama
  config["num_objectives"] = kObjectives;
  config["gating_hidden_dim"] = kHidden;
  config["gating_n_hidden"] = kGatingHidden;
  config["gating_temperature"] = kTemperature;
  replace_text(dir / "config.json", config.dump(2));

  std::ifstream tok_in(fs::path(hf_fixture("qwen2")) / "tokenizer.json");
  nlohmann::json tokenizer = nlohmann::json::parse(tok_in);
  int32_t id = 509;
  for (const char* special : {"<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"})
    tokenizer["added_tokens"].push_back({{"id", id++}, {"content", special}, {"single_word", false}, {"lstrip", false},
                                         {"rstrip", false}, {"normalized", false}, {"special", true}});
  replace_text(dir / "tokenizer.json", tokenizer.dump());
  return dir.string();
}

// A chat template that writes turns as Llama 3's does (the gate's "<|eot_id|><|start_header_id|>assistant"),
// in a scratch file; its path.
std::string llama3_like_template() {
  const std::string path = scratch_dir() + "/llama3-like.jinja";
  write_text(path, "{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>{% endfor %}");
  return path;
}

TEST(GatedReward, HeadOnTheReferenceStatesMatchesDouble) {
  const GatedHead head = random_gated_head();
  const std::string dir = gated_model("armo-parity", head);
  auto model = load_model(dir);
  ASSERT_TRUE(model.is_ok()) << model.message();
  const ModelConfig& c = (*model)->config;
  ASSERT_TRUE(c.gating.enabled);
  EXPECT_EQ(c.arch, Architecture::kLlama);
  EXPECT_EQ(c.num_labels, kObjectives);
  auto ref = SafetensorsFile::open(hf_fixture("qwen2") + "/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  SequenceInput seq = testing::reference_sequences(**ref)[2];  // 33 tokens
  seq.read_positions = {10, 32};                                // gate where the "prompt" ends, the last token
  ForwardOptions options;
  options.final_norm = true;
  auto out = make_cpu_backend(*model)->forward({seq}, options);
  ASSERT_TRUE(out.is_ok()) << out.message();
  const std::vector<float> states = as_floats(*(*ref)->tensor("seq2.final_norm"));
  std::vector<double> expected_rewards, rewards;
  const double expected = gated_in_double(head, states.data() + 10 * kD, states.data() + 32 * kD, expected_rewards);
  const double score = gated_reward(**model, (*out)[0].final_norm.data(), (*out)[0].final_norm.data() + kD, rewards);
  std::printf("[gated head] score %.6f, reference %.6f\n", score, expected);
  EXPECT_NEAR(score, expected, 1e-5 * (1.0 + std::fabs(expected)));
  ASSERT_EQ(rewards.size(), size_t(kObjectives));
  for (int64_t k = 0; k < kObjectives; ++k)
    EXPECT_NEAR(rewards[size_t(k)], expected_rewards[size_t(k)], 1e-5 * (1.0 + std::fabs(expected_rewards[size_t(k)])));
}

TEST(GatedReward, ScoreReadsWherePromptEndsAndTheLastToken) {
  const GatedHead head = random_gated_head();
  const std::string dir = gated_model("armo-cli", head);
  const std::string template_path = llama3_like_template();
  const std::string rows = scratch_dir() + "/armo-rows.jsonl";
  write_text(rows, R"({"id": "r1", "prompt": "Name a color.", "response": "Blue is a color."})" "\n");
  const std::string out_path = scratch_dir() + "/armo-out.jsonl";
  auto run = run_arbiter("score -q -m " + dir + " -i " + rows + " -o " + out_path + " --chat-template " + template_path);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto lines = read_jsonl(out_path);
  ASSERT_EQ(lines.size(), 1u);

  // By hand: the rendered conversation, the gate where "<|eot_id|><|start_header_id|>assistant..." starts.
  auto model = load_model(dir);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto tokenizer = load_model_tokenizer(**model);
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.message();
  const std::string text = "<|start_header_id|>user<|end_header_id|>\n\nName a color.<|eot_id|>"
                           "<|start_header_id|>assistant<|end_header_id|>\n\nBlue is a color.<|eot_id|>";
  auto tokens = (*tokenizer)->encode(text, false, true);
  ASSERT_TRUE(tokens.is_ok()) << tokens.message();
  int32_t gate = -1;
  for (size_t i = 0; i < tokens->size(); ++i)
    if ((*tokens)[i] == 509 && gate < 0) gate = int32_t(i);  // the first <|eot_id|>: the user turn's end
  ASSERT_GT(gate, 0);
  ForwardOptions options;
  options.final_norm = true;
  SequenceInput read{*tokens, {gate, int32_t(tokens->size() - 1)}};
  auto out = make_cpu_backend(*model)->forward({read}, options);
  ASSERT_TRUE(out.is_ok()) << out.message();
  std::vector<double> rewards;
  const double expected = gated_in_double(head, (*out)[0].final_norm.data(), (*out)[0].final_norm.data() + kD, rewards);
  EXPECT_NEAR(lines[0]["score"].get<double>(), expected, 1e-5 * (1.0 + std::fabs(expected))) << lines[0].dump();
  ASSERT_EQ(lines[0]["attributes"].size(), size_t(kObjectives)) << lines[0].dump();
  for (int64_t k = 0; k < kObjectives; ++k)
    EXPECT_NEAR(lines[0]["attributes"]["output_" + std::to_string(k)].get<double>(), rewards[size_t(k)], 1e-5)
        << lines[0].dump();

  // The fixture's own (ChatML) template has no Llama 3 header: an error naming what the gate needs.
  run = run_arbiter("score -q -m " + dir + " -i " + rows + " -o " + scratch_dir() + "/armo-chatml.jsonl");
  EXPECT_NE(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("<|eot_id|>"), std::string::npos) << run.out;
}

// The head as this file's tests compute it in double, on the final-norm states of `path`'s own forward at
// the user turn's end and the last token of `text`.
double expected_on_states_of(const std::string& path, const GatedHead& head, const std::string& text,
                             std::vector<double>& rewards) {
  auto model = load_model(path);
  EXPECT_TRUE(model.is_ok()) << model.message();
  if (!model.is_ok()) return NAN;
  auto tokenizer = load_model_tokenizer(**model);
  EXPECT_TRUE(tokenizer.is_ok()) << tokenizer.message();
  if (!tokenizer.is_ok()) return NAN;
  auto tokens = (*tokenizer)->encode(text, false, true);
  EXPECT_TRUE(tokens.is_ok()) << tokens.message();
  if (!tokens.is_ok()) return NAN;
  const auto eot = std::find(tokens->begin(), tokens->end(), 509);  // the user turn's end
  EXPECT_NE(eot, tokens->end());
  ForwardOptions options;
  options.final_norm = true;
  SequenceInput read{*tokens, {int32_t(eot - tokens->begin()), int32_t(tokens->size() - 1)}};
  auto out = make_cpu_backend(*model)->forward({read}, options);
  EXPECT_TRUE(out.is_ok()) << out.message();
  if (!out.is_ok()) return NAN;
  return gated_in_double(head, (*out)[0].final_norm.data(), (*out)[0].final_norm.data() + kD, rewards);
}

TEST(GatedReward, ConvertedToGgufScoresAsTheDirectory) {
  const GatedHead head = random_gated_head();
  const std::string dir = gated_model("armo-gguf", head);
  const std::string gguf = scratch_dir() + "/armo.f32.gguf", q8 = scratch_dir() + "/armo.q8_0.gguf";
  auto run = run_arbiter("convert -q " + dir + " -o " + gguf + " --type f32");
  ASSERT_EQ(run.exit_code, 0) << run.out;

  // Read back: the sizes of the head come from its tensors, the temperature from the metadata.
  auto model = load_model(gguf);
  ASSERT_TRUE(model.is_ok()) << model.message();
  const ModelConfig& c = (*model)->config;
  ASSERT_TRUE(c.gating.enabled);
  EXPECT_EQ(c.num_labels, kObjectives);
  EXPECT_EQ(c.gating.layers, kGatingHidden);
  EXPECT_EQ(c.gating.hidden, kHidden);
  EXPECT_EQ(c.gating.temperature, kTemperature);
  EXPECT_EQ((*model)->gating_logit_scale, float(kLogitScale));

  const std::string template_path = llama3_like_template();
  const std::string rows = scratch_dir() + "/armo-gguf-rows.jsonl";
  write_text(rows, R"({"id": "r1", "prompt": "Name a color.", "response": "Blue is a color."})" "\n");
  const std::string text = "<|start_header_id|>user<|end_header_id|>\n\nName a color.<|eot_id|>"
                           "<|start_header_id|>assistant<|end_header_id|>\n\nBlue is a color.<|eot_id|>";

  // f32: the head on the directory's states (which HeadOnTheReferenceStatesMatchesDouble holds to the
  // float64 reference). q8_0: the head, kept in f32, on the quantized backbone's own states.
  run = run_arbiter("quantize -q " + gguf + " " + q8 + " --type q8_0");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  for (const auto& [file, states_of] : {std::pair{gguf, dir}, std::pair{q8, q8}}) {
    std::vector<double> rewards;
    const double expected = expected_on_states_of(states_of, head, text, rewards);
    ASSERT_EQ(rewards.size(), size_t(kObjectives));
    constexpr double tolerance = 1e-5;
    const std::string out_path = file + ".scores.jsonl";
    run = run_arbiter("score -q -m " + file + " -i " + rows + " -o " + out_path + " --chat-template " + template_path);
    ASSERT_EQ(run.exit_code, 0) << run.out;
    const auto lines = read_jsonl(out_path);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NEAR(lines[0]["score"].get<double>(), expected, tolerance * (1.0 + std::fabs(expected))) << file;
    ASSERT_EQ(lines[0]["attributes"].size(), size_t(kObjectives)) << lines[0].dump();
    for (int64_t k = 0; k < kObjectives; ++k)
      EXPECT_NEAR(lines[0]["attributes"]["output_" + std::to_string(k)].get<double>(), rewards[size_t(k)],
                  tolerance * (1.0 + std::fabs(rewards[size_t(k)])))
          << file << " " << lines[0].dump();
  }
  auto q8_file = GgufFile::open(q8);
  ASSERT_TRUE(q8_file.is_ok()) << q8_file.message();
  EXPECT_EQ((*q8_file)->tensor("blk.0.attn_q.weight")->dtype, DType::Q8_0);
  for (const TensorView& t : (*q8_file)->tensors()) {
    if (t.name.rfind("cls.", 0) == 0) {
      EXPECT_EQ(t.dtype, DType::F32) << t.name;
    }
  }

  auto info = run_arbiter("info -m " + q8 + " --json");
  ASSERT_EQ(info.exit_code, 0) << info.out;
  const nlohmann::json described = nlohmann::json::parse(info.out.substr(info.out.find('{')));
  EXPECT_EQ(described["head"], "gated-objectives") << info.out;
  EXPECT_EQ(described["gating_layers"], kGatingHidden) << info.out;
  EXPECT_EQ(described["gating_hidden"], kHidden) << info.out;
  EXPECT_EQ(described["gating_temperature"].get<double>(), kTemperature) << info.out;

  // The same file without its temperature: an error naming the key, not a softmax at some default.
  GgufWriter w;
  for (const auto& [key, value] : (*q8_file)->metadata())
    if (key != "llama.classifier.gating_temperature") w.set(key, value);
  for (const TensorView& t : (*q8_file)->tensors()) ASSERT_TRUE(w.add_tensor(t.name, t.dtype, t.shape, t.data, t.nbytes).is_ok());
  const std::string no_temperature = scratch_dir() + "/armo-no-temperature.gguf";
  ASSERT_TRUE(w.write(no_temperature).is_ok());
  auto refused = load_model(no_temperature);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.message().find("llama.classifier.gating_temperature"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find(no_temperature), std::string::npos) << refused.message();
}

TEST(GatedReward, PerTurnScoresEachTurnAsItsConversationAlone) {
  // The gate reads where each scored conversation's prompt ends: a turn scored with --per-turn reads what
  // the conversation up to it reads as a row of its own.
  const GatedHead head = random_gated_head();
  const std::string dir = gated_model("armo-turns", head);
  const std::string template_path = llama3_like_template();
  const std::string conversation =
      R"([{"role": "user", "content": "Name a color."}, {"role": "assistant", "content": "Blue."},)"
      R"( {"role": "user", "content": "Another?"}])";
  const std::string rows = scratch_dir() + "/armo-turn-rows.jsonl", cuts = scratch_dir() + "/armo-turn-cuts.jsonl";
  write_text(rows, R"({"id": "c", "prompt": )" + conversation + R"(, "response": "Red."})" "\n");
  write_text(cuts, R"({"id": "t0", "prompt": "Name a color.", "response": "Blue."})" "\n"
                   R"({"id": "r", "prompt": )" + conversation + R"(, "response": "Red."})" "\n");
  const std::string common = " -m " + dir + " --chat-template " + template_path;
  auto run = run_arbiter("score -q" + common + " -i " + rows + " -o " + scratch_dir() + "/armo-turns.jsonl --per-turn");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  run = run_arbiter("score -q" + common + " -i " + cuts + " -o " + scratch_dir() + "/armo-cuts.jsonl");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const auto lines = read_jsonl(scratch_dir() + "/armo-turns.jsonl");
  const auto alone = read_jsonl(scratch_dir() + "/armo-cuts.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_EQ(alone.size(), 2u);
  ASSERT_EQ(lines[0]["turns"].size(), 1u) << lines[0].dump();
  EXPECT_EQ(lines[0]["turns"][0]["score"], alone[0]["score"]) << lines[0].dump();
  EXPECT_EQ(lines[0]["turns"][0]["attributes"], alone[0]["attributes"]);
  EXPECT_EQ(lines[0]["score"], alone[1]["score"]);
}

}  // namespace
}  // namespace arbiter::convert_test
