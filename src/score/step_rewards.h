// Process reward models (Qwen2.5-Math-PRM style): a solution is written as steps, each ended by a
// separator token; the head read at each separator gives that step's probability of being right. This
// file holds what turns those reads into a row's result.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "text/tokenizer.h"

namespace arbiter {

// How a solution's step rewards become one score for ranking (best-of-N, selection, RewardBench).
enum class StepAggregate {
  kMin,      // the weakest step (a solution is as good as its worst step)
  kProduct,  // the probability that every step is right, taking steps as independent
  kMean,
  kLast,     // the final step's reward
};
Result<StepAggregate> parse_step_aggregate(const std::string& name);  // min, product, mean, last
double aggregate_steps(const std::vector<double>& rewards, StepAggregate how);

// The separator's token id: its text must encode to exactly one token (special tokens parsed).
Result<int32_t> resolve_step_token(const Tokenizer& tokenizer, const std::string& tag);

// A causal process reward model's two step tokens, [right, wrong] (Math-Shepherd's "+", "-"): each text
// must encode to exactly one token, and the two must differ.
Result<std::vector<int32_t>> resolve_step_label_tokens(const Tokenizer& tokenizer, const std::vector<std::string>& texts);

// The response a process reward model reads: every step followed by `join` (the separator, or text holding it).
std::string join_steps(const std::vector<std::string>& steps, const std::string& join);

// A solution split at every `delimiter` (e.g. "\n\n"), pieces of only whitespace left out.
std::vector<std::string> split_steps(const std::string& text, const std::string& delimiter);

// Positions of `token` in `tokens`, ascending.
std::vector<int32_t> positions_of(const std::vector<int32_t>& tokens, int32_t token);

// A step's reward from its two head outputs [wrong, right]: softmax, the second. logits: [2]
double step_reward(const float* logits);

// Index of the first step whose reward is below `threshold`, or -1 when none is.
int64_t first_error_step(const std::vector<double>& rewards, double threshold);

}  // namespace arbiter
