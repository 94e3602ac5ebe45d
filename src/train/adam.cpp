#include "train/adam.h"

#include <cmath>

namespace arbiter::train {

Adam::Adam(size_t num_params, AdamOptions options) : options_(options), m_(num_params, 0.0), v_(num_params, 0.0) {}

void Adam::step(std::span<double> params, std::span<const double> grads) {
  ++t_;
  const double correction1 = 1.0 - std::pow(options_.beta1, double(t_));
  const double correction2 = 1.0 - std::pow(options_.beta2, double(t_));
  for (size_t i = 0; i < params.size(); ++i) {
    m_[i] = options_.beta1 * m_[i] + (1.0 - options_.beta1) * grads[i];
    v_[i] = options_.beta2 * v_[i] + (1.0 - options_.beta2) * grads[i] * grads[i];
    const double m_hat = m_[i] / correction1;
    const double v_hat = v_[i] / correction2;
    params[i] -= options_.lr * m_hat / (std::sqrt(v_hat) + options_.eps);
  }
}

}  // namespace arbiter::train
