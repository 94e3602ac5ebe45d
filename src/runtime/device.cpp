#include "runtime/device.h"

#ifdef ARBITER_HAVE_CUDA
#include "runtime/cuda/cublas_api.h"
#include "runtime/cuda/cuda_backend.h"
#endif

namespace arbiter {

namespace {

constexpr const char* kNoCudaBuild =
    "this build has no CUDA support (configure with -DARBITER_CUDA=ON where the CUDA toolkit is installed)";

}  // namespace

Result<Device> parse_device(const std::string& name) {
  if (name == "auto") return Device::kAuto;
  if (name == "cpu") return Device::kCpu;
  if (name == "cuda") return Device::kCuda;
  return error("--device: '" + name + "' is not one of cpu, cuda, auto");
}

const char* device_name(Device device) {
  switch (device) {
    case Device::kAuto: return "auto";
    case Device::kCpu: return "cpu";
    case Device::kCuda: return "cuda";
  }
  return "?";
}

bool cuda_compiled() {
#ifdef ARBITER_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

int cuda_device_count() {
#ifdef ARBITER_HAVE_CUDA
  return cuda::device_count();
#else
  return 0;
#endif
}

Status load_cuda_libraries() {
#ifdef ARBITER_HAVE_CUDA
  ARB_TRY(cuda::cublas_api().status());
  return Status::ok();
#else
  return error(kNoCudaBuild);
#endif
}

Result<Device> resolve_device(Device requested) {
  if (requested == Device::kCpu) return Device::kCpu;
  const bool present = cuda_compiled() && cuda_device_count() > 0;
  if (requested == Device::kAuto) return present ? Device::kCuda : Device::kCpu;
  if (!cuda_compiled()) return error(std::string("--device cuda: ") + kNoCudaBuild);
  if (!present) return error("--device cuda: no CUDA device found (no GPU, or no driver that this build's CUDA runtime can use)");
  return Device::kCuda;
}

Result<std::unique_ptr<Backend>> make_backend(std::shared_ptr<const Model> model, Device device) {
  ARB_ASSIGN(const Device resolved, resolve_device(device));
  if (resolved == Device::kCpu) return make_cpu_backend(std::move(model));
#ifdef ARBITER_HAVE_CUDA
  return cuda::make_cuda_backend(std::move(model));
#else
  return error(kNoCudaBuild);
#endif
}

Result<std::unique_ptr<Backend>> make_random_cuda_backend(const ModelConfig& config, uint64_t seed) {
  ARB_TRY(resolve_device(Device::kCuda).status());
#ifdef ARBITER_HAVE_CUDA
  return cuda::make_random_cuda_backend(config, seed);
#else
  return error(kNoCudaBuild);
#endif
}

Result<double> cuda_gemm_tflops(int64_t n, int repeats) {
  ARB_TRY(resolve_device(Device::kCuda).status());
#ifdef ARBITER_HAVE_CUDA
  return cuda::gemm_tflops(n, repeats);
#else
  (void)n;
  (void)repeats;
  return error(kNoCudaBuild);
#endif
}

}  // namespace arbiter
