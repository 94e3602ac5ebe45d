// Fitting LAGER layer weights to human scores, as the paper's released code does: parameters theta [L+1]
// (w = softmax(theta)) and a loss mix a, trained with Adam on
//   loss = sigmoid(a) * CE(softmax(z), target) + (1 - sigmoid(a)) * (E - human)^2,
//   z = sum_l w_l logits_l, E = sum_k softmax(z)_k score_values[k].
// The target is a distribution over the K score values (see LagerTarget). Gradients are analytic:
//   dL/dz_k     = s (p_k - q_k) + (1 - s) 2 (E - h) p_k (v_k - E)          (s = sigmoid(a), q = target)
//   dL/dw_l     = u_l = sum_k dL/dz_k * logits_l,k
//   dL/dtheta_l = w_l (u_l - sum_m w_m u_m)
//   dL/da       = s (1 - s) (CE - (E - h)^2)
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/status.h"
#include "eval/layers.h"
#include "train/lager.h"

namespace arbiter::train {

enum class LagerTarget {
  // Human h between adjacent score values v_j <= h <= v_j+1: q_j = (v_j+1 - h) / (v_j+1 - v_j), q_j+1 = 1 - q_j
  // (one-hot when h is a score value; clamped to the end values outside their range). The target's mean is h.
  kSoft,
  // One-hot on the score value nearest to h (ties go to the lower value). (The paper's code truncates h to
  // an integer class instead: 4.67 -> 4; see docs/training.md.)
  kNearest,
};

// [K] target distribution for human score h over score_values (any order). Tokens that carry one value
// ("1" and "1.0") share that value's mass evenly.
std::vector<double> lager_target(const std::vector<double>& score_values, double human, LagerTarget mode);

struct LagerLoss {
  double loss = 0.0;
  std::vector<double> grad_theta;  // [L+1]
  double grad_a = 0.0;
};

// Mean loss over `rows` (by index) and its gradient. Rows must be checked first (check_layer_rows).
LagerLoss lager_loss(const std::vector<eval::LayerRow>& rows, const std::vector<size_t>& indices,
                     const std::vector<double>& theta, double a, LagerTarget target);

// Every row has the same [L+1][K] shape as row 0, K score values equal to row 0's, finite numbers.
Status check_layer_rows(const std::vector<eval::LayerRow>& rows);

struct LagerFitOptions {
  double lr = 0.01;  // the paper's code: Adam, lr 0.01, batch 4, one epoch, seed 42
  int batch = 4;
  int epochs = 1;
  uint64_t seed = 42;
  LagerTarget target = LagerTarget::kSoft;
};

struct LagerStep {
  int64_t step = 0;         // 1-based optimiser step
  int64_t total_steps = 0;
  int epoch = 0;            // 1-based
  double batch_loss = 0.0;
  double epoch_mean_loss = 0.0;  // mean of this epoch's batch losses so far
};
using LagerStepCallback = std::function<void(const LagerStep&)>;

// Trains on rows[train_indices], shuffled each epoch by a generator seeded with options.seed.
Result<LagerWeights> fit_lager(const std::vector<eval::LayerRow>& rows, const std::vector<size_t>& train_indices,
                               const LagerFitOptions& options, const LagerStepCallback& on_step = {});

struct LagerReport {
  size_t rows = 0;
  std::vector<eval::LayerCorrelation> per_layer;  // each single layer's expected score
  double final_layer = 0.0;                       // vanilla expected score (the last layer)
  double uniform = 0.0;                           // LAGER with w = 1/(L+1)
  double tuned = 0.0;                             // LAGER with the given weights
  // Pairwise judges' rows (human labels 0 / 1, score values in [0, 1]: the first response's credit): the
  // share of rows whose score names the winner people named (above 0.5 when human is 1, below when 0).
  bool pairwise = false;
  // Listwise judges' reads (every row best_first): the share whose argmax label is the response people
  // rank best, for each layer alone and each variant. People's label is constant there, so the
  // Spearman figures above are undefined (NaN).
  bool listwise = false;
  std::vector<double> per_layer_accuracy;  // listwise only: [L+1]
  double final_layer_accuracy = 0.0, uniform_accuracy = 0.0, tuned_accuracy = 0.0;
};

// Spearman of each variant's scores with the human labels over rows[indices] (NaN when constant).
Result<LagerReport> lager_report(const std::vector<eval::LayerRow>& rows, const std::vector<size_t>& indices,
                                 const LagerWeights& tuned);

}  // namespace arbiter::train
