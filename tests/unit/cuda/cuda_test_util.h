// Shared by the GPU tests: skipping where no GPU can run them, the fixture folder, the error measure.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "../../support/reference_parity.h"
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

// max |ours - ref| / max |ref| (the parity measure of the CPU tests).
using arbiter::testing::relative_max_error;

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
