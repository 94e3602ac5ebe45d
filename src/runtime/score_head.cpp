#include "runtime/score_head.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/thread_pool.h"
#include "runtime/cpu/matmul.h"
#include "runtime/cpu/vec.h"

namespace arbiter {

Status apply_score_head(const Model& m, const float* rows, int64_t n, float* out) {
  const ModelConfig& c = m.config;
  const int64_t d = c.hidden_size, labels = c.num_labels;
  const float* x = rows;
  std::vector<float> hidden;  // score_mlp: [n, d], the first layer after the ReLU
  if (c.score_mlp) {
    // The d x d layer (50 MB of f32 for a 7B model) is read once per call. Many rows (a process reward
    // model's step separators, a batch of responses) go through the blocked matmul, 4-7x faster per row
    // than dot products; one or two rows are a matrix-vector product, where the matmul's preparation
    // of the weights costs more than it saves (bench/micro/score_head_bench.cpp).
    hidden.resize(size_t(n * d));
    if (n <= 2) {
      global_thread_pool().parallel_for(size_t(d), 16, [&](int, size_t begin, size_t end) {
        for (size_t j = begin; j < end; ++j)
          for (int64_t r = 0; r < n; ++r)
            hidden[size_t(r * d) + j] = cpu::dot(m.score_hidden.data() + j * size_t(d), rows + r * d, d);
      });
    } else {
      TensorView w1;
      w1.name = "score.0.weight";
      w1.dtype = DType::F32;
      w1.shape = {d, d};
      w1.data = m.score_hidden.data();
      w1.nbytes = m.score_hidden.size() * sizeof(float);
      ARB_TRY(matmul(w1, rows, n, d, hidden.data(), d));
    }
    for (int64_t r = 0; r < n; ++r)
      for (int64_t j = 0; j < d; ++j) {
        float& h = hidden[size_t(r * d + j)];
        h = std::max(0.0f, h + m.score_hidden_bias[size_t(j)]);
      }
    x = hidden.data();
  }
  for (int64_t r = 0; r < n; ++r)
    for (int64_t k = 0; k < labels; ++k)
      out[r * labels + k] = cpu::dot(m.score_head.data() + k * d, x + r * d, d) +
                            (m.score_bias.empty() ? 0.0f : m.score_bias[size_t(k)]);
  return Status::ok();
}

double gated_reward(const Model& m, const float* gate_row, const float* last_row, std::vector<double>& rewards) {
  const ModelConfig& c = m.config;
  const int64_t d = c.hidden_size, k = c.num_labels;
  // The gating network: Linear + ReLU per hidden layer, then Linear to K, softmax at the temperature.
  std::vector<double> x(gate_row, gate_row + d);
  for (size_t i = 0; i < m.gating_layers.size(); ++i) {
    const Model::DenseLayer& layer = m.gating_layers[i];
    std::vector<double> y(size_t(layer.out));
    for (int64_t o = 0; o < layer.out; ++o) {
      double acc = layer.bias[size_t(o)];
      for (int64_t j = 0; j < layer.in; ++j) acc += double(layer.weight[size_t(o * layer.in + j)]) * x[size_t(j)];
      y[size_t(o)] = i + 1 < m.gating_layers.size() ? std::max(acc, 0.0) : acc;
    }
    x = std::move(y);
  }
  double top = -INFINITY, z = 0.0;
  for (double v : x) top = std::max(top, v / c.gating.temperature);
  for (double& v : x) z += (v = std::exp(v / c.gating.temperature - top));
  // The objectives at the last token, [K]; then rewards @ transform, gated.
  rewards.assign(size_t(k), 0.0);
  for (int64_t o = 0; o < k; ++o)
    for (int64_t j = 0; j < d; ++j) rewards[size_t(o)] += double(m.score_head[size_t(o * d + j)]) * double(last_row[j]);
  double score = 0.0;
  for (int64_t j = 0; j < k; ++j) {
    double adjusted = 0.0;
    for (int64_t i = 0; i < k; ++i) adjusted += rewards[size_t(i)] * double(m.reward_transform[size_t(i * k + j)]);
    score += x[size_t(j)] / z * double(m.gating_logit_scale) * adjusted;
  }
  return score;
}

}  // namespace arbiter
