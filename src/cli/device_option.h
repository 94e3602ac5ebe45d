// --device cpu|cuda|auto, taken by every command that runs a model.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "core/status.h"
#include "runtime/backend.h"

namespace arbiter::cli {

void add_device_option(CLI::App& sub, std::string& device);

// The backend the option names; errors say why a CUDA backend cannot be made (no CUDA in this build,
// no device found).
Result<std::unique_ptr<Backend>> make_command_backend(std::shared_ptr<const Model> model, const std::string& device);

}  // namespace arbiter::cli
