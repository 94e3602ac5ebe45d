#include "train/head_train.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>

#include "eval/metrics.h"
#include "train/adam.h"
#include "train/ridge.h"
#include "train/split.h"

namespace arbiter::train {

namespace {

// Loss over items[indices] (rows or pairs) and its gradient in standardised space.
using BatchLoss = std::function<double(const std::vector<size_t>&, const std::vector<double>&, std::vector<double>*)>;
// Validation metrics for params, filled into the report.
using Metrics = std::function<void(const std::vector<double>&, EpochReport&)>;

double penalty(const std::vector<double>& params, size_t n_weights, double decay, std::vector<double>* grad) {
  if (decay <= 0.0) return 0.0;
  double sum = 0.0;
  for (size_t i = 0; i < n_weights; ++i) {
    sum += params[i] * params[i];
    if (grad) (*grad)[i] += decay * params[i];
  }
  return 0.5 * decay * sum;
}

struct AdamRun {
  std::vector<double> params;
  std::vector<EpochReport> epochs;
  int best_epoch = 0;
};

// Epochs of shuffled mini-batches; keeps the parameters of the epoch with the lowest validation loss and
// stops after `patience` epochs without improvement.
AdamRun run_adam(std::vector<double> params, size_t n_weights, const std::vector<size_t>& train,
                 const std::vector<size_t>& validation, const BatchLoss& loss, const Metrics& metrics,
                 const HeadTrainOptions& options, const EpochCallback& on_epoch) {
  AdamRun run;
  Adam adam(params.size(), AdamOptions{.lr = options.lr});
  std::mt19937_64 rng(options.seed);
  std::vector<double> grad;
  std::vector<double> best = params;
  double best_loss = INFINITY;
  int since_best = 0;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    std::vector<size_t> order = train;
    shuffle_indices(order, rng);
    double sum = 0.0;
    int batches = 0;
    for (size_t start = 0; start < order.size(); start += size_t(options.batch)) {
      const std::vector<size_t> batch(order.begin() + long(start),
                                      order.begin() + long(std::min(order.size(), start + size_t(options.batch))));
      double value = loss(batch, params, &grad);
      value += penalty(params, n_weights, options.weight_decay, &grad);
      adam.step(params, grad);
      sum += value;
      ++batches;
    }
    EpochReport report;
    report.epoch = epoch;
    report.train_loss = sum / double(std::max(batches, 1));
    if (!validation.empty()) {
      report.validation_loss = loss(validation, params, nullptr);
      metrics(params, report);
    }
    run.epochs.push_back(report);
    if (on_epoch) on_epoch(report);
    // Without a validation split, the last epoch is kept.
    const double monitored = validation.empty() ? -double(epoch) : report.validation_loss;
    if (monitored < best_loss) {
      best_loss = monitored;
      best = params;
      run.best_epoch = epoch;
      since_best = 0;
    } else if (options.patience > 0 && ++since_best >= options.patience) {
      break;
    }
  }
  run.params = std::move(best);
  return run;
}

// With a validation split, a run keeps the epoch of the lowest validation loss; when every epoch's loss is
// NaN (a learning rate that diverges) it kept none, and its head would be the untrained start.
Status check_converged(const AdamRun& run) {
  if (run.best_epoch > 0) return Status::ok();
  const double last = run.epochs.empty() ? NAN : run.epochs.back().train_loss;
  return error("training diverged: no epoch had a finite validation loss (the last epoch's training loss is " +
               std::to_string(last) + "); lower --lr");
}

Status check_options(const HeadTrainOptions& o) {
  if (!(o.lr > 0.0)) return error("learning rate must be positive");
  if (o.batch < 1) return error("batch size must be at least 1");
  if (o.epochs < 1) return error("epochs must be at least 1");
  if (o.patience < 0) return error("patience must be non-negative");
  if (!(o.weight_decay >= 0.0)) return error("weight decay must be non-negative");
  if (!(o.validation_fraction >= 0.0 && o.validation_fraction < 1.0))
    return error("validation fraction must be in [0, 1)");
  return Status::ok();
}

}  // namespace

Result<std::vector<std::string>> resolve_attributes(const FeatureSet& set, const std::string& spec) {
  std::vector<std::string> names;
  if (spec.empty() || spec == "all") {
    for (const auto& [name, values] : set.labels)
      if (name != "preference_strength") names.push_back(name);
    // HelpSteer2's attribute order, when those are the labels, so heads line up with published ones.
    static const char* const kOrder[] = {"helpfulness", "correctness", "coherence", "complexity", "verbosity"};
    auto rank = [](const std::string& n) {
      for (size_t i = 0; i < 5; ++i)
        if (n == kOrder[i]) return i;
      return size_t(5);
    };
    std::stable_sort(names.begin(), names.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
    if (names.empty()) return error("the features carry no label tensors (label.<name>); give --labels");
    return names;
  }
  std::stringstream list(spec);
  std::string name;
  while (std::getline(list, name, ',')) {
    if (name.empty()) continue;
    if (!set.labels.count(name)) return error("no label '" + name + "' in the features (or --labels)");
    names.push_back(name);
  }
  if (names.empty()) return error("no attributes in '" + spec + "'");
  return names;
}

namespace {

// The train / validation split of items (rows or pairs) item i of which is feature row rows[i]: by prompt
// where the features name their rows' prompts, so that no prompt is both trained on and held out (on
// HelpSteer2, a held-out response's sibling would otherwise usually be trained on, and the held-out
// figures, and the epoch they pick, would measure memory of the prompt); else item by item.
Split split_items(const FeatureSet& set, const std::vector<size_t>& rows, const HeadTrainOptions& options,
                  HeadTrainResult& result) {
  result.split_by_prompt = set.prompt_hashes.size() == size_t(set.rows);
  if (!result.split_by_prompt) return split_rows(rows.size(), options.validation_fraction, options.seed);
  std::vector<size_t> groups;
  groups.reserve(rows.size());
  for (size_t row : rows) groups.push_back(size_t(uint64_t(set.prompt_hashes[row])));
  return split_groups(groups, options.validation_fraction, options.seed);
}

std::vector<size_t> every_row(const FeatureSet& set) {
  std::vector<size_t> rows(size_t(set.rows));
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  return rows;
}

}  // namespace

Result<HeadTrainResult> train_regression_head(const FeatureSet& set, const std::vector<std::string>& attributes,
                                              const HeadTrainOptions& options, double ridge,
                                              const EpochCallback& on_epoch) {
  ARB_TRY(check_options(options));
  if (set.responses != 1)
    return error("regression needs features with 1 response per row, got " + std::to_string(set.responses));
  std::vector<std::vector<double>> targets;
  for (const std::string& name : attributes) {
    auto it = set.labels.find(name);
    if (it == set.labels.end()) return error("no label '" + name + "'");
    for (size_t i = 0; i < it->second.size(); ++i)
      if (!std::isfinite(it->second[i]))
        return error("row " + std::to_string(i) + (i < set.ids.size() ? " (id " + set.ids[i] + ")" : "") + ": label " + name +
                     " is not finite");
    targets.push_back(it->second);
  }
  HeadTrainResult result;
  const Split split = split_items(set, every_row(set), options, result);
  result.train_rows = split.train.size();
  result.validation_rows = split.validation.size();
  result.validation_indices = split.validation;
  result.head.labels = attributes;
  result.head.layer = set.layer;
  result.head.objective = "regression";
  const size_t d = size_t(set.dim), outputs = attributes.size();

  auto metrics = [&](const std::vector<double>& params, const Standardizer& st, EpochReport& report) {
    RewardHead head = result.head;
    fold_params(params, st, head);
    round_to_stored_precision(head);
    for (size_t t = 0; t < outputs; ++t) {
      std::vector<double> pred, human;
      double sq = 0.0;
      for (size_t row : split.validation) {
        const std::vector<double> s = head_scores(head, set.at(int64_t(row), 0));
        pred.push_back(s[t]);
        human.push_back(targets[t][row]);
        sq += (s[t] - targets[t][row]) * (s[t] - targets[t][row]);
      }
      auto rho = eval::spearman(pred, human);
      report.validation_spearman.push_back(rho ? *rho : NAN);
      report.validation_rmse.push_back(std::sqrt(sq / double(std::max<size_t>(pred.size(), 1))));
    }
  };

  if (ridge >= 0.0) {
    result.head.objective = "regression-ridge";
    ARB_TRY(fit_ridge(set, targets, split.train, ridge, result.head));
    round_to_stored_precision(result.head);
    EpochReport report;
    report.train_loss = regression_loss_grad(set, targets, split.train, identity_standardizer(set.dim),
                                             unfold_params(result.head, identity_standardizer(set.dim)), nullptr);
    if (!split.validation.empty()) {
      const Standardizer id = identity_standardizer(set.dim);
      const std::vector<double> params = unfold_params(result.head, id);
      report.validation_loss = regression_loss_grad(set, targets, split.validation, id, params, nullptr);
      metrics(params, id, report);
    }
    result.epochs.push_back(report);
    if (on_epoch) on_epoch(report);
    return result;
  }

  const Standardizer st = options.standardize ? fit_standardizer(set, split.train) : identity_standardizer(set.dim);
  BatchLoss loss = [&](const std::vector<size_t>& idx, const std::vector<double>& params, std::vector<double>* grad) {
    return regression_loss_grad(set, targets, idx, st, params, grad);
  };
  std::vector<double> params(outputs * d + outputs, 0.0);
  // Start the bias at the target means: standardised weights then only learn the signal.
  for (size_t t = 0; t < outputs; ++t) {
    double mean = 0.0;
    for (size_t row : split.train) mean += targets[t][row];
    params[outputs * d + t] = mean / double(split.train.size());
  }
  AdamRun run = run_adam(params, outputs * d, split.train, split.validation, loss,
                         [&](const std::vector<double>& p, EpochReport& r) { metrics(p, st, r); }, options, on_epoch);
  ARB_TRY(check_converged(run));
  fold_params(run.params, st, result.head);
  round_to_stored_precision(result.head);
  result.epochs = std::move(run.epochs);
  result.best_epoch = run.best_epoch;
  return result;
}

double pair_accuracy(const RewardHead& head, const FeatureSet& set, const std::vector<Pair>& pairs,
                     const std::vector<size_t>& indices) {
  if (indices.empty()) return NAN;
  size_t correct = 0;
  for (size_t i : indices) {
    const Pair& p = pairs[i];
    if (head_score(head, set.at(int64_t(p.row), p.chosen)) > head_score(head, set.at(int64_t(p.row), 1 - p.chosen)))
      ++correct;
  }
  return double(correct) / double(indices.size());
}

Result<HeadTrainResult> train_pair_head(const FeatureSet& set, PairObjective objective,
                                        const HeadTrainOptions& options, const RewardHead* init,
                                        const EpochCallback& on_epoch) {
  ARB_TRY(check_options(options));
  ARB_ASSIGN(const std::vector<Pair> pairs, pairs_from_features(set));
  if (init && (init->num_labels() != 1 || init->dim != set.dim))
    return error("the starting head must have 1 output and d = " + std::to_string(set.dim));
  HeadTrainResult result;
  std::vector<size_t> pair_rows;
  for (const Pair& pair : pairs) pair_rows.push_back(pair.row);
  const Split split = split_items(set, pair_rows, options, result);
  std::vector<size_t> train_rows;
  for (size_t i : split.train) train_rows.push_back(pairs[i].row);
  const Standardizer st = options.standardize ? fit_standardizer(set, train_rows) : identity_standardizer(set.dim);

  result.train_rows = split.train.size();
  result.validation_rows = split.validation.size();
  result.validation_indices = split.validation;
  result.head.labels = init ? init->labels : std::vector<std::string>{"reward"};
  result.head.layer = set.layer;
  result.head.objective = objective == PairObjective::kBT         ? "bt"
                          : objective == PairObjective::kBTMargin ? "bt-margin"
                                                                  : "bt-scaled";
  std::vector<double> params = init ? unfold_params(*init, st) : std::vector<double>(size_t(set.dim) + 1, 0.0);
  BatchLoss loss = [&](const std::vector<size_t>& idx, const std::vector<double>& p, std::vector<double>* grad) {
    return pair_loss_grad(set, pairs, idx, st, objective, p, grad);
  };
  Metrics metrics = [&](const std::vector<double>& p, EpochReport& report) {
    RewardHead head = result.head;
    fold_params(p, st, head);
    round_to_stored_precision(head);
    report.validation_accuracy = pair_accuracy(head, set, pairs, split.validation);
  };
  AdamRun run = run_adam(params, size_t(set.dim), split.train, split.validation, loss, metrics, options, on_epoch);
  ARB_TRY(check_converged(run));
  fold_params(run.params, st, result.head);
  round_to_stored_precision(result.head);
  result.epochs = std::move(run.epochs);
  result.best_epoch = run.best_epoch;
  return result;
}

Result<HeadTrainResult> train_binary_head(const FeatureSet& set, const std::string& label,
                                          const HeadTrainOptions& options, const EpochCallback& on_epoch) {
  ARB_TRY(check_options(options));
  if (set.responses != 1)
    return error("--objective binary needs features with 1 response per row, got " + std::to_string(set.responses));
  auto it = set.labels.find(label);
  if (it == set.labels.end()) return error("no label '" + label + "' in the features (or --labels)");
  const std::vector<double>& targets = it->second;
  std::vector<size_t> labelled;  // rows with a label; split over these
  for (size_t row = 0; row < targets.size(); ++row) {
    if (std::isnan(targets[row])) continue;
    if (!(targets[row] >= 0.0 && targets[row] <= 1.0))
      return error("row " + std::to_string(row) + (row < set.ids.size() ? " (id " + set.ids[row] + ")" : "") +
                   ": label " + label + " is " + std::to_string(targets[row]) + ", not in [0, 1]");
    labelled.push_back(row);
  }
  if (labelled.size() < 2) return error("label '" + label + "': fewer than two rows carry it");
  HeadTrainResult result;
  const Split split = split_items(set, labelled, options, result);
  std::vector<size_t> train, validation;
  for (size_t i : split.train) train.push_back(labelled[i]);
  for (size_t i : split.validation) validation.push_back(labelled[i]);
  const Standardizer st = options.standardize ? fit_standardizer(set, train) : identity_standardizer(set.dim);

  result.train_rows = train.size();
  result.validation_rows = validation.size();
  result.validation_indices = validation;
  result.head.labels = {label};
  result.head.layer = set.layer;
  result.head.objective = "binary";
  BatchLoss loss = [&](const std::vector<size_t>& idx, const std::vector<double>& p, std::vector<double>* grad) {
    return binary_loss_grad(set, targets, idx, st, p, grad);
  };
  Metrics metrics = [&](const std::vector<double>& p, EpochReport& report) {
    RewardHead head = result.head;
    fold_params(p, st, head);
    round_to_stored_precision(head);
    size_t correct = 0;
    std::vector<double> positive, negative;
    for (size_t row : validation) {
      const double score = head_score(head, set.at(int64_t(row), 0));
      correct += (score >= 0.0) == (targets[row] >= 0.5);
      (targets[row] >= 0.5 ? positive : negative).push_back(score);
    }
    report.validation_accuracy = double(correct) / double(validation.size());
    report.validation_auroc = eval::auroc(positive, negative);
  };
  // Start the bias at the log-odds of the training rows' mean label (clamped away from 0 and 1).
  std::vector<double> params(size_t(set.dim) + 1, 0.0);
  double mean = 0.0;
  for (size_t row : train) mean += targets[row];
  mean = std::clamp(mean / double(train.size()), 1e-3, 1.0 - 1e-3);
  params[size_t(set.dim)] = std::log(mean / (1.0 - mean));
  AdamRun run = run_adam(params, size_t(set.dim), train, validation, loss, metrics, options, on_epoch);
  ARB_TRY(check_converged(run));
  fold_params(run.params, st, result.head);
  round_to_stored_precision(result.head);
  result.epochs = std::move(run.epochs);
  result.best_epoch = run.best_epoch;
  return result;
}

Result<RewardHead> extrapolate_head(const RewardHead& theta0, const RewardHead& theta1, double alpha) {
  if (theta0.dim != theta1.dim || theta0.num_labels() != theta1.num_labels() ||
      theta0.weight.size() != theta1.weight.size() || theta0.bias.size() != theta1.bias.size())
    return error("ExPO: the two heads differ in shape");
  if (!std::isfinite(alpha)) return error("ExPO alpha must be a finite number, not " + std::to_string(alpha));
  RewardHead out = theta1;
  for (size_t i = 0; i < out.weight.size(); ++i) out.weight[i] += alpha * (theta1.weight[i] - theta0.weight[i]);
  for (size_t i = 0; i < out.bias.size(); ++i) out.bias[i] += alpha * (theta1.bias[i] - theta0.bias[i]);
  return out;
}

}  // namespace arbiter::train
