// The bookkeeping of greedy decoding shared by every backend: argmax, stop rules, the caller's accept
// hook and the reads kept. A backend supplies only the step that runs the model.
#pragma once

#include "runtime/backend.h"

namespace arbiter {

// Runs the model on the given sequences (indices into the prompts) and returns, for each, the outputs
// at its last position with full logits ([1, vocab]) plus what the read options ask for. `texts[s]`
// is prompt s followed by what it has written so far; the step sees a sequence again only after it
// grew by exactly one token.
using GreedyStep = std::function<Result<std::vector<SequenceOutput>>(const std::vector<size_t>& active,
                                                                     const std::vector<std::vector<int32_t>>& texts,
                                                                     const ForwardOptions& step_options)>;

Result<std::vector<Generation>> run_greedy(const Model& model, const std::vector<SequenceInput>& prompts,
                                           const GenerateOptions& options, const GreedyStep& step);

}  // namespace arbiter
