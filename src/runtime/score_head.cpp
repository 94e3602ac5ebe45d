#include "runtime/score_head.h"

#include <algorithm>
#include <vector>

#include "runtime/cpu/vec.h"

namespace arbiter {

void apply_score_head(const Model& m, const float* rows, int64_t n, float* out) {
  const ModelConfig& c = m.config;
  const int64_t d = c.hidden_size, labels = c.num_labels;
  std::vector<float> hidden;  // score_mlp: [d], one row's first layer after the ReLU
  if (c.score_mlp) hidden.resize(size_t(d));
  for (int64_t r = 0; r < n; ++r) {
    const float* x = rows + r * d;
    if (c.score_mlp) {
      for (int64_t j = 0; j < d; ++j)
        hidden[size_t(j)] = std::max(0.0f, cpu::dot(m.score_hidden.data() + j * d, x, d) + m.score_hidden_bias[size_t(j)]);
      x = hidden.data();
    }
    for (int64_t k = 0; k < labels; ++k)
      out[r * labels + k] = cpu::dot(m.score_head.data() + k * d, x, d) + (m.score_bias.empty() ? 0.0f : m.score_bias[size_t(k)]);
  }
}

}  // namespace arbiter
