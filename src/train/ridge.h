// Closed-form ridge regression in double: minimise sum_i ||W x_i + b - y_i||^2 + lambda ||W||^2 over raw
// features (the bias is not penalised, as in scikit-learn's Ridge). With centred X and Y the solution is
// W^T = (Xc^T Xc + lambda I)^-1 Xc^T Yc and b = mean(y) - W mean(x); the normal equations are solved by
// Cholesky factorisation.
#pragma once

#include <vector>

#include "core/status.h"
#include "train/features_file.h"
#include "train/reward_head.h"

namespace arbiter::train {

// Solves A X = B for symmetric positive definite A [n, n] and B [n, m] (row-major); X [n, m] replaces B.
Status cholesky_solve(std::vector<double> a, std::vector<double>& b, size_t n, size_t m);

// head.labels must name the targets ([T][N]); fills head.weight/bias from rows[indices] of R = 1 features.
Status fit_ridge(const FeatureSet& set, const std::vector<std::vector<double>>& targets,
                 const std::vector<size_t>& indices, double lambda, RewardHead& head);

}  // namespace arbiter::train
