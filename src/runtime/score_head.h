// A classifier's head on final-normed rows, shared by every backend: one Linear (transformers'
// *ForSequenceClassification), or Linear + ReLU + Linear (Qwen2ForRewardModel, Qwen2ForProcessRewardModel).
#pragma once

#include <cstdint>

#include "core/status.h"
#include "model/model.h"

namespace arbiter {

// rows: [n, d] final-normed residual rows -> out: [n, num_labels]
Status apply_score_head(const Model& model, const float* rows, int64_t n, float* out);

}  // namespace arbiter
