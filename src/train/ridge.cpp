#include "train/ridge.h"

#include <cmath>

namespace arbiter::train {

Status cholesky_solve(std::vector<double> a, std::vector<double>& b, size_t n, size_t m) {
  // a = L L^T, L stored in the lower triangle of a.
  for (size_t j = 0; j < n; ++j) {
    double diag = a[j * n + j];
    for (size_t k = 0; k < j; ++k) diag -= a[j * n + k] * a[j * n + k];
    if (!(diag > 0.0)) return error("matrix is not positive definite (pivot " + std::to_string(j) + ")");
    const double l_jj = std::sqrt(diag);
    a[j * n + j] = l_jj;
    for (size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / l_jj;
    }
  }
  for (size_t c = 0; c < m; ++c) {
    for (size_t i = 0; i < n; ++i) {  // L y = b
      double s = b[i * m + c];
      for (size_t k = 0; k < i; ++k) s -= a[i * n + k] * b[k * m + c];
      b[i * m + c] = s / a[i * n + i];
    }
    for (size_t i = n; i-- > 0;) {  // L^T x = y
      double s = b[i * m + c];
      for (size_t k = i + 1; k < n; ++k) s -= a[k * n + i] * b[k * m + c];
      b[i * m + c] = s / a[i * n + i];
    }
  }
  return Status::ok();
}

Status fit_ridge(const FeatureSet& set, const std::vector<std::vector<double>>& targets,
                 const std::vector<size_t>& indices, double lambda, RewardHead& head) {
  if (set.responses != 1) return error("ridge regression needs features with 1 response per row");
  if (indices.empty()) return error("ridge regression: no training rows");
  if (!(lambda >= 0.0)) return error("ridge lambda must be non-negative");
  const size_t d = size_t(set.dim), outputs = targets.size();
  const double n = double(indices.size());
  std::vector<double> x_mean(d, 0.0), y_mean(outputs, 0.0);
  for (size_t row : indices) {
    const float* x = set.at(int64_t(row), 0);
    for (size_t j = 0; j < d; ++j) x_mean[j] += double(x[j]) / n;
    for (size_t t = 0; t < outputs; ++t) y_mean[t] += targets[t][row] / n;
  }
  // gram [d, d] = Xc^T Xc + lambda I; rhs [d, T] = Xc^T Yc.
  std::vector<double> gram(d * d, 0.0), rhs(d * outputs, 0.0), xc(d);
  for (size_t row : indices) {
    const float* x = set.at(int64_t(row), 0);
    for (size_t j = 0; j < d; ++j) xc[j] = double(x[j]) - x_mean[j];
    for (size_t i = 0; i < d; ++i) {
      for (size_t j = 0; j <= i; ++j) gram[i * d + j] += xc[i] * xc[j];
      for (size_t t = 0; t < outputs; ++t) rhs[i * outputs + t] += xc[i] * (targets[t][row] - y_mean[t]);
    }
  }
  for (size_t i = 0; i < d; ++i) {
    for (size_t j = 0; j < i; ++j) gram[j * d + i] = gram[i * d + j];
    gram[i * d + i] += lambda;
  }
  Status solved = cholesky_solve(gram, rhs, d, outputs);
  if (!solved) return solved.with_context("ridge regression (try a larger --ridge lambda)");
  head.dim = int64_t(d);
  head.weight.assign(outputs * d, 0.0);
  head.bias.assign(outputs, 0.0);
  for (size_t t = 0; t < outputs; ++t) {
    double shift = 0.0;
    for (size_t j = 0; j < d; ++j) {
      head.weight[t * d + j] = rhs[j * outputs + t];
      shift += rhs[j * outputs + t] * x_mean[j];
    }
    head.bias[t] = y_mean[t] - shift;
  }
  return Status::ok();
}

}  // namespace arbiter::train
