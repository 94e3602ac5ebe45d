// RoPE inverse frequencies with the scaling rules of the supported checkpoints.
#pragma once

#include <vector>

#include "model/config.h"

namespace arbiter {

// [rope_dim / 2] inverse frequencies theta^(-2i/rope_dim), scaled per config.rope_scaling; when
// `freq_factors` is non-empty (GGUF llama3 files), each frequency is divided by its factor instead.
std::vector<float> rope_inverse_frequencies(const ModelConfig& config, const std::vector<float>& freq_factors);

}  // namespace arbiter
