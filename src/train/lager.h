// LAGER layer weights ("Beyond the Surface", NeurIPS 2025): a judge's score-token logits are read at every
// layer, combined as z = sum_l w_l * logits_l with w = softmax(theta), and the score is the expectation of
// the score values under softmax(z). This header is what a judge needs: the weights file, and the score of
// one item under tuned or uniform weights. Fitting lives in train/lager_fit.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/run_settings.h"
#include "core/status.h"

namespace arbiter::train {

struct LagerTrainInfo {
  size_t rows = 0;  // training rows (after the validation split)
  int epochs = 0;
  double lr = 0.0;
  int batch = 0;
  uint64_t seed = 0;
  double final_loss = 0.0;  // the written weights' loss over the training rows
};

struct LagerWeights {
  std::vector<double> theta;          // [L+1] free parameters
  std::vector<double> layer_weights;  // [L+1] softmax(theta): row 0 = embeddings, L = final layer
  double a = 0.5;                     // loss mix: sigmoid(a) * CE + (1 - sigmoid(a)) * squared error
  std::vector<double> score_values;   // [K]
  bool has_train = false;
  LagerTrainInfo train;
  // The judge run whose reads they were fitted on, where its run record was beside them: the model and its
  // fingerprint, and the options that decide the readout (template, score tokens, system prompt, chat
  // template, lens). Empty / none for weights fitted on files without a record, or written before.
  std::string judge_model, judge_fingerprint;
  std::optional<RunSettings> judge_settings;
};

// The options of a judge run that decide what its reads mean, and so what LAGER weights were fitted to.
const std::vector<std::string>& lager_readout_options();

// [n] softmax of the values, max-shifted so large entries do not overflow.
std::vector<double> softmax(const std::vector<double>& values);

// The starting point of the paper's released code: theta = 0 except the final layer's at 1.
LagerWeights initial_lager_weights(size_t num_layers_plus_one, std::vector<double> score_values);

// The untuned variant: every layer weighs 1 / (L+1) (theta = 0).
LagerWeights uniform_lager_weights(size_t num_layers_plus_one, std::vector<double> score_values);

// Combined logits z [K] = sum_l layer_weights[l] * per_layer_logits[l] ([L+1][K]).
Result<std::vector<double>> lager_combined_logits(const std::vector<std::vector<double>>& per_layer_logits,
                                                  const std::vector<double>& layer_weights);

// The LAGER score of one item: sum_k softmax(z)_k * score_values[k]. Errors on shape mismatch or a
// non-finite logit.
Result<double> lager_expected_score(const std::vector<std::vector<double>>& per_layer_logits,
                                    const std::vector<double>& layer_weights,
                                    const std::vector<double>& score_values);

// WEIGHTS.json: {"format": "arbiter-lager-weights", "version": 1, "num_layers_plus_one", "layer_weights",
// "theta", "a", "score_values", "train": {...}}. Loading checks the format, version and lengths, and
// recomputes layer_weights from theta when theta is present (the file's layer_weights must agree).
Result<LagerWeights> load_lager_weights(const std::string& path);
// The weights file's text: an error naming `path` when a value is not finite (a diverged fit).
Result<std::string> lager_weights_text(const std::string& path, const LagerWeights& weights);
Status save_lager_weights(const std::string& path, const LagerWeights& weights);

}  // namespace arbiter::train
