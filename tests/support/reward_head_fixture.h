// A reward model with a two-layer head for tests: a fixture's backbone (fixtures/hf/qwen2 or llama, whose
// float64 reference states are known) plus a random Linear(64, 64) + ReLU + Linear(64, n) head, and the head computed in
// double precision to compare against.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"

namespace arbiter::reward_head_test {

namespace fs = std::filesystem;

// $ARBITER_SHARED_DIR where set (fixtures that travelled with the binaries), else the checkout's ../shared.
inline std::string hf_fixture_dir(const std::string& name) {
  const char* env = std::getenv("ARBITER_SHARED_DIR");
  return (env && *env ? std::string(env) : std::string(ARBITER_SHARED_DIR)) + "/fixtures/hf/" + name;
}
inline std::string qwen2_fixture() { return hf_fixture_dir("qwen2"); }

inline void replace_text(const fs::path& path, const std::string& text) {
  fs::remove(path);
  std::ofstream(path) << text;
}

inline constexpr int32_t kStepTagId = 509;

struct MlpHead {
  int64_t d = 0, labels = 0;
  std::vector<float> w1, b1, w2, b2;  // [d, d], [d], [labels, d], [labels]
};

inline MlpHead random_head(int64_t d, int64_t labels, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.2f);
  MlpHead h{d, labels, {}, {}, {}, {}};
  for (auto* v : {&h.w1, &h.b1, &h.w2, &h.b2}) {
    const int64_t n = v == &h.w1 ? d * d : v == &h.b1 ? d : v == &h.w2 ? labels * d : labels;
    for (int64_t i = 0; i < n; ++i) v->push_back(normal(rng));
  }
  return h;
}

// The head in double on one state x: [d] -> [labels]; `scale` gets, per label, the sum of the absolute
// values of the terms (the size the result would have without cancellation).
inline std::vector<double> head_in_double(const MlpHead& h, const float* x, std::vector<double>* scale) {
  std::vector<double> hidden(size_t(h.d)), out(size_t(h.labels));
  for (int64_t j = 0; j < h.d; ++j) {
    double acc = h.b1[size_t(j)];
    for (int64_t i = 0; i < h.d; ++i) acc += double(h.w1[size_t(j * h.d + i)]) * double(x[i]);
    hidden[size_t(j)] = std::max(acc, 0.0);
  }
  if (scale) scale->assign(size_t(h.labels), 0.0);
  for (int64_t k = 0; k < h.labels; ++k) {
    double acc = h.b2[size_t(k)];
    if (scale) (*scale)[size_t(k)] = std::fabs(acc);
    for (int64_t j = 0; j < h.d; ++j) {
      const double term = double(h.w2[size_t(k * h.d + j)]) * hidden[size_t(j)];
      acc += term;
      if (scale) (*scale)[size_t(k)] += std::fabs(term);
    }
    out[size_t(k)] = acc;
  }
  return out;
}

// In `dir` (made anew): fixtures/hf/<backbone> (files symlinked) with the head in a second shard and
// config.json naming `architecture` (and num_labels).
// With `step_tag`, tokenizer.json also gains "<extra_0>" as special token 509 (ids 509..511 are unused).
// A fixture's backbone in `dir` (its files linked) with `head` in a second shard and `architecture` as the
// class; config.json is rewritten, so the caller may set more of it.
inline void model_with_head_tensors(const fs::path& dir, const std::string& architecture,
                                    const std::vector<OwnedTensor>& head, const std::string& backbone = "qwen2") {
  const std::string fixture = hf_fixture_dir(backbone);
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(fixture))
    if (entry.path().filename() != "model.safetensors") fs::create_symlink(entry.path(), dir / entry.path().filename());
  fs::create_symlink(fs::path(fixture) / "model.safetensors", dir / "backbone.safetensors");
  EXPECT_TRUE(write_safetensors((dir / "head.safetensors").string(), head).is_ok());
  nlohmann::json index = {{"metadata", nlohmann::json::object()}, {"weight_map", nlohmann::json::object()}};
  auto backbone_file = SafetensorsFile::open(fixture + "/model.safetensors");
  EXPECT_TRUE(backbone_file.is_ok()) << backbone_file.message();
  for (const TensorView& t : (*backbone_file)->tensors()) index["weight_map"][t.name] = "backbone.safetensors";
  for (const OwnedTensor& t : head) index["weight_map"][t.name] = "head.safetensors";
  replace_text(dir / "model.safetensors.index.json", index.dump());
  std::ifstream in(dir / "config.json");
  nlohmann::json config = nlohmann::json::parse(in);
  config["architectures"] = {architecture};
  replace_text(dir / "config.json", config.dump(2));
}

inline std::string model_with_head(const fs::path& dir, const std::string& architecture, const MlpHead& h,
                                   bool with_hidden_bias = true, bool step_tag = false,
                                   const std::string& backbone = "qwen2") {
  const std::string fixture = hf_fixture_dir(backbone);
  std::vector<OwnedTensor> head = {make_f32_tensor("score.0.weight", {h.d, h.d}, h.w1),
                                   make_f32_tensor("score.2.weight", {h.labels, h.d}, h.w2),
                                   make_f32_tensor("score.2.bias", {h.labels}, h.b2)};
  if (with_hidden_bias) head.push_back(make_f32_tensor("score.0.bias", {h.d}, h.b1));
  model_with_head_tensors(dir, architecture, head, backbone);
  std::ifstream in(dir / "config.json");
  nlohmann::json config = nlohmann::json::parse(in);
  config["num_labels"] = h.labels;
  replace_text(dir / "config.json", config.dump(2));
  if (step_tag) {
    std::ifstream tin(fs::path(fixture) / "tokenizer.json");
    nlohmann::json tokenizer = nlohmann::json::parse(tin);
    tokenizer["added_tokens"].push_back({{"id", kStepTagId}, {"content", "<extra_0>"}, {"single_word", false},
                                         {"lstrip", false}, {"rstrip", false}, {"normalized", false}, {"special", true}});
    replace_text(dir / "tokenizer.json", tokenizer.dump());
  }
  return dir.string();
}

}  // namespace arbiter::reward_head_test
