// Shared by the GPU tests: skipping where no GPU can run them, the fixture folder, the error measure.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "runtime/device.h"

namespace arbiter::cuda_test {

// Never a silent pass: a test that cannot reach a GPU says so and is counted as skipped.
#define ARBITER_SKIP_WITHOUT_GPU()                                                                   \
  do {                                                                                               \
    if (!::arbiter::cuda_compiled()) GTEST_SKIP() << "this build has no CUDA support (ARBITER_CUDA=OFF)"; \
    if (::arbiter::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device found: GPU test not run";   \
  } while (0)

// The reference fixtures: $ARBITER_SHARED_DIR where set (a copy that travelled with the binaries), else
// the checkout's ../shared.
inline std::string shared_dir() {
  const char* env = std::getenv("ARBITER_SHARED_DIR");
  return env && *env ? std::string(env) : std::string(ARBITER_SHARED_DIR);
}

// max |ours - ref| / max |ref| (the parity measure of the CPU tests); infinite for NaN or a size mismatch.
inline double relative_max_error(const std::vector<float>& ours, const std::vector<float>& ref) {
  if (ours.size() != ref.size()) return INFINITY;
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double diff = std::fabs(double(ours[i]) - double(ref[i]));
    if (std::isnan(diff)) return INFINITY;
    max_diff = std::max(max_diff, diff);
    max_ref = std::max(max_ref, std::fabs(double(ref[i])));
  }
  return max_diff / std::max(max_ref, 1e-30);
}

// Sets ARBITER_CUDA_ATTENTION for the backends made in its lifetime.
class AttentionKernelChoice {
 public:
  explicit AttentionKernelChoice(bool simple) {
    if (simple) setenv("ARBITER_CUDA_ATTENTION", "simple", 1);
    else unsetenv("ARBITER_CUDA_ATTENTION");
  }
  ~AttentionKernelChoice() { unsetenv("ARBITER_CUDA_ATTENTION"); }
};

}  // namespace arbiter::cuda_test
