#include "runtime/score_head.h"

#include <algorithm>
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

}  // namespace arbiter
