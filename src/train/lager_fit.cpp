#include "train/lager_fit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

#include "core/sigmoid.h"
#include "eval/metrics.h"
#include "train/adam.h"
#include "train/split.h"

namespace arbiter::train {

namespace {

// Puts `mass` on score value `value`, shared evenly by the tokens that carry it ("1" and "1.0" on one
// scale): a target on one of them alone would teach the fit to prefer that spelling.
void add_mass(const std::vector<double>& score_values, double value, double mass, std::vector<double>& q) {
  size_t carriers = 0;
  for (double v : score_values) carriers += v == value;
  for (size_t j = 0; j < score_values.size(); ++j)
    if (score_values[j] == value) q[j] += mass / double(carriers);
}

}  // namespace

std::vector<double> lager_target(const std::vector<double>& score_values, double human, LagerTarget mode) {
  std::vector<double> q(score_values.size(), 0.0);
  if (score_values.empty()) return q;
  // The distinct values, ascending: the scale may be listed in any order.
  std::vector<double> scale = score_values;
  std::sort(scale.begin(), scale.end());
  scale.erase(std::unique(scale.begin(), scale.end()), scale.end());
  if (mode == LagerTarget::kNearest) {
    double best = scale[0];
    for (double v : scale)
      if (std::fabs(v - human) < std::fabs(best - human)) best = v;
    add_mass(score_values, best, 1.0, q);
    return q;
  }
  if (human <= scale.front() || scale.size() == 1) {
    add_mass(score_values, scale.front(), 1.0, q);
    return q;
  }
  if (human >= scale.back()) {
    add_mass(score_values, scale.back(), 1.0, q);
    return q;
  }
  for (size_t r = 0; r + 1 < scale.size(); ++r) {
    const double lo = scale[r], hi = scale[r + 1];
    if (human >= lo && human <= hi) {
      const double lower_share = (hi - human) / (hi - lo);
      add_mass(score_values, lo, lower_share, q);
      add_mass(score_values, hi, 1.0 - lower_share, q);
      break;
    }
  }
  return q;
}

LagerLoss lager_loss(const std::vector<eval::LayerRow>& rows, const std::vector<size_t>& indices,
                     const std::vector<double>& theta, double a, LagerTarget target) {
  const size_t n_layers = theta.size();
  const std::vector<double> w = softmax(theta);
  const double s = sigmoid(a);
  LagerLoss out;
  out.grad_theta.assign(n_layers, 0.0);
  std::vector<double> grad_w(n_layers, 0.0);
  for (size_t index : indices) {
    const eval::LayerRow& row = rows[index];
    const std::vector<double>& values = row.score_values;
    const size_t k = values.size();
    // z: [K] combined logits; p: [K] their softmax.
    std::vector<double> z(k, 0.0);
    for (size_t l = 0; l < n_layers; ++l)
      for (size_t j = 0; j < k; ++j) z[j] += w[l] * row.per_layer_logits[l][j];
    const std::vector<double> p = softmax(z);
    const std::vector<double> q = lager_target(values, row.human, target);
    const double max_z = *std::max_element(z.begin(), z.end());
    double log_norm = 0.0;
    for (double zj : z) log_norm += std::exp(zj - max_z);
    log_norm = max_z + std::log(log_norm);
    double ce = 0.0, expected = 0.0;
    for (size_t j = 0; j < k; ++j) {
      ce -= q[j] * (z[j] - log_norm);
      expected += p[j] * values[j];
    }
    const double err = expected - row.human;
    out.loss += s * ce + (1.0 - s) * err * err;
    out.grad_a += s * (1.0 - s) * (ce - err * err);
    std::vector<double> grad_z(k);
    for (size_t j = 0; j < k; ++j) grad_z[j] = s * (p[j] - q[j]) + (1.0 - s) * 2.0 * err * p[j] * (values[j] - expected);
    for (size_t l = 0; l < n_layers; ++l)
      for (size_t j = 0; j < k; ++j) grad_w[l] += grad_z[j] * row.per_layer_logits[l][j];
  }
  const double scale = indices.empty() ? 0.0 : 1.0 / double(indices.size());
  out.loss *= scale;
  out.grad_a *= scale;
  double w_dot_u = 0.0;
  for (size_t l = 0; l < n_layers; ++l) w_dot_u += w[l] * grad_w[l] * scale;
  for (size_t l = 0; l < n_layers; ++l) out.grad_theta[l] = w[l] * (grad_w[l] * scale - w_dot_u);
  return out;
}

Status check_layer_rows(const std::vector<eval::LayerRow>& rows) {
  if (rows.empty()) return error("no rows");
  const size_t n_layers = rows[0].per_layer_logits.size();
  const std::vector<double>& values = rows[0].score_values;
  const std::string first = eval::layer_row_place(rows, 0);
  if (n_layers == 0 || values.empty()) return error(first + ": empty per_layer_logits or score_values");
  for (size_t i = 0; i < rows.size(); ++i) {
    const eval::LayerRow& row = rows[i];
    const std::string where = eval::layer_row_place(rows, i);
    if (row.per_layer_logits.size() != n_layers)
      return error(where + ": " + std::to_string(row.per_layer_logits.size()) + " layers, where " + first + " has " +
                   std::to_string(n_layers));
    // A listwise read's values are [1, 0, ..., 0], one per response shown: they differ in length only.
    if (row.best_first && row.score_values.size() != values.size())
      return error(where + ": shows " + std::to_string(row.score_values.size()) + " responses, where " + first +
                   " shows " + std::to_string(values.size()) + ": one set of LAGER weights is fitted to reads of one size");
    if (row.score_values != values) return error(where + ": score_values differ from " + first + "'s");
    for (const auto& logits : row.per_layer_logits) {
      if (logits.size() != values.size())
        return error(where + ": a layer has " + std::to_string(logits.size()) + " logits for " +
                     std::to_string(values.size()) + " score values");
      for (double v : logits)
        if (!std::isfinite(v)) return error(where + ": a logit is not finite");
    }
    if (!std::isfinite(row.human)) return error(where + ": the human score is not finite");
  }
  for (double v : values)
    if (!std::isfinite(v)) return error("score_values are not finite");
  const auto [lowest, highest] = std::minmax_element(values.begin(), values.end());
  if (*lowest == *highest) return error("score_values are all equal: the expected score is the same whatever the logits");
  // The fit pulls each row's expected score toward its human score: one no mixture of the values reaches
  // (another scale: 1-10 labels for 1-5 tokens) only pushes the weights to an edge.
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i].human < *lowest || rows[i].human > *highest) {
      char range[96];
      std::snprintf(range, sizeof range, "%g..%g", *lowest, *highest);
      return error(eval::layer_row_place(rows, i) + ": the human score " + std::to_string(rows[i].human) +
                   " is outside the score values " + range + ": put the labels on the judge's scale");
    }
  return Status::ok();
}

Result<LagerWeights> fit_lager(const std::vector<eval::LayerRow>& rows, const std::vector<size_t>& train_indices,
                               const LagerFitOptions& options, const LagerStepCallback& on_step) {
  ARB_TRY(check_layer_rows(rows));
  if (train_indices.empty()) return error("no training rows");
  if (options.batch < 1) return error("batch size must be at least 1");
  if (options.epochs < 1) return error("epochs must be at least 1");
  if (!(options.lr > 0.0)) return error("learning rate must be positive");
  for (size_t i : train_indices)
    if (i >= rows.size()) return error("training index " + std::to_string(i) + " out of range");

  const size_t n_layers = rows[0].per_layer_logits.size();
  LagerWeights weights = initial_lager_weights(n_layers, rows[0].score_values);
  // params: theta [L+1] then a.
  std::vector<double> params(weights.theta);
  params.push_back(weights.a);
  Adam adam(params.size(), AdamOptions{.lr = options.lr});
  std::mt19937_64 rng(options.seed);
  const size_t batch = size_t(options.batch);
  const int64_t batches_per_epoch = int64_t((train_indices.size() + batch - 1) / batch);
  LagerStep step;
  step.total_steps = batches_per_epoch * options.epochs;
  std::vector<double> grads(params.size());
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    std::vector<size_t> order = train_indices;
    shuffle_indices(order, rng);
    double loss_sum = 0.0;
    int64_t batches = 0;
    for (size_t start = 0; start < order.size(); start += batch) {
      const std::vector<size_t> indices(order.begin() + long(start),
                                        order.begin() + long(std::min(order.size(), start + batch)));
      const std::vector<double> theta(params.begin(), params.end() - 1);
      const LagerLoss loss = lager_loss(rows, indices, theta, params.back(), options.target);
      std::copy(loss.grad_theta.begin(), loss.grad_theta.end(), grads.begin());
      grads.back() = loss.grad_a;
      // Adam squares each gradient: past about 1e154 the square is infinite and every step is zero, so the
      // weights written would be the initial ones, presented as trained.
      const bool finite = std::isfinite(loss.loss) && std::all_of(grads.begin(), grads.end(), [](double g) {
        return std::isfinite(g) && std::fabs(g) < 1e150;
      });
      if (!finite)
        return error("step " + std::to_string(step.step + 1) + ": the loss or its gradient is not finite (or too large " +
                     "to square): the per-layer logits are too large to fit weights on (a judge's logits are at most " +
                     "in the thousands)");
      adam.step(params, grads);
      loss_sum += loss.loss;
      ++batches;
      step.step++;
      step.epoch = epoch;
      step.batch_loss = loss.loss;
      step.epoch_mean_loss = loss_sum / double(batches);
      if (on_step) on_step(step);
    }
  }
  weights.theta.assign(params.begin(), params.end() - 1);
  weights.a = params.back();
  // The loss of the weights written, over every training row: the last batches' losses were taken before
  // their steps, and each on a part of the rows.
  weights.train.final_loss = lager_loss(rows, train_indices, weights.theta, weights.a, options.target).loss;
  weights.layer_weights = softmax(weights.theta);
  weights.has_train = true;
  weights.train.rows = train_indices.size();
  weights.train.epochs = options.epochs;
  weights.train.lr = options.lr;
  weights.train.batch = options.batch;
  weights.train.seed = options.seed;
  return weights;
}

Result<LagerReport> lager_report(const std::vector<eval::LayerRow>& rows, const std::vector<size_t>& indices,
                                 const LagerWeights& tuned) {
  ARB_TRY(check_layer_rows(rows));
  std::vector<eval::LayerRow> subset;
  subset.reserve(indices.size());
  for (size_t i : indices) {
    if (i >= rows.size()) return error("row index " + std::to_string(i) + " out of range");
    subset.push_back(rows[i]);
  }
  LagerReport report;
  report.rows = subset.size();
  ARB_ASSIGN(report.per_layer, eval::layer_spearman(subset));
  report.final_layer = report.per_layer.back().spearman;
  const size_t n_layers = rows[0].per_layer_logits.size();
  if (tuned.layer_weights.size() != n_layers)
    return error("the weights have " + std::to_string(tuned.layer_weights.size()) + " layers, the rows " +
                 std::to_string(n_layers));
  const LagerWeights uniform = uniform_lager_weights(n_layers, rows[0].score_values);
  std::vector<double> human, uniform_scores, tuned_scores;
  for (const eval::LayerRow& row : subset) {
    human.push_back(row.human);
    ARB_ASSIGN(const double u, lager_expected_score(row.per_layer_logits, uniform.layer_weights, row.score_values));
    ARB_ASSIGN(const double t, lager_expected_score(row.per_layer_logits, tuned.layer_weights, row.score_values));
    uniform_scores.push_back(u);
    tuned_scores.push_back(t);
  }
  ARB_ASSIGN(report.uniform, eval::spearman(uniform_scores, human));
  ARB_ASSIGN(report.tuned, eval::spearman(tuned_scores, human));
  report.listwise = eval::all_best_first(subset);
  if (report.listwise) {
    // A read is right when label 0 (people's best, moved first) has the largest logit, alone.
    auto accuracy = [&](const std::vector<double>& layer_weights) -> Result<double> {
      size_t right = 0;
      for (const eval::LayerRow& row : subset) {
        ARB_ASSIGN(const std::vector<double> z, lager_combined_logits(row.per_layer_logits, layer_weights));
        right += eval::names_first(z);
      }
      return double(right) / double(subset.size());
    };
    ARB_ASSIGN(report.per_layer_accuracy, eval::layer_best_first_accuracy(subset));
    report.final_layer_accuracy = report.per_layer_accuracy.back();
    ARB_ASSIGN(report.uniform_accuracy, accuracy(uniform.layer_weights));
    ARB_ASSIGN(report.tuned_accuracy, accuracy(tuned.layer_weights));
    return report;
  }
  report.pairwise = !subset.empty();
  for (const eval::LayerRow& row : subset) {
    report.pairwise = report.pairwise && (row.human == 0.0 || row.human == 1.0);
    for (double v : row.score_values) report.pairwise = report.pairwise && v >= 0.0 && v <= 1.0;
  }
  if (report.pairwise) {
    auto accuracy = [&](const std::vector<double>& scores) {
      size_t right = 0;
      for (size_t i = 0; i < scores.size(); ++i) right += human[i] == 1.0 ? scores[i] > 0.5 : scores[i] < 0.5;
      return double(right) / double(scores.size());
    };
    std::vector<double> final_scores;
    for (const eval::LayerRow& row : subset) final_scores.push_back(eval::expected_scores_per_layer(row).back());
    report.final_layer_accuracy = accuracy(final_scores);
    report.uniform_accuracy = accuracy(uniform_scores);
    report.tuned_accuracy = accuracy(tuned_scores);
  }
  return report;
}

}  // namespace arbiter::train
