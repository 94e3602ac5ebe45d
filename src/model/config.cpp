#include "model/config.h"

#include <cmath>
#include <cstdint>

namespace arbiter {

const char* architecture_name(Architecture arch) {
  switch (arch) {
    case Architecture::kLlama: return "llama";
    case Architecture::kMistral: return "mistral";
    case Architecture::kQwen2: return "qwen2";
    case Architecture::kQwen3: return "qwen3";
    case Architecture::kGemma2: return "gemma2";
  }
  return "unknown";
}

double ModelConfig::effective_attention_scale() const {
  return attention_scale > 0 ? attention_scale : 1.0 / std::sqrt(double(head_dim));
}

std::string hf_score_layer_name(const ModelConfig& c) {
  if (!c.score_layer.empty()) return c.score_layer;
  if (c.score_mlp) return "score.2";
  return c.process_reward ? "v_head.summary" : "score";
}

std::string validate_dimensions(const ModelConfig& c) {
  auto positive = [](int64_t v) { return v > 0; };
  // Token ids are int32; the other bounds are far above any model's and keep a corrupt config from sizing
  // allocations.
  if (!positive(c.vocab_size) || c.vocab_size > INT32_MAX) return "vocab_size must be in 1..2147483647";
  if (!positive(c.hidden_size) || c.hidden_size > (int64_t(1) << 20)) return "hidden_size must be in 1..1048576";
  if (!positive(c.num_layers) || c.num_layers > 1024) return "num_layers must be in 1..1024";
  if (!positive(c.num_heads) || c.num_heads > 65536) return "num_attention_heads must be in 1..65536";
  if (!positive(c.num_kv_heads)) return "num_key_value_heads must be positive";
  if (c.num_heads % c.num_kv_heads != 0) return "num_attention_heads must be a multiple of num_key_value_heads";
  if (!positive(c.intermediate_size) || c.intermediate_size > (int64_t(1) << 22))
    return "intermediate_size must be in 1..4194304";
  return "";
}

std::string validate_config(const ModelConfig& c) {
  auto positive = [](int64_t v) { return v > 0; };
  if (std::string problem = validate_dimensions(c); !problem.empty()) return problem;
  if (!positive(c.head_dim)) return "head_dim must be positive";
  if (c.rope_dim <= 0 || c.rope_dim > c.head_dim || c.rope_dim % 2 != 0) return "rope dimension must be even and <= head_dim";
  // Infinite or zero values would run: every logit NaN or exactly 0, exit status 0.
  auto finite_positive = [](double v) { return std::isfinite(v) && v > 0; };
  // An epsilon is a guard against dividing by zero (1e-5, 1e-6): one of 1 or more swamps the mean square,
  // and 1e308 makes every state, so every logit, 0.
  if (!(c.rms_norm_eps > 0 && c.rms_norm_eps < 1)) return "rms_norm_eps must be a number in (0, 1)";
  if (!finite_positive(c.rope_theta)) return "rope_theta must be a finite number > 0";
  if (c.rope_scaling != RopeScaling::kNone && !finite_positive(c.rope_factor))
    return "the rope scaling factor must be a finite number > 0";
  if (c.rope_scaling == RopeScaling::kLlama3) {
    if (!finite_positive(c.rope_low_freq_factor) || !std::isfinite(c.rope_high_freq_factor) ||
        !(c.rope_high_freq_factor > c.rope_low_freq_factor))
      return "llama3 rope scaling needs 0 < low_freq_factor < high_freq_factor";
    if (c.rope_original_max_position <= 0) return "llama3 rope scaling needs original_max_position_embeddings > 0";
  }
  if (int64_t(c.layer_sliding.size()) != c.num_layers) return "per-layer sliding-window pattern has the wrong length";
  if (c.is_classifier() && !positive(c.num_labels)) return "a sequence-classification model needs num_labels > 0";
  if (c.process_reward && (c.num_labels < 1 || c.num_labels > 2))
    return "a process reward model has one output (a value head) or two (wrong, right), not " + std::to_string(c.num_labels);
  return "";
}

}  // namespace arbiter
