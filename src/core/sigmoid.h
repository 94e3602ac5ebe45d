// The logistic function, without overflow for large |x|.
#pragma once

#include <cmath>

namespace arbiter {

inline double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

}  // namespace arbiter
