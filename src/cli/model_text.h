// The text side of a model for the CLI: its tokenizer, found next to the weights.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace arbiter::cli {

Result<std::vector<int32_t>> encode_text_for_model(const Model& model, const std::string& text, bool add_special);

}  // namespace arbiter::cli
