#include "train/head_loss.h"

#include <cmath>

#include "core/sigmoid.h"
#include "data/json_rows.h"

namespace arbiter::train {

namespace {

// -log sigmoid(x), without overflow for large |x|.
double neg_log_sigmoid(double x) { return x >= 0 ? std::log1p(std::exp(-x)) : -x + std::log1p(std::exp(x)); }

// Raw head (W [outputs, d], b [outputs]) from standardised params.
void folded(const std::vector<double>& params, const Standardizer& st, size_t outputs, std::vector<double>& w,
            std::vector<double>& b) {
  const size_t d = st.mean.size();
  w.assign(outputs * d, 0.0);
  b.assign(outputs, 0.0);
  for (size_t t = 0; t < outputs; ++t) {
    double shift = 0.0;
    for (size_t j = 0; j < d; ++j) {
      w[t * d + j] = params[t * d + j] / st.scale[j];
      shift += w[t * d + j] * st.mean[j];
    }
    b[t] = params[outputs * d + t] - shift;
  }
}

double dot(const double* w, const float* x, size_t d) {
  double s = 0.0;
  for (size_t j = 0; j < d; ++j) s += w[j] * double(x[j]);
  return s;
}

}  // namespace

PairLossValue pair_loss(PairObjective objective, double delta, double strength) {
  switch (objective) {
    case PairObjective::kBT:
      return {neg_log_sigmoid(delta), -sigmoid(-delta)};
    case PairObjective::kBTMargin:
      return {neg_log_sigmoid(delta - strength), -sigmoid(strength - delta)};
    case PairObjective::kBTScaled:
      return {strength * neg_log_sigmoid(delta), -strength * sigmoid(-delta)};
  }
  return {};
}

Result<std::vector<Pair>> pairs_from_features(const FeatureSet& set, const std::string& label) {
  if (set.responses != 2)
    return error("pair objectives need features with 2 responses per row, got " + std::to_string(set.responses));
  auto it = set.labels.find(label);
  if (it == set.labels.end()) return error("no label '" + label + "' (tensor label." + label + " or --labels)");
  std::vector<Pair> pairs;
  for (size_t i = 0; i < it->second.size(); ++i) {
    const double s = it->second[i];
    const std::string row = "row " + std::to_string(i) + (i < set.ids.size() ? " (id " + set.ids[i] + ")" : "");
    if (!std::isfinite(s)) return error(row + ": " + label + " is not finite");
    // HelpSteer2-Preference's scale: bt-scaled weighs a pair's loss by it and bt-margin subtracts it, so a
    // label on another scale (or another column) would outweigh every other pair without a word.
    if (s != std::round(s) || s < -3.0 || s > 3.0)
      return error(row + ": " + label + " is " + data::dump_json(nlohmann::json(s)) +
                   ": a preference strength is a whole number from -3 to 3 (negative prefers response 1); give "
                   "corrected labels with --labels");
    if (s == 0.0) continue;
    pairs.push_back({i, s > 0 ? 1 : 0, std::fabs(s)});
  }
  if (pairs.empty()) return error("no pairs with a non-zero " + label);
  return pairs;
}

Standardizer identity_standardizer(int64_t dim) {
  return {std::vector<double>(size_t(dim), 0.0), std::vector<double>(size_t(dim), 1.0)};
}

Standardizer fit_standardizer(const FeatureSet& set, const std::vector<size_t>& rows) {
  const size_t d = size_t(set.dim);
  Standardizer st{std::vector<double>(d, 0.0), std::vector<double>(d, 0.0)};
  double count = 0.0;
  // Welford's update per dimension: stable for large N and large offsets.
  for (size_t row : rows)
    for (int64_t r = 0; r < set.responses; ++r) {
      const float* x = set.at(int64_t(row), r);
      count += 1.0;
      for (size_t j = 0; j < d; ++j) {
        const double delta = double(x[j]) - st.mean[j];
        st.mean[j] += delta / count;
        st.scale[j] += delta * (double(x[j]) - st.mean[j]);
      }
    }
  for (size_t j = 0; j < d; ++j) {
    const double sd = count > 1 ? std::sqrt(st.scale[j] / count) : 0.0;
    // Features are f32: a spread within a few of its ulps (about 1.2e-7 relative) is rounding, not signal,
    // and dividing by it would fold into weights of 1e5 and more, whose f32 products then lose the score.
    st.scale[j] = sd > 5e-7 * (1.0 + std::fabs(st.mean[j])) ? sd : 1.0;
  }
  return st;
}

void fold_params(const std::vector<double>& params, const Standardizer& st, RewardHead& head) {
  const size_t outputs = head.num_labels();
  head.dim = int64_t(st.mean.size());
  folded(params, st, outputs, head.weight, head.bias);
}

std::vector<double> unfold_params(const RewardHead& head, const Standardizer& st) {
  const size_t d = size_t(head.dim), outputs = head.num_labels();
  std::vector<double> params(outputs * d + outputs);
  for (size_t t = 0; t < outputs; ++t) {
    double shift = 0.0;
    for (size_t j = 0; j < d; ++j) {
      params[t * d + j] = head.weight[t * d + j] * st.scale[j];
      shift += head.weight[t * d + j] * st.mean[j];
    }
    params[outputs * d + t] = head.bias[t] + shift;
  }
  return params;
}

double pair_loss_grad(const FeatureSet& set, const std::vector<Pair>& pairs, const std::vector<size_t>& indices,
                      const Standardizer& st, PairObjective objective, const std::vector<double>& params,
                      std::vector<double>* grad) {
  const size_t d = size_t(set.dim);
  std::vector<double> w, b;
  folded(params, st, 1, w, b);
  // raw_grad[j] = sum_i dloss/ddelta_i * (x_c - x_r)_j; the standardised gradient divides by scale.
  std::vector<double> raw_grad(d, 0.0);
  double total = 0.0;
  for (size_t index : indices) {
    const Pair& pair = pairs[index];
    const float* xc = set.at(int64_t(pair.row), pair.chosen);
    const float* xr = set.at(int64_t(pair.row), 1 - pair.chosen);
    const double delta = dot(w.data(), xc, d) - dot(w.data(), xr, d);
    const PairLossValue v = pair_loss(objective, delta, pair.strength);
    total += v.loss;
    if (grad)
      for (size_t j = 0; j < d; ++j) raw_grad[j] += v.d_delta * (double(xc[j]) - double(xr[j]));
  }
  const double scale = indices.empty() ? 0.0 : 1.0 / double(indices.size());
  if (grad) {
    grad->assign(d + 1, 0.0);
    for (size_t j = 0; j < d; ++j) (*grad)[j] = raw_grad[j] * scale / st.scale[j];
  }
  return total * scale;
}

double regression_loss_grad(const FeatureSet& set, const std::vector<std::vector<double>>& targets,
                            const std::vector<size_t>& indices, const Standardizer& st,
                            const std::vector<double>& params, std::vector<double>* grad) {
  const size_t d = size_t(set.dim), outputs = targets.size();
  std::vector<double> w, b;
  folded(params, st, outputs, w, b);
  // Per output t: sum_i g_it x_i (raw) and sum_i g_it, with g_it = dloss/dscore_it.
  std::vector<double> raw_grad(outputs * d, 0.0), grad_sum(outputs, 0.0);
  double total = 0.0;
  const double per_output = 1.0 / double(outputs);
  for (size_t row : indices) {
    const float* x = set.at(int64_t(row), 0);
    for (size_t t = 0; t < outputs; ++t) {
      const double err = dot(w.data() + t * d, x, d) + b[t] - targets[t][row];
      total += per_output * err * err;
      if (!grad) continue;
      const double g = 2.0 * per_output * err;
      grad_sum[t] += g;
      for (size_t j = 0; j < d; ++j) raw_grad[t * d + j] += g * double(x[j]);
    }
  }
  const double scale = indices.empty() ? 0.0 : 1.0 / double(indices.size());
  if (grad) {
    grad->assign(outputs * d + outputs, 0.0);
    for (size_t t = 0; t < outputs; ++t) {
      // d/dW'_tj of sum_i g_it (x_ij - mean_j) / scale_j.
      for (size_t j = 0; j < d; ++j)
        (*grad)[t * d + j] = (raw_grad[t * d + j] - grad_sum[t] * st.mean[j]) * scale / st.scale[j];
      (*grad)[outputs * d + t] = grad_sum[t] * scale;
    }
  }
  return total * scale;
}

double binary_loss_grad(const FeatureSet& set, const std::vector<double>& targets, const std::vector<size_t>& indices,
                        const Standardizer& st, const std::vector<double>& params, std::vector<double>* grad) {
  const size_t d = size_t(set.dim);
  std::vector<double> w, b;
  folded(params, st, 1, w, b);
  std::vector<double> raw_grad(d, 0.0);
  double grad_sum = 0.0, total = 0.0;
  for (size_t row : indices) {
    const float* x = set.at(int64_t(row), 0);
    const double z = dot(w.data(), x, d) + b[0], y = targets[row];
    // softplus(z) - y z without overflow: max(z, 0) + log1p(exp(-|z|)) - y z.
    total += std::max(z, 0.0) + std::log1p(std::exp(-std::fabs(z))) - y * z;
    if (!grad) continue;
    const double g = sigmoid(z) - y;
    grad_sum += g;
    for (size_t j = 0; j < d; ++j) raw_grad[j] += g * double(x[j]);
  }
  const double scale = indices.empty() ? 0.0 : 1.0 / double(indices.size());
  if (grad) {
    grad->assign(d + 1, 0.0);
    for (size_t j = 0; j < d; ++j) (*grad)[j] = (raw_grad[j] - grad_sum * st.mean[j]) * scale / st.scale[j];
    (*grad)[d] = grad_sum * scale;
  }
  return total * scale;
}

}  // namespace arbiter::train
