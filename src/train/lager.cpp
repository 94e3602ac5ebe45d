#include "train/lager.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "data/json_rows.h"

namespace arbiter::train {

std::vector<double> softmax(const std::vector<double>& values) {
  std::vector<double> out(values.size());
  if (values.empty()) return out;
  const double max_value = *std::max_element(values.begin(), values.end());
  double total = 0.0;
  for (size_t i = 0; i < values.size(); ++i) total += out[i] = std::exp(values[i] - max_value);
  for (double& v : out) v /= total;
  return out;
}

LagerWeights initial_lager_weights(size_t num_layers_plus_one, std::vector<double> score_values) {
  LagerWeights w;
  w.theta.assign(num_layers_plus_one, 0.0);
  if (num_layers_plus_one > 0) w.theta.back() = 1.0;
  w.layer_weights = softmax(w.theta);
  w.score_values = std::move(score_values);
  return w;
}

LagerWeights uniform_lager_weights(size_t num_layers_plus_one, std::vector<double> score_values) {
  LagerWeights w;
  w.theta.assign(num_layers_plus_one, 0.0);
  w.layer_weights = softmax(w.theta);
  w.score_values = std::move(score_values);
  return w;
}

Result<std::vector<double>> lager_combined_logits(const std::vector<std::vector<double>>& per_layer_logits,
                                                  const std::vector<double>& layer_weights) {
  if (per_layer_logits.size() != layer_weights.size())
    return error("per_layer_logits has " + std::to_string(per_layer_logits.size()) + " layers, the weights " +
                 std::to_string(layer_weights.size()));
  if (per_layer_logits.empty()) return error("per_layer_logits is empty");
  const size_t k = per_layer_logits[0].size();
  std::vector<double> z(k, 0.0);
  for (size_t l = 0; l < per_layer_logits.size(); ++l) {
    if (per_layer_logits[l].size() != k)
      return error("layer " + std::to_string(l) + " has " + std::to_string(per_layer_logits[l].size()) +
                   " logits, layer 0 has " + std::to_string(k));
    for (size_t j = 0; j < k; ++j) {
      if (!std::isfinite(per_layer_logits[l][j])) return error("layer " + std::to_string(l) + ": a logit is not finite");
      z[j] += layer_weights[l] * per_layer_logits[l][j];
    }
  }
  return z;
}

Result<double> lager_expected_score(const std::vector<std::vector<double>>& per_layer_logits,
                                    const std::vector<double>& layer_weights,
                                    const std::vector<double>& score_values) {
  ARB_ASSIGN(const std::vector<double> z, lager_combined_logits(per_layer_logits, layer_weights));
  if (z.size() != score_values.size())
    return error(std::to_string(z.size()) + " logits per layer for " + std::to_string(score_values.size()) +
                 " score values");
  const std::vector<double> p = softmax(z);
  double expected = 0.0;
  for (size_t k = 0; k < p.size(); ++k) expected += p[k] * score_values[k];
  return expected;
}

namespace {

using nlohmann::json;

Result<std::vector<double>> number_array(const json& doc, const char* field, const std::string& path) {
  if (!doc.contains(field) || !doc[field].is_array()) return error(path + ": field '" + field + "' missing or not an array");
  std::vector<double> out;
  for (const json& v : doc[field]) {
    if (!v.is_number()) return error(path + ": field '" + field + "' holds a non-number");
    out.push_back(v.get<double>());
  }
  return out;
}

}  // namespace

Result<LagerWeights> load_lager_weights(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return error(path + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = data::parse_json(text.str());
  if (!parsed) return parsed.status().with_context(path);
  const json& doc = *parsed;
  if (!doc.is_object() || doc.value("format", "") != "arbiter-lager-weights")
    return error(path + ": not an arbiter-lager-weights file (field 'format')");
  if (!doc.contains("version") || !doc["version"].is_number_integer() || doc["version"].get<int>() != 1)
    return error(path + ": unsupported 'version' (expected 1)");
  LagerWeights w;
  ARB_ASSIGN(w.layer_weights, number_array(doc, "layer_weights", path));
  ARB_ASSIGN(w.score_values, number_array(doc, "score_values", path));
  if (w.layer_weights.empty()) return error(path + ": 'layer_weights' is empty");
  if (w.score_values.empty()) return error(path + ": 'score_values' is empty");
  if (doc.contains("num_layers_plus_one")) {
    if (!doc["num_layers_plus_one"].is_number_integer() ||
        doc["num_layers_plus_one"].get<int64_t>() != int64_t(w.layer_weights.size()))
      return error(path + ": 'num_layers_plus_one' does not match the length of 'layer_weights'");
  }
  for (double v : w.layer_weights)
    if (!std::isfinite(v) || v < 0.0) return error(path + ": 'layer_weights' must be finite and non-negative");
  if (doc.contains("theta")) {
    ARB_ASSIGN(w.theta, number_array(doc, "theta", path));
    if (w.theta.size() != w.layer_weights.size())
      return error(path + ": 'theta' and 'layer_weights' differ in length");
    const std::vector<double> from_theta = softmax(w.theta);
    for (size_t l = 0; l < from_theta.size(); ++l)
      if (std::fabs(from_theta[l] - w.layer_weights[l]) > 1e-6)
        return error(path + ": 'layer_weights' is not softmax('theta') at layer " + std::to_string(l));
  }
  if (doc.contains("a")) {
    if (!doc["a"].is_number()) return error(path + ": 'a' is not a number");
    w.a = doc["a"].get<double>();
  }
  if (doc.contains("train") && doc["train"].is_object()) {
    const json& t = doc["train"];
    w.has_train = true;
    w.train.rows = t.value("rows", size_t(0));
    w.train.epochs = t.value("epochs", 0);
    w.train.lr = t.value("lr", 0.0);
    w.train.batch = t.value("batch", 0);
    w.train.seed = t.value("seed", uint64_t(0));
    w.train.final_loss = t.value("final_loss", 0.0);
  }
  if (doc.contains("judge")) {
    const json& j = doc["judge"];
    if (!j.is_object()) return error(path + ": 'judge' is not an object");
    if (j.contains("model") && j["model"].is_string()) w.judge_model = j["model"].get<std::string>();
    if (j.contains("model_fingerprint") && j["model_fingerprint"].is_string())
      w.judge_fingerprint = j["model_fingerprint"].get<std::string>();
    if (j.contains("settings")) w.judge_settings = RunSettings::from_json(j["settings"]);
  }
  return w;
}

const std::vector<std::string>& lager_readout_options() {
  static const std::vector<std::string> options = {"--template",      "--template-file",        "--score-tokens",
                                                   "--score-token-ids", "--system-prompt",      "--system-prompt-file",
                                                   "--answer-prefix", "--chat-template",        "--chat-template-kwargs",
                                                   "--plain",         "--lens"};
  return options;
}

Result<std::string> lager_weights_text(const std::string& path, const LagerWeights& weights) {
  for (size_t l = 0; l < weights.theta.size(); ++l)
    if (!std::isfinite(weights.theta[l]))
      return error(path + ": the fitted weight of layer " + std::to_string(l) + " is not finite: the fit diverged (lower --lr)");
  if (!std::isfinite(weights.a)) return error(path + ": the fitted loss mix a is not finite: the fit diverged (lower --lr)");
  nlohmann::ordered_json doc;
  doc["format"] = "arbiter-lager-weights";
  doc["version"] = 1;
  doc["num_layers_plus_one"] = weights.layer_weights.size();
  doc["layer_weights"] = weights.layer_weights;
  doc["theta"] = weights.theta;
  doc["a"] = weights.a;
  doc["score_values"] = weights.score_values;
  if (weights.has_train) {
    const LagerTrainInfo& t = weights.train;
    doc["train"] = {{"rows", t.rows},   {"epochs", t.epochs}, {"lr", t.lr},
                    {"batch", t.batch}, {"seed", t.seed},     {"final_loss", t.final_loss}};
  }
  if (!weights.judge_fingerprint.empty() || weights.judge_settings) {
    nlohmann::ordered_json judge = {{"model", weights.judge_model}, {"model_fingerprint", weights.judge_fingerprint}};
    if (weights.judge_settings) judge["settings"] = weights.judge_settings->to_json();
    doc["judge"] = std::move(judge);
  }
  return doc.dump(2) + "\n";
}

Status save_lager_weights(const std::string& path, const LagerWeights& weights) {
  ARB_ASSIGN(const std::string text, lager_weights_text(path, weights));
  return write_file_atomically(path, text);
}

}  // namespace arbiter::train
