// Keys and values a sequence (or a shared prefix of several) has written, per layer, on the CPU.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "model/config.h"

namespace arbiter::cpu {

// k[l], v[l]: [capacity, kv_dim]; rows [0, length) hold positions [0, length).
struct KvCache {
  int64_t length = 0;
  std::vector<std::vector<float>> k, v;
};

// A cache of `capacity` positions at every layer, for one sequence or one shared prefix.
inline KvCache make_cache(const ModelConfig& c, int64_t capacity) {
  KvCache cache;
  cache.k.assign(size_t(c.num_layers), std::vector<float>(size_t(std::max<int64_t>(capacity, 1) * c.kv_dim())));
  cache.v = cache.k;
  return cache;
}

// Rows [0, rows) of every layer of `from` into `to` (whose capacity holds them).
inline void copy_rows(const KvCache& from, int64_t rows, int64_t kv_dim, KvCache& to) {
  const size_t floats = size_t(rows * kv_dim);
  for (size_t l = 0; l < from.k.size(); ++l) {
    std::copy_n(from.k[l].begin(), floats, to.k[l].begin());
    std::copy_n(from.v[l].begin(), floats, to.v[l].begin());
  }
}

}  // namespace arbiter::cpu
