#include "cli/device_option.h"

#include "runtime/device.h"

namespace arbiter::cli {

void add_device_option(CLI::App& sub, std::string& device) {
  sub.add_option("--device", device,
                 "where the model runs: cpu (arithmetic as --cpu-matmul says), cuda (bf16 on the first GPU), cuda:N (on "
                 "GPU N, counted as CUDA_VISIBLE_DEVICES leaves them), or auto (cuda when built in and a GPU is present)")
      ->default_val("cpu");
}

Result<std::unique_ptr<Backend>> make_command_backend(std::shared_ptr<const Model> model, const std::string& device) {
  ARB_ASSIGN(const DeviceChoice parsed, parse_device(device));
  return make_backend(std::move(model), parsed);
}

}  // namespace arbiter::cli
