// A short fingerprint of a loaded model, for telling two models apart when a scoring run is resumed: its
// configuration's sizes, and of a few tensors (the embedding, the first layer's query projection, the last
// layer's down projection, the output layer) the type, size and first and last 64 KiB, with any
// classifier head whole. Not a hash of every byte, which would take seconds for a large model: two
// trainings, or two quantizations, of one model differ in far more than these bytes.
#pragma once

#include <string>

#include "model/model.h"

namespace arbiter {

// 16 hex digits (FNV-1a).
std::string model_fingerprint(const Model& model);

}  // namespace arbiter
