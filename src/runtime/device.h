// Which backend runs a model: the CPU one, or the CUDA one when this build has it and a GPU is present.
// Every command that runs a model takes --device cpu|cuda|auto and makes its backend here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "runtime/backend.h"

namespace arbiter {

enum class Device { kAuto, kCpu, kCuda };

// A --device value: the kind, and for CUDA which GPU (an index among those the CUDA runtime sees, so after
// CUDA_VISIBLE_DEVICES has chosen). Converts from a bare Device (GPU 0).
struct DeviceChoice {
  DeviceChoice(Device kind = Device::kCpu, int cuda_index = 0) : kind(kind), cuda_index(cuda_index) {}
  bool operator==(const DeviceChoice&) const = default;

  Device kind;
  int cuda_index;
};

// "auto", "cpu", "cuda" or "cuda:N" (case-sensitive, as the other option values).
Result<DeviceChoice> parse_device(const std::string& name);
const char* device_name(Device device);
std::string device_name(const DeviceChoice& device);  // "cuda:1"; "cuda" for GPU 0

// Whether this build has the CUDA backend (configured with ARBITER_CUDA).
bool cuda_compiled();
// GPUs the CUDA runtime sees; 0 when the build has no CUDA, no driver is installed or no GPU is present.
int cuda_device_count();
// Loads cuBLAS, which a CUDA build opens only when its backend starts (runtime/cuda/cublas_api.h); the
// error names the files tried. Needs no GPU.
Status load_cuda_libraries();

// auto -> cuda (GPU 0) when compiled in and a device is present, else cpu. cuda -> an error naming why it
// cannot run ("this build has no CUDA support", "no CUDA device found", a GPU index the runtime does not
// see); cpu -> cpu.
Result<DeviceChoice> resolve_device(DeviceChoice requested);

Result<std::unique_ptr<Backend>> make_backend(std::shared_ptr<const Model> model, DeviceChoice device);

// Benchmarks on the GPU without a weights file: a model of `config` whose bf16 weights are drawn at
// random directly in device memory (an 8B model needs no 16 GB host copy). Errors as resolve_device.
Result<std::unique_ptr<Backend>> make_random_cuda_backend(const ModelConfig& config, uint64_t seed, int cuda_index = 0);

// The rate of one cuBLAS bf16 GEMM (n x n x n, f32 accumulation, random operands) in TFLOP/s: the median
// of `repeats` after warm-ups, the ceiling that model FLOP rates are compared against.
Result<double> cuda_gemm_tflops(int64_t n, int repeats, int cuda_index = 0);

}  // namespace arbiter
