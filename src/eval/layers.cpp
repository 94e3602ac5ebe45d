#include "eval/layers.h"

#include <algorithm>
#include <cmath>

#include "eval/metrics.h"

namespace arbiter::eval {

std::vector<double> expected_scores_per_layer(const LayerRow& row) {
  std::vector<double> expected;
  expected.reserve(row.per_layer_logits.size());
  for (const std::vector<double>& logits : row.per_layer_logits) {
    const double max_logit = *std::max_element(logits.begin(), logits.end());
    double z = 0.0, weighted = 0.0;
    for (size_t k = 0; k < logits.size(); ++k) {
      const double p = std::exp(logits[k] - max_logit);
      z += p;
      weighted += p * row.score_values[k];
    }
    expected.push_back(weighted / z);
  }
  return expected;
}

std::string layer_row_place(const std::vector<LayerRow>& rows, size_t i) {
  return rows[i].where.empty() ? "row " + std::to_string(i) : rows[i].where;
}

namespace {

// Every row has row 0's [L+1][K] shape, K score values and finite logits; at least 2 rows.
Status check_layer_shapes(const std::vector<LayerRow>& rows) {
  if (rows.size() < 2) return error("need at least 2 rows, got " + std::to_string(rows.size()));
  const size_t n_layers = rows[0].per_layer_logits.size();
  const size_t n_scores = rows[0].score_values.size();
  if (n_layers == 0 || n_scores == 0) return error(layer_row_place(rows, 0) + ": empty per_layer_logits or score_values");
  for (size_t i = 0; i < rows.size(); ++i) {
    const LayerRow& row = rows[i];
    const std::string where = layer_row_place(rows, i);
    if (row.per_layer_logits.size() != n_layers)
      return error(where + ": " + std::to_string(row.per_layer_logits.size()) + " layers, where " +
                   layer_row_place(rows, 0) + " has " + std::to_string(n_layers));
    if (row.score_values.size() != n_scores)
      return error(where + ": " + (row.best_first ? "shows " + std::to_string(row.score_values.size()) + " responses, where " +
                                                        layer_row_place(rows, 0) + " shows " + std::to_string(n_scores) +
                                                        ": one measure needs reads of one size"
                                                  : std::to_string(row.score_values.size()) + " score values, where " +
                                                        layer_row_place(rows, 0) + " has " + std::to_string(n_scores)));
    // Equal values give one expected score whatever the logits: a correlation of rounding noise.
    if (std::all_of(row.score_values.begin(), row.score_values.end(), [&](double v) { return v == row.score_values[0]; }))
      return error(where + ": score_values are all equal: the expected score is the same whatever the judge says");
    for (const auto& logits : row.per_layer_logits) {
      if (logits.size() != n_scores)
        return error(where + ": a layer has " + std::to_string(logits.size()) + " logits for " +
                     std::to_string(n_scores) + " score values");
      for (double v : logits)
        if (!std::isfinite(v)) return error(where + ": a logit is not finite");
    }
  }
  return Status();
}

}  // namespace

bool names_first(const std::vector<double>& logits) {
  for (size_t k = 1; k < logits.size(); ++k)
    if (!(logits[k] < logits[0])) return false;
  return !logits.empty();
}

bool all_best_first(const std::vector<LayerRow>& rows) {
  for (const LayerRow& row : rows)
    if (!row.best_first) return false;
  return !rows.empty();
}

Result<std::vector<double>> layer_best_first_accuracy(const std::vector<LayerRow>& rows) {
  ARB_TRY(check_layer_shapes(rows));
  std::vector<double> accuracy(rows[0].per_layer_logits.size(), 0.0);
  for (size_t l = 0; l < accuracy.size(); ++l) {
    for (const LayerRow& row : rows) accuracy[l] += names_first(row.per_layer_logits[l]);
    accuracy[l] /= double(rows.size());
  }
  return accuracy;
}

Result<std::vector<LayerCorrelation>> layer_spearman(const std::vector<LayerRow>& rows) {
  ARB_TRY(check_layer_shapes(rows));
  const size_t n_layers = rows[0].per_layer_logits.size();
  // per_layer[l][i]: expected score of row i at layer l.
  std::vector<std::vector<double>> per_layer(n_layers, std::vector<double>(rows.size()));
  std::vector<double> human(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const LayerRow& row = rows[i];
    const std::vector<double> expected = expected_scores_per_layer(row);
    for (size_t l = 0; l < n_layers; ++l) per_layer[l][i] = expected[l];
    human[i] = row.human;
  }
  std::vector<LayerCorrelation> out;
  for (size_t l = 0; l < n_layers; ++l) {
    auto rho = spearman(per_layer[l], human);
    if (!rho) return rho.status().with_context("layer " + std::to_string(l));
    out.push_back({int(l), *rho});
  }
  return out;
}

}  // namespace arbiter::eval
