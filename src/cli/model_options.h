// Parsing helpers shared by the subcommands that run a model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace arbiter::cli {

// "1,2,3" -> ids; errors name the bad element.
Result<std::vector<int32_t>> parse_int_list(const std::string& text, const std::string& what);

// "all" -> 0..num_layers; else a comma list of layer indices in 0..num_layers (negative counts from the end).
Result<std::vector<int32_t>> parse_layer_list(const std::string& text, int64_t num_layers);

}  // namespace arbiter::cli
