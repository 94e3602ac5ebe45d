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

}  // namespace arbiter::train
