// The CUDA backend's entry points (runtime/device.h is the public face; this header is only included
// where ARBITER_CUDA is on).
#pragma once

#include <memory>

#include "core/status.h"
#include "runtime/backend.h"

namespace arbiter::cuda {

// GPUs the CUDA runtime sees (0 without a driver or device).
int device_count();

// Makes GPU `index` the calling thread's current device (CUDA's current device is per host thread).
Status use_device(int index);

// Weights uploaded as bf16 at construction, to GPU `device_index`; every call into the backend makes that
// GPU current first, so any thread may use it. The environment variable ARBITER_CUDA_ATTENTION=simple
// selects the one-warp-per-row attention kernel instead of the tensor-core one (a check of the latter).
Result<std::unique_ptr<Backend>> make_cuda_backend(std::shared_ptr<const Model> model, int device_index = 0);
Result<std::unique_ptr<Backend>> make_random_cuda_backend(const ModelConfig& config, uint64_t seed, int device_index = 0);

Result<double> gemm_tflops(int64_t n, int repeats);

}  // namespace arbiter::cuda
