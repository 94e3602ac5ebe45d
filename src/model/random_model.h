// Models with random weights at real shapes: for benchmarks (throughput does not depend on the values)
// and as the pipeline check when no real model is at hand. Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace arbiter {

// Named shapes: "tiny" (64 hidden, 2 layers), "qwen2.5-0.5b", "llama-3.2-1b", "llama-3-8b". The vocabulary
// is 512 unless `vocab_size` is set, so the output layer does not dominate a prefill benchmark.
Result<ModelConfig> shape_preset(const std::string& name, int64_t vocab_size = 512);
std::vector<std::string> shape_preset_names();

// Every matrix in `matrix_type` (quantized from normal(0, std) values; a block type whose blocks do not
// divide a matrix's rows gives it the type llama.cpp would: row_type_or_fallback), norms near 1, biases small.
Result<std::shared_ptr<Model>> make_random_model(const ModelConfig& config, DType matrix_type, uint64_t seed,
                                                 float weight_std = 0.02f);

}  // namespace arbiter
