#include "train/reward_head.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "data/json_rows.h"
#include "io/safetensors.h"

namespace arbiter::train {

std::vector<double> head_scores(const RewardHead& head, const float* x) {
  std::vector<double> out(head.num_labels());
  for (size_t t = 0; t < out.size(); ++t) {
    const double* w = head.row(t);
    double s = head.bias[t];
    for (int64_t j = 0; j < head.dim; ++j) s += w[j] * double(x[j]);
    out[t] = s;
  }
  return out;
}

double head_score(const RewardHead& head, const float* x) {
  const double* w = head.row(0);
  double s = head.bias[0];
  for (int64_t j = 0; j < head.dim; ++j) s += w[j] * double(x[j]);
  return s;
}

Result<RewardHead> load_reward_head(const std::string& path) {
  ARB_ASSIGN(auto file, SafetensorsFile::open(path));
  const auto& meta = file->metadata();
  auto format = meta.find("format");
  if (format == meta.end() || format->second != "arbiter-reward-head")
    return error(path + ": not an arbiter reward head (metadata 'format' must be \"arbiter-reward-head\")");
  const TensorView* weight = file->tensor("score.weight");
  const TensorView* bias = file->tensor("score.bias");
  if (!weight || weight->dtype != DType::F32 || weight->shape.size() != 2)
    return error(path + ": tensor 'score.weight' missing or not F32 [num_labels, d]");
  const int64_t num_labels = weight->shape[0];
  if (num_labels < 1 || weight->shape[1] < 1) return error(path + ": tensor 'score.weight' is empty");
  if (!bias || bias->dtype != DType::F32 || bias->shape != std::vector<int64_t>{num_labels})
    return error(path + ": tensor 'score.bias' missing or not F32 [" + std::to_string(num_labels) + "]");
  RewardHead head;
  head.dim = weight->shape[1];
  std::vector<float> w(static_cast<size_t>(weight->numel()));
  std::vector<float> b(static_cast<size_t>(num_labels));
  std::memcpy(w.data(), weight->data, w.size() * sizeof(float));
  std::memcpy(b.data(), bias->data, b.size() * sizeof(float));
  head.weight.assign(w.begin(), w.end());
  head.bias.assign(b.begin(), b.end());
  for (double v : head.weight)
    if (!std::isfinite(v)) return error(path + ": 'score.weight' holds a non-finite value");
  for (double v : head.bias)
    if (!std::isfinite(v)) return error(path + ": 'score.bias' holds a non-finite value");
  if (auto it = meta.find("labels"); it != meta.end()) {
    auto parsed = data::parse_json(it->second);
    if (!parsed || !parsed->is_array()) return error(path + ": metadata 'labels' is not a JSON array");
    for (const auto& v : *parsed) {
      if (!v.is_string()) return error(path + ": metadata 'labels' holds a non-string");
      head.labels.push_back(v.get<std::string>());
    }
    if (int64_t(head.labels.size()) != num_labels)
      return error(path + ": metadata 'labels' has " + std::to_string(head.labels.size()) + " names for " +
                   std::to_string(num_labels) + " rows of 'score.weight'");
  } else {
    for (int64_t t = 0; t < num_labels; ++t) head.labels.push_back("label_" + std::to_string(t));
  }
  if (auto it = meta.find("layer"); it != meta.end()) head.layer = it->second;
  if (auto it = meta.find("objective"); it != meta.end()) head.objective = it->second;
  if (auto it = meta.find("model"); it != meta.end()) head.model = it->second;
  if (auto it = meta.find("model_fingerprint"); it != meta.end()) head.model_fingerprint = it->second;
  if (auto it = meta.find("model_commit"); it != meta.end()) head.model_commit = it->second;
  if (auto it = meta.find("feature_settings"); it != meta.end()) {
    const nlohmann::json doc = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) return error(path + ": metadata 'feature_settings' is not a JSON object");
    head.feature_settings = RunSettings::from_json(doc);
  }
  return head;
}

void round_to_stored_precision(RewardHead& head) {
  auto round = [](double& v) {
    if (std::isfinite(v) && std::fabs(v) <= double(std::numeric_limits<float>::max())) v = double(float(v));
  };
  for (double& w : head.weight) round(w);
  for (double& b : head.bias) round(b);
}

Result<std::string> reward_head_bytes(const std::string& path, const RewardHead& head) {
  const int64_t n = int64_t(head.num_labels());
  if (n < 1 || head.dim < 1 || int64_t(head.weight.size()) != n * head.dim || int64_t(head.bias.size()) != n)
    return error(path + ": head shapes disagree (labels, weight, bias)");
  auto storable = [](double v) { return std::isfinite(v) && std::fabs(v) <= double(std::numeric_limits<float>::max()); };
  for (size_t i = 0; i < head.weight.size(); ++i)
    if (!storable(head.weight[i]))
      return error(path + ": the trained head's weight [" + std::to_string(i / size_t(head.dim)) + ", " +
                   std::to_string(i % size_t(head.dim)) + "] is " + std::to_string(head.weight[i]) +
                   ", which no scorer can use: training diverged (lower --lr) or --expo-alpha is too large");
  for (size_t i = 0; i < head.bias.size(); ++i)
    if (!storable(head.bias[i]))
      return error(path + ": the trained head's bias [" + std::to_string(i) + "] is " + std::to_string(head.bias[i]) +
                   ", which no scorer can use: training diverged (lower --lr) or --expo-alpha is too large");
  std::vector<OwnedTensor> tensors;
  tensors.push_back(make_f32_tensor("score.weight", {n, head.dim}, std::vector<float>(head.weight.begin(), head.weight.end())));
  tensors.push_back(make_f32_tensor("score.bias", {n}, std::vector<float>(head.bias.begin(), head.bias.end())));
  std::map<std::string, std::string> meta;
  meta["format"] = "arbiter-reward-head";
  meta["labels"] = data::dump_json(nlohmann::json(head.labels));
  meta["layer"] = head.layer;
  meta["objective"] = head.objective;
  if (!head.model.empty()) meta["model"] = head.model;
  if (!head.model_fingerprint.empty()) meta["model_fingerprint"] = head.model_fingerprint;
  if (!head.model_commit.empty()) meta["model_commit"] = head.model_commit;
  if (head.feature_settings) meta["feature_settings"] = head.feature_settings->to_json().dump();
  return safetensors_bytes(path, tensors, meta);
}

Status save_reward_head(const std::string& path, const RewardHead& head) {
  ARB_ASSIGN(const std::string bytes, reward_head_bytes(path, head));
  return write_file_atomically(path, bytes);
}

}  // namespace arbiter::train
