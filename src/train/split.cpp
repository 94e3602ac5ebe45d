#include "train/split.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace arbiter::train {

void shuffle_indices(std::vector<size_t>& indices, std::mt19937_64& rng) {
  for (size_t i = indices.size(); i > 1; --i) {
    const size_t j = size_t(rng() % i);
    std::swap(indices[i - 1], indices[j]);
  }
}

Split split_rows(size_t n, double validation_fraction, uint64_t seed) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t(0));
  std::mt19937_64 rng(seed);
  shuffle_indices(order, rng);
  size_t n_validation = size_t(std::llround(std::clamp(validation_fraction, 0.0, 1.0) * double(n)));
  if (n > 0 && n_validation >= n) n_validation = n - 1;
  Split split;
  split.validation.assign(order.begin(), order.begin() + long(n_validation));
  split.train.assign(order.begin() + long(n_validation), order.end());
  std::sort(split.validation.begin(), split.validation.end());
  std::sort(split.train.begin(), split.train.end());
  return split;
}

Split split_groups(const std::vector<size_t>& groups, double validation_fraction, uint64_t seed) {
  // Groups numbered densely, in ascending order.
  std::vector<size_t> distinct = groups;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  const Split by_group = split_rows(distinct.size(), validation_fraction, seed);
  std::vector<bool> held_out(distinct.size(), false);
  for (size_t g : by_group.validation) held_out[g] = true;
  Split split;
  for (size_t i = 0; i < groups.size(); ++i) {
    const size_t g = size_t(std::lower_bound(distinct.begin(), distinct.end(), groups[i]) - distinct.begin());
    (held_out[g] ? split.validation : split.train).push_back(i);
  }
  return split;
}

}  // namespace arbiter::train
