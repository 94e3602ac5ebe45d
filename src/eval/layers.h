// Per-layer agreement of a judge's score with human labels. A judge that reads the score-token logits
// of every layer (LAGER's per-layer lens) writes, per item, logits [L+1][K] for the K score tokens and the
// K score values; each layer's expected score is softmax(logits[l]) . score_values.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace arbiter::eval {

struct LayerRow {
  std::vector<std::vector<double>> per_layer_logits;  // [L+1][K]: layer 0 = embeddings, L = final
  std::vector<double> score_values;                   // [K]
  double human = 0.0;
  size_t group = 0;  // the file row it came from (a pairwise row gives one item per judged comparison)
  std::string id{};  // that row's id, as the judge run wrote it; empty when it has none
  // Where it was read, for errors: "FILE:LINE", and the comparison or order of a pairwise or listwise
  // row ("FILE:LINE (comparisons[3])"); empty for rows made in code.
  std::string where{};
  // A listwise judge's read, its labels reordered so that the response people rank best comes first:
  // score_values [1, 0, ..., 0] and human 1, so LAGER's score is that response's chance of being named.
  bool best_first = false;
};

// Where rows[i] was read ("FILE:LINE ..."), or "row i" for a row made in code: what errors name.
std::string layer_row_place(const std::vector<LayerRow>& rows, size_t i);

// [L+1] expected scores of one row. Softmax is computed max-shifted, so large logits do not overflow.
std::vector<double> expected_scores_per_layer(const LayerRow& row);

struct LayerCorrelation {
  int layer = 0;
  double spearman = 0.0;  // NaN when this layer's expected scores are constant
};

// Every row must have the same [L+1][K] shape and finite logits; errors name the row.
Result<std::vector<LayerCorrelation>> layer_spearman(const std::vector<LayerRow>& rows);

// Listwise reads (best_first rows): label 0, people's best response, has the largest logit alone (a tie
// names no response).
bool names_first(const std::vector<double>& logits);
bool all_best_first(const std::vector<LayerRow>& rows);  // non-empty and every row best_first
// [L+1] the share of rows whose layer-l logits name label 0; shapes checked as layer_spearman does.
Result<std::vector<double>> layer_best_first_accuracy(const std::vector<LayerRow>& rows);

}  // namespace arbiter::eval
