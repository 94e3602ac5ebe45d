// A short fingerprint of a loaded model, for telling two models apart when a scoring run is resumed: its
// configuration's sizes, and of a few tensors (the embedding, the first layer's query projection, the last
// layer's down projection, the output layer) the type, size and first and last 64 KiB, with any
// classifier head whole. Not a hash of every byte, which would take seconds for a large model: two
// trainings, or two quantizations, of one model differ in far more than these bytes.
#pragma once

#include <string>

#include "core/model_digests.h"
#include "model/model.h"

namespace arbiter {

// 16 hex digits (FNV-1a).
std::string model_fingerprint(const Model& model);

// 16 hex digits of the configuration as read (every hyper-parameter that decides the outputs: RoPE, norm
// epsilon, activation, soft-caps, windows, head, special token ids): an edited rope_theta changes every
// score, and the weights' fingerprint does not see it.
std::string config_fingerprint(const ModelConfig& config);

// The digests of what decides a run's sequences and outputs besides the weights (core/model_digests.h),
// for `model`: its own chat template where `formats_with_own_template`, its tokenizer files, its
// configuration.
ModelDigests model_digests(const Model& model, bool formats_with_own_template);

}  // namespace arbiter
