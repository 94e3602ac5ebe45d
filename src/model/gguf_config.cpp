#include "model/gguf_config.h"

#include <cmath>

namespace arbiter {

namespace {

struct MetadataReader {
  const GgufFile& gguf;
  std::string prefix;  // "<arch>."

  Result<int64_t> require_int(const std::string& key) const {
    auto v = gguf.get_int(prefix + key);
    if (!v) return error(gguf.path() + ": missing or non-integer metadata '" + prefix + key + "'");
    return *v;
  }
  int64_t int_or(const std::string& key, int64_t fallback) const {
    return gguf.get_int(prefix + key).value_or(fallback);
  }
  double number_or(const std::string& key, double fallback) const {
    return gguf.get_double(prefix + key).value_or(fallback);
  }
};

}  // namespace

Result<ModelConfig> parse_gguf_config(const GgufFile& gguf) {
  const std::string path = gguf.path();
  auto arch_name = gguf.get_string("general.architecture");
  if (!arch_name)
    return error(path + (gguf.find("general.architecture") != nullptr ? ": metadata 'general.architecture' is not a string"
                                                                       : ": missing metadata 'general.architecture'"));
  ModelConfig c;
  c.source_format = "gguf";
  if (*arch_name == "llama") c.arch = Architecture::kLlama;
  else if (*arch_name == "mistral") c.arch = Architecture::kMistral;
  else if (*arch_name == "qwen2") c.arch = Architecture::kQwen2;
  else if (*arch_name == "qwen3") c.arch = Architecture::kQwen3;
  else if (*arch_name == "gemma2") c.arch = Architecture::kGemma2;
  else return error(path + ": unsupported architecture '" + *arch_name + "' (supported: llama, mistral, qwen2, qwen3, gemma2)");

  const MetadataReader md{gguf, *arch_name + "."};
  ARB_ASSIGN(c.hidden_size, md.require_int("embedding_length"));
  ARB_ASSIGN(c.num_layers, md.require_int("block_count"));
  ARB_ASSIGN(c.intermediate_size, md.require_int("feed_forward_length"));
  ARB_ASSIGN(c.num_heads, md.require_int("attention.head_count"));
  c.num_kv_heads = md.int_or("attention.head_count_kv", c.num_heads);
  if (c.num_heads <= 0) return error(path + ": attention.head_count must be positive");
  c.head_dim = md.int_or("attention.key_length", c.hidden_size / c.num_heads);
  c.rope_dim = md.int_or("rope.dimension_count", c.head_dim);
  c.rms_norm_eps = md.number_or("attention.layer_norm_rms_epsilon", 1e-5);
  c.rope_theta = md.number_or("rope.freq_base", 10000.0);
  c.max_position_embeddings = md.int_or("context_length", 4096);
  // The maximum length of every run (truncation) is this: none would mean no limit at all.
  if (c.max_position_embeddings <= 0)
    return error(path + ": " + md.prefix + "context_length must be positive, got " + std::to_string(c.max_position_embeddings));

  if (auto vocab = md.gguf.get_int(md.prefix + "vocab_size")) {
    c.vocab_size = *vocab;
  } else if (const GgufValue* tokens = gguf.find("tokenizer.ggml.tokens")) {
    c.vocab_size = int64_t(tokens->array.size());
  } else if (const TensorView* embd = gguf.tensor("token_embd.weight")) {
    c.vocab_size = embd->shape.empty() ? 0 : embd->shape[0];
  }

  if (const std::string problem = validate_dimensions(c); !problem.empty()) return error(path + ": " + problem);

  const std::string scaling = gguf.get_string(md.prefix + "rope.scaling.type").value_or("none");
  if (scaling == "linear") {
    c.rope_scaling = RopeScaling::kLinear;
    c.rope_factor = md.number_or("rope.scaling.factor", 1.0);
  } else if (scaling != "none" && !scaling.empty()) {
    return error(path + ": unsupported rope scaling '" + scaling + "'");
  }
  // llama3 scaling arrives as per-frequency factors in the rope_freqs.weight tensor.
  c.rope_freqs_from_tensor = gguf.tensor("rope_freqs.weight") != nullptr;

  // The converter permutes llama-arch Q/K rows for adjacent-pair rotation; the others keep HF's layout.
  c.rope_pairing = (c.arch == Architecture::kLlama || c.arch == Architecture::kMistral) ? RopePairing::kAdjacent
                                                                                           : RopePairing::kHalfSplit;
  c.qkv_bias = gguf.tensor("blk.0.attn_q.bias") != nullptr;
  c.qk_norm = gguf.tensor("blk.0.attn_q_norm.weight") != nullptr;
  c.tie_embeddings = gguf.tensor("output.weight") == nullptr;

  c.layer_sliding.assign(size_t(c.num_layers), false);
  c.sliding_window = md.int_or("attention.sliding_window", 0);
  if (c.arch == Architecture::kGemma2) {
    c.activation = Activation::kGeluTanh;
    c.post_norms = true;
    c.norm_plus_one = false;  // the converter already stored (1 + w)
    c.embedding_scale = std::sqrt(double(c.hidden_size));
    c.attn_logit_softcap = md.number_or("attn_logit_softcapping", 0.0);
    c.final_logit_softcap = md.number_or("final_logit_softcapping", 0.0);
    // No query_pre_attn_scalar key exists: it equals head_dim except for Gemma2-27B, whose value is
    // hidden / heads (the rule GGUF runtimes apply by model size).
    const bool is_27b = c.num_layers == 46 && c.hidden_size == 4608;
    c.attention_scale = 1.0 / std::sqrt(is_27b ? double(c.hidden_size / c.num_heads) : double(c.head_dim));
    for (int64_t i = 0; i < c.num_layers; i += 2) c.layer_sliding[size_t(i)] = c.sliding_window > 0;
  } else if (c.sliding_window > 0) {
    c.layer_sliding.assign(size_t(c.num_layers), true);
  }

  if (const TensorView* cls = gguf.tensor(kGgufClassifierWeight)) {
    c.head = HeadKind::kSequenceClassification;
    c.num_labels = cls->shape.size() == 2 ? cls->shape[0] : 0;
    if (auto labels = gguf.get_string_array(md.prefix + "classifier.output_labels"); labels.is_ok()) {
      if (int64_t(labels->size()) == c.num_labels) c.label_names = *labels;
    }
    c.score_mlp = gguf.tensor(kGgufClassifierHiddenWeight) != nullptr;
    if (c.tie_embeddings) c.tie_embeddings = gguf.get_bool(md.prefix + kGgufClassifierTiedKey).value_or(false);
    c.reward_at_eos = gguf.get_bool(md.prefix + kGgufRewardAtEosKey).value_or(false);
    c.reward_mean = md.number_or(kGgufRewardMeanKey, 0.0);
    c.reward_std = md.number_or(kGgufRewardStdKey, 0.0);
    if (c.reward_std < 0 || !std::isfinite(c.reward_std) || !std::isfinite(c.reward_mean))
      return error(path + ": " + md.prefix + kGgufRewardStdKey + " must be finite and not negative");
    if (const TensorView* gate = gguf.tensor(gguf_gating_layer(0, "weight"))) {
      c.gating.enabled = true;
      c.gating.layers = 0;
      while (c.gating.layers < 65 && gguf.tensor(gguf_gating_layer(c.gating.layers + 1, "weight")) != nullptr)
        ++c.gating.layers;
      c.gating.hidden = gate->shape.size() == 2 ? gate->shape[0] : 0;
      c.gating.temperature = md.number_or(kGgufGatingTemperatureKey, 0.0);
      if (c.gating.layers > 64 || c.gating.hidden <= 0 || !(c.gating.temperature > 0))
        return error(path + ": a gated head needs at most 65 gating layers, a matrix for the first, and a positive " +
                     md.prefix + kGgufGatingTemperatureKey);
    }
    if (auto tag = gguf.get_string(md.prefix + "classifier.step_tag")) {
      c.process_reward = true;
      c.step_tag = *tag;
      // Two classes (wrong, right) after a two-layer head, or one value-head logit (Skywork's).
      const int64_t outputs = c.score_mlp ? 2 : 1;
      if (c.num_labels != outputs)
        return error(path + ": a process reward head " + (c.score_mlp ? "after a hidden layer" : "without a hidden layer") +
                     " needs " + std::to_string(outputs) + " output" + (outputs > 1 ? "s" : "") + ", the file has " +
                     std::to_string(c.num_labels));
    }
  }

  c.bos_token_id = gguf.get_int("tokenizer.ggml.bos_token_id").value_or(-1);
  c.eos_token_id = gguf.get_int("tokenizer.ggml.eos_token_id").value_or(-1);
  c.pad_token_id = gguf.get_int("tokenizer.ggml.padding_token_id").value_or(-1);

  const std::string problem = validate_config(c);
  if (!problem.empty()) return error(path + ": " + problem);
  return c;
}

}  // namespace arbiter
