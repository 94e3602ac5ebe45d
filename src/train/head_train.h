// Training reward heads on frozen features, following HelpSteer2 (regression on the five attributes) and
// HelpSteer2-Preference (Bradley-Terry variants; regression then Scaled BT, with ExPO). Adam on
// standardised features with a seeded validation split and early stopping on validation loss; the saved
// head applies to raw features.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "train/features_file.h"
#include "train/head_loss.h"
#include "train/reward_head.h"

namespace arbiter::train {

struct HeadTrainOptions {
  double lr = 1e-2;
  int batch = 64;
  int epochs = 50;
  int patience = 5;                 // epochs without a better validation loss before stopping (0: never)
  uint64_t seed = 42;
  double validation_fraction = 0.2;
  double weight_decay = 0.0;        // adds 0.5 * weight_decay * ||W'||^2 (standardised weights, not the bias)
  bool standardize = true;
};

struct EpochReport {
  int epoch = 0;
  double train_loss = 0.0;       // mean of the epoch's batch losses
  double validation_loss = NAN;  // NaN without a validation split
  double validation_accuracy = NAN;                // pairs: r_c > r_r strictly; binary: both sides of 0.5
  double validation_auroc = NAN;                   // binary: how often a right row outscores a wrong one
  std::vector<double> validation_spearman;         // regression: per attribute
  std::vector<double> validation_rmse;             // regression: per attribute
};
using EpochCallback = std::function<void(const EpochReport&)>;

struct HeadTrainResult {
  RewardHead head;
  std::vector<EpochReport> epochs;
  int best_epoch = 0;  // the epoch whose parameters were kept (0: the closed form or the start)
  size_t train_rows = 0, validation_rows = 0;
  std::vector<size_t> validation_indices;  // rows (regression) or pairs (pair objectives)
  // Whether the split held out whole prompts (every response to one on one side: the features name their
  // rows' prompts), or rows one by one (files written before they did).
  bool split_by_prompt = false;
};

// "all" -> every label of the set except preference_strength; else a comma list of label names.
Result<std::vector<std::string>> resolve_attributes(const FeatureSet& set, const std::string& spec);

// Regression: MSE over the attributes with Adam, or the closed-form ridge solution when ridge >= 0.
Result<HeadTrainResult> train_regression_head(const FeatureSet& set, const std::vector<std::string>& attributes,
                                              const HeadTrainOptions& options, double ridge = -1.0,
                                              const EpochCallback& on_epoch = {});

// A Bradley-Terry variant on R = 2 features; `init` (one output) is the starting head, else zeros.
Result<HeadTrainResult> train_pair_head(const FeatureSet& set, PairObjective objective,
                                        const HeadTrainOptions& options, const RewardHead* init = nullptr,
                                        const EpochCallback& on_epoch = {});

// Logistic regression on one label with values in [0, 1] (a process reward model's per-step correctness
// from `arbiter features --step-tag`, or any yes / no label; soft labels allowed): a one-output head whose
// score is a logit. Rows whose label is missing (NaN) are left out; validation accuracy thresholds both at 0.5.
Result<HeadTrainResult> train_binary_head(const FeatureSet& set, const std::string& label,
                                          const HeadTrainOptions& options, const EpochCallback& on_epoch = {});

// ExPO: theta_1 + alpha (theta_1 - theta_0), weights and bias alike.
Result<RewardHead> extrapolate_head(const RewardHead& theta0, const RewardHead& theta1, double alpha);

// Pairwise accuracy of a one-output head over pairs[indices]: r_c > r_r strictly.
double pair_accuracy(const RewardHead& head, const FeatureSet& set, const std::vector<Pair>& pairs,
                     const std::vector<size_t>& indices);

}  // namespace arbiter::train
