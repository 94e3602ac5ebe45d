// Losses of a linear head on features, with analytic gradients. The head is trained on standardised
// features x' = (x - mean) / scale; params hold W' [outputs, d] then b' [outputs] in that space. Scores
// are computed on raw features with the folded head (W = W' / scale, b = b' - W' . mean / scale), so no
// standardised copy of the features is kept.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "train/features_file.h"
#include "train/reward_head.h"

namespace arbiter::train {

enum class PairObjective {
  kBT,        // -log sigmoid(r_c - r_r)
  kBTMargin,  // -log sigmoid(r_c - r_r - m)
  kBTScaled,  // m * -log sigmoid(r_c - r_r)        (HelpSteer2-Preference's Scaled BT)
};

struct PairLossValue {
  double loss = 0.0;
  double d_delta = 0.0;  // d loss / d (r_c - r_r)
};

// One pair's loss at delta = r_c - r_r with strength m = |preference_strength|.
PairLossValue pair_loss(PairObjective objective, double delta, double strength);

struct Pair {
  size_t row = 0;
  int chosen = 0;         // response index (0 or 1) of the preferred response
  double strength = 0.0;  // |preference_strength|
};

// Pairs from label.preference_strength of an R = 2 feature set: negative prefers response 1 (index 0),
// positive response 2 (index 1); ties (0) are dropped, as HelpSteer2-Preference drops them.
Result<std::vector<Pair>> pairs_from_features(const FeatureSet& set, const std::string& label = "preference_strength");

struct Standardizer {
  std::vector<double> mean;   // [d]
  std::vector<double> scale;  // [d] standard deviation, 1 where it is (near) zero
};
Standardizer identity_standardizer(int64_t dim);
// Mean and standard deviation of every response vector of rows[indices].
Standardizer fit_standardizer(const FeatureSet& set, const std::vector<size_t>& rows);

// params [outputs * d + outputs] in standardised space <-> a head on raw features.
void fold_params(const std::vector<double>& params, const Standardizer& st, RewardHead& head);
std::vector<double> unfold_params(const RewardHead& head, const Standardizer& st);

// Mean pair loss over pairs[indices] for a one-output head, and its gradient (when grad is not null) with
// respect to params. The bias cancels in r_c - r_r: its gradient is 0.
double pair_loss_grad(const FeatureSet& set, const std::vector<Pair>& pairs, const std::vector<size_t>& indices,
                      const Standardizer& st, PairObjective objective, const std::vector<double>& params,
                      std::vector<double>* grad);

// Mean over rows[indices] of (1/T) sum_t (W_t x + b_t - y_t)^2 (R = 1 features; targets [T][N]).
double regression_loss_grad(const FeatureSet& set, const std::vector<std::vector<double>>& targets,
                            const std::vector<size_t>& indices, const Standardizer& st,
                            const std::vector<double>& params, std::vector<double>* grad);

// Mean over rows[indices] of the logistic loss of a one-output head, score z = W x + b read as a logit:
// softplus(z) - y z, for targets y in [0, 1] (R = 1 features; targets [N], soft targets allowed).
double binary_loss_grad(const FeatureSet& set, const std::vector<double>& targets, const std::vector<size_t>& indices,
                        const Standardizer& st, const std::vector<double>& params, std::vector<double>* grad);

}  // namespace arbiter::train
