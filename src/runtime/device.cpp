#include "runtime/device.h"

#include <charconv>

#ifdef ARBITER_HAVE_CUDA
#include "runtime/cuda/cublas_api.h"
#include "runtime/cuda/cuda_backend.h"
#endif

namespace arbiter {

namespace {

constexpr const char* kNoCudaBuild =
    "this build has no CUDA support (configure with -DARBITER_CUDA=ON where the CUDA toolkit is installed)";

}  // namespace

Result<DeviceChoice> parse_device(const std::string& name) {
  if (name == "auto") return DeviceChoice(Device::kAuto);
  if (name == "cpu") return DeviceChoice(Device::kCpu);
  if (name == "cuda") return DeviceChoice(Device::kCuda);
  if (name.rfind("cuda:", 0) == 0) {
    const std::string digits = name.substr(5);
    int index = -1;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec == std::errc() && end == digits.data() + digits.size() && index >= 0 && !digits.empty())
      return DeviceChoice(Device::kCuda, index);
  }
  return error("--device: '" + name + "' is not one of cpu, cuda, cuda:N (a GPU index), auto");
}

std::string device_name(const DeviceChoice& device) {
  if (device.kind == Device::kCuda && device.cuda_index != 0) return "cuda:" + std::to_string(device.cuda_index);
  return device_name(device.kind);
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

Result<DeviceChoice> resolve_device(DeviceChoice requested) {
  if (requested.kind == Device::kCpu) return requested;
  const int count = cuda_compiled() ? cuda_device_count() : 0;
  if (requested.kind == Device::kAuto) return count > 0 ? DeviceChoice(Device::kCuda) : DeviceChoice(Device::kCpu);
  const std::string option = "--device " + device_name(requested) + ": ";
  if (!cuda_compiled()) return error(option + kNoCudaBuild);
  if (count == 0) return error(option + "no CUDA device found (no GPU, or no driver that this build's CUDA runtime can use)");
  if (requested.cuda_index >= count)
    return error(option + "the CUDA runtime sees " + std::to_string(count) + (count == 1 ? " GPU" : " GPUs") + " (cuda:0" +
                 (count > 1 ? " .. cuda:" + std::to_string(count - 1) : std::string()) +
                 "; CUDA_VISIBLE_DEVICES, when set, chooses and renumbers them)");
  return requested;
}

Result<std::unique_ptr<Backend>> make_backend(std::shared_ptr<const Model> model, DeviceChoice device) {
  ARB_ASSIGN(const DeviceChoice resolved, resolve_device(device));
  if (resolved.kind == Device::kCpu) return make_cpu_backend(std::move(model));
#ifdef ARBITER_HAVE_CUDA
  return cuda::make_cuda_backend(std::move(model), resolved.cuda_index);
#else
  return error(kNoCudaBuild);
#endif
}

Result<std::unique_ptr<Backend>> make_random_cuda_backend(const ModelConfig& config, uint64_t seed, int cuda_index) {
  ARB_TRY(resolve_device(DeviceChoice(Device::kCuda, cuda_index)).status());
#ifdef ARBITER_HAVE_CUDA
  return cuda::make_random_cuda_backend(config, seed, cuda_index);
#else
  (void)seed;
  return error(kNoCudaBuild);
#endif
}

Result<double> cuda_gemm_tflops(int64_t n, int repeats, int cuda_index) {
  ARB_TRY(resolve_device(DeviceChoice(Device::kCuda, cuda_index)).status());
#ifdef ARBITER_HAVE_CUDA
  ARB_TRY(cuda::use_device(cuda_index));
  return cuda::gemm_tflops(n, repeats);
#else
  (void)n;
  (void)repeats;
  return error(kNoCudaBuild);
#endif
}

}  // namespace arbiter
