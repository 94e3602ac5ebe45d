// Adam (Kingma & Ba) over one flat parameter vector, with PyTorch's defaults (beta1 0.9, beta2 0.999,
// eps 1e-8) and bias correction, so a run matches torch.optim.Adam step for step.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace arbiter::train {

struct AdamOptions {
  double lr = 0.01;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

class Adam {
 public:
  Adam(size_t num_params, AdamOptions options);
  // params -= lr * m_hat / (sqrt(v_hat) + eps); grads and params have num_params entries.
  void step(std::span<double> params, std::span<const double> grads);
  int64_t steps() const { return t_; }

 private:
  AdamOptions options_;
  std::vector<double> m_, v_;
  int64_t t_ = 0;
};

}  // namespace arbiter::train
