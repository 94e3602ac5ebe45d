// GGUF metadata -> ModelConfig, for the architectures llama (also Mistral, which the converter writes as
// llama), qwen2, qwen3 and gemma2.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "io/gguf.h"
#include "model/config.h"

namespace arbiter {

Result<ModelConfig> parse_gguf_config(const GgufFile& gguf);

// Tensor names of a classification head in GGUF files; the labels live in `<arch>.classifier.output_labels`.
inline constexpr const char* kGgufClassifierWeight = "cls.output.weight";
inline constexpr const char* kGgufClassifierBias = "cls.output.bias";
// A two-layer head's first layer (Linear + ReLU). Not llama.cpp's `cls.weight`, which it follows by tanh:
// a file with this head is refused there rather than read wrongly.
inline constexpr const char* kGgufClassifierHiddenWeight = "cls.relu.weight";
inline constexpr const char* kGgufClassifierHiddenBias = "cls.relu.bias";

// ArmoRM's gated multi-objective head (LlamaForRewardModelWithGating): the objectives' regression is
// cls.output.weight [K, d]; the gating network's layers cls.gating.N.weight / .bias (N = 0 .. gating_n_hidden,
// the last one giving K outputs), its scale cls.gating.logit_scale [1], the reward transform
// cls.reward_transform.weight [K, K], and the softmax temperature `<arch>.classifier.gating_temperature`.
// Only arbiter reads these: llama.cpp refuses a file whose tensors it does not know.
// OpenRLHF's reward models read their reward at an EOS after the conversation (ModelConfig::reward_at_eos):
// `<arch>.classifier.reward_at_eos` = true.
inline constexpr const char* kGgufRewardAtEosKey = "classifier.reward_at_eos";  // after "<arch>."
// And the reward's mean and standard deviation OpenRLHF saves beside it (ModelConfig::reward_mean, _std).
inline constexpr const char* kGgufRewardMeanKey = "classifier.reward_mean";  // after "<arch>."
inline constexpr const char* kGgufRewardStdKey = "classifier.reward_std";    // after "<arch>."

// A classifier without output.weight: whether its LM head is the token embedding (tie_word_embeddings, as
// Qwen2.5-0.5B's and Gemma2's are) or it was saved without one (most 7-8B reward models). GGUF has no key
// for tying (a causal LM without output.weight is tied); arbiter writes `<arch>.classifier.tied_embeddings`,
// and a classifier file without it is read as having no LM head, so that it is not judged on its embedding.
inline constexpr const char* kGgufClassifierTiedKey = "classifier.tied_embeddings";  // after "<arch>."

inline constexpr const char* kGgufGatingLogitScale = "cls.gating.logit_scale";
inline constexpr const char* kGgufRewardTransform = "cls.reward_transform.weight";
inline constexpr const char* kGgufGatingTemperatureKey = "classifier.gating_temperature";  // after "<arch>."
inline std::string gguf_gating_layer(int64_t layer, const char* part) {
  return "cls.gating." + std::to_string(layer) + "." + part;
}

}  // namespace arbiter
