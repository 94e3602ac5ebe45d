// Export of a head as a Hugging Face sequence classifier, checked against the checkpoints transformers
// itself wrote (fixtures/hf/llama-seqcls5, qwen2-seqcls1): the same tensor names and architecture.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "io/safetensors.h"
#include "train/hf_export.h"
#include "../../support/scratch_root.h"

namespace arbiter::train {
namespace {

namespace fs = std::filesystem;
const std::string kHf = std::string(ARBITER_SHARED_DIR) + "/fixtures/hf/";

std::set<std::string> tensor_names(const std::string& dir) {
  std::set<std::string> names;
  auto model = SafetensorsModel::open_dir(dir);
  EXPECT_TRUE(model.is_ok()) << model.message();
  if (model.is_ok())
    for (const TensorView* t : (*model)->tensors()) names.insert(t->name);
  return names;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

RewardHead head_for(int64_t dim, std::vector<std::string> labels, double bias) {
  RewardHead head;
  head.labels = std::move(labels);
  head.dim = dim;
  for (size_t i = 0; i < head.labels.size() * size_t(dim); ++i) head.weight.push_back(0.01 * double(i % 97) - 0.3);
  head.bias.assign(head.labels.size(), bias);
  head.layer = "final_norm";
  return head;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = arbiter::test::scratch_root() / ("arbiter_hf_export_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  return dir;
}

TEST(HfExport, LlamaMatchesTransformersSequenceClassifierLayout) {
  if (!fs::exists(kHf + "llama")) GTEST_SKIP() << "fixtures not found";
  const RewardHead head = head_for(64, {"helpfulness", "correctness", "coherence", "complexity", "verbosity"}, 0.5);
  const fs::path out = fresh_dir("llama");
  std::vector<std::string> warnings;
  const Status status = export_hf_classifier(kHf + "llama", head, out.string(), warnings);
  ASSERT_TRUE(status.is_ok()) << status.message();
  ASSERT_EQ(warnings.size(), 1u);  // the dropped bias
  EXPECT_NE(warnings[0].find("bias"), std::string::npos);

  EXPECT_EQ(tensor_names(out.string()), tensor_names(kHf + "llama-seqcls5"));
  const auto config = read_json((out / "config.json").string());
  const auto reference = read_json(kHf + "llama-seqcls5/config.json");
  EXPECT_EQ(config["architectures"], reference["architectures"]);
  EXPECT_EQ(config["num_labels"], 5);
  EXPECT_EQ(config["id2label"]["0"], "helpfulness");
  EXPECT_EQ(config["label2id"]["verbosity"], 4);
  EXPECT_EQ(config["arbiter_score_bias"][2], 0.5);
  EXPECT_TRUE(fs::exists(out / "tokenizer.model"));

  auto file = SafetensorsFile::open((out / "model.safetensors").string());
  ASSERT_TRUE(file.is_ok());
  const TensorView* score = (*file)->tensor("score.weight");
  ASSERT_NE(score, nullptr);
  EXPECT_EQ(score->shape, (std::vector<int64_t>{5, 64}));
  std::vector<float> values(320);
  std::memcpy(values.data(), score->data, 320 * sizeof(float));
  for (size_t i = 0; i < 320; ++i) EXPECT_EQ(values[i], float(head.weight[i]));
  // Backbone tensors are copied byte for byte.
  auto backbone = SafetensorsFile::open(kHf + "llama/model.safetensors");
  ASSERT_TRUE(backbone.is_ok());
  const TensorView* a = (*backbone)->tensor("model.layers.1.self_attn.q_proj.weight");
  const TensorView* b = (*file)->tensor("model.layers.1.self_attn.q_proj.weight");
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->nbytes, b->nbytes);
  EXPECT_EQ(std::memcmp(a->data, b->data, a->nbytes), 0);
}

TEST(HfExport, TiedEmbeddingsQwen2) {
  if (!fs::exists(kHf + "qwen2")) GTEST_SKIP() << "fixtures not found";
  const fs::path out = fresh_dir("qwen2");
  std::vector<std::string> warnings;
  ASSERT_TRUE(export_hf_classifier(kHf + "qwen2", head_for(64, {"reward"}, 0.0), out.string(), warnings).is_ok());
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(tensor_names(out.string()), tensor_names(kHf + "qwen2-seqcls1"));
  EXPECT_EQ(read_json((out / "config.json").string())["architectures"][0], "Qwen2ForSequenceClassification");
}

TEST(HfExport, RejectsMismatches) {
  if (!fs::exists(kHf + "llama")) GTEST_SKIP() << "fixtures not found";
  std::vector<std::string> warnings;
  auto wrong_dim = export_hf_classifier(kHf + "llama", head_for(32, {"r"}, 0.0), fresh_dir("dim").string(), warnings);
  EXPECT_FALSE(wrong_dim.is_ok());
  EXPECT_NE(wrong_dim.message().find("hidden_size"), std::string::npos);
  RewardHead middle = head_for(64, {"r"}, 0.0);
  middle.layer = "layer2";
  EXPECT_FALSE(export_hf_classifier(kHf + "llama", middle, fresh_dir("layer").string(), warnings).is_ok());
  EXPECT_FALSE(export_hf_classifier(kHf + "missing", head_for(64, {"r"}, 0.0), fresh_dir("m").string(), warnings).is_ok());
}

}  // namespace
}  // namespace arbiter::train
