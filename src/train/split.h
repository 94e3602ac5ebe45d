// Seeded, platform-independent shuffles and train/validation splits. std::shuffle and the std
// distributions differ between standard libraries; these use mt19937_64's raw output only, so a seed
// gives the same split everywhere.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace arbiter::train {

// Fisher-Yates with j = rng() % (i + 1) (the modulo bias is below 2^-40 for any realistic n).
void shuffle_indices(std::vector<size_t>& indices, std::mt19937_64& rng);

struct Split {
  std::vector<size_t> train;       // row indices, ascending
  std::vector<size_t> validation;  // row indices, ascending
};

// round(fraction * n) rows go to validation, chosen by a permutation seeded with `seed`; at least one
// row stays in training.
Split split_rows(size_t n, double validation_fraction, uint64_t seed);

// The same split over groups: item i belongs to group groups[i], and a group's items all land on one
// side (a pairwise judge's comparisons of one row, so a pair shown in both orders is never half trained
// on). Returns item indices, ascending; with one item per group it equals split_rows.
Split split_groups(const std::vector<size_t>& groups, double validation_fraction, uint64_t seed);

}  // namespace arbiter::train
