#include "runtime/score_head.h"

#include <algorithm>
#include <vector>

#include "core/thread_pool.h"
#include "runtime/cpu/vec.h"

namespace arbiter {

void apply_score_head(const Model& m, const float* rows, int64_t n, float* out) {
  const ModelConfig& c = m.config;
  const int64_t d = c.hidden_size, labels = c.num_labels;
  const float* x = rows;
  std::vector<float> hidden;  // score_mlp: [n, d], the first layer after the ReLU
  if (c.score_mlp) {
    // Split over the layer's d units, each weight row read once for every row: a 7B model's d x d layer
    // is 50 MB, which one thread would stream for every read position of a process reward model.
    hidden.resize(size_t(n * d));
    global_thread_pool().parallel_for(size_t(d), 16, [&](int, size_t begin, size_t end) {
      for (size_t j = begin; j < end; ++j) {
        const float* w = m.score_hidden.data() + j * size_t(d);
        for (int64_t r = 0; r < n; ++r)
          hidden[size_t(r * d) + j] = std::max(0.0f, cpu::dot(w, rows + r * d, d) + m.score_hidden_bias[j]);
      }
    });
    x = hidden.data();
  }
  for (int64_t r = 0; r < n; ++r)
    for (int64_t k = 0; k < labels; ++k)
      out[r * labels + k] = cpu::dot(m.score_head.data() + k * d, x + r * d, d) +
                            (m.score_bias.empty() ? 0.0f : m.score_bias[size_t(k)]);
}

}  // namespace arbiter
