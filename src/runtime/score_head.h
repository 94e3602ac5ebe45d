// A classifier's head on final-normed rows, shared by every backend: one Linear (transformers'
// *ForSequenceClassification), or Linear + ReLU + Linear (Qwen2ForRewardModel, Qwen2ForProcessRewardModel).
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace arbiter {

// rows: [n, d] final-normed residual rows -> out: [n, num_labels]. A gated head (ArmoRM) gives its
// objectives' rewards here, ungated.
Status apply_score_head(const Model& model, const float* rows, int64_t n, float* out);

// ArmoRM (LlamaForRewardModelWithGating): the objectives' rewards at the last token, mixed by the gating
// network read where the prompt ends: softmax(gating(gate_row) / T) * logit_scale, dotted with
// rewards @ reward_transform. gate_row, last_row: [d] final-normed -> rewards [K]; returns the score.
double gated_reward(const Model& model, const float* gate_row, const float* last_row, std::vector<double>& rewards);

// The text a gated head's gating network is read at the end of (its position is where the text starts):
// the last user turn's end and the assistant header, as Llama 3's chat template writes them.
inline constexpr const char* kGatingPatternText = "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";

}  // namespace arbiter
