#include "convert/hf_metadata.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "model/gguf_config.h"

namespace arbiter {

const char* gguf_arch_name(Architecture arch) {
  switch (arch) {
    case Architecture::kLlama:
    case Architecture::kMistral: return "llama";
    case Architecture::kQwen2: return "qwen2";
    case Architecture::kQwen3: return "qwen3";
    case Architecture::kGemma2: return "gemma2";
  }
  return "llama";
}

std::string model_name_from_dir(const std::string& dir) {
  std::string base = std::filesystem::path(dir).lexically_normal().filename().string();
  if (base.empty()) base = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
  std::string name;
  bool after_letter = false;
  for (char ch : base) {
    if (ch == '-' || ch == '_') ch = ' ';
    const bool letter = std::isalpha(static_cast<unsigned char>(ch)) != 0;
    if (letter) ch = char(after_letter ? std::tolower(static_cast<unsigned char>(ch)) : std::toupper(static_cast<unsigned char>(ch)));
    after_letter = letter;
    name.push_back(ch);
  }
  return name;
}

std::string size_label(int64_t parameter_count) {
  const double n = double(parameter_count);
  double scaled;
  const char* suffix;
  if (n > 1e12) { scaled = n * 1e-12; suffix = "T"; }
  else if (n > 1e9) { scaled = n * 1e-9; suffix = "B"; }
  else if (n > 1e6) { scaled = n * 1e-6; suffix = "M"; }
  else { scaled = n * 1e-3; suffix = "K"; }
  // At least two significant digits: "1.5B", "213K".
  const std::string rounded = std::to_string(int64_t(std::llround(scaled)));
  size_t digits = rounded.size();
  if (rounded == "0") digits = 0;
  const int decimals = digits >= 2 ? 0 : int(2 - digits);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f%s", decimals, scaled, suffix);
  return buffer;
}

Result<GgufMetadata> model_metadata(const ModelConfig& c, const nlohmann::json& config_json,
                                    const std::string& model_name, const OutputType& type, int64_t parameter_count) {
  const std::string arch = gguf_arch_name(c.arch);
  const std::string p = arch + ".";
  GgufMetadata md;
  auto u32 = [](int64_t v) { return GgufValue::from_u32(uint32_t(v)); };
  set_metadata(md, "general.architecture", GgufValue::from_string(arch));
  set_metadata(md, "general.type", GgufValue::from_string("model"));
  set_metadata(md, "general.name", GgufValue::from_string(model_name));
  set_metadata(md, "general.size_label", GgufValue::from_string(size_label(parameter_count)));

  if (c.arch == Architecture::kGemma2) {
    set_metadata(md, p + "context_length", u32(c.max_position_embeddings));
    set_metadata(md, p + "embedding_length", u32(c.hidden_size));
    set_metadata(md, p + "block_count", u32(c.num_layers));
    set_metadata(md, p + "feed_forward_length", u32(c.intermediate_size));
    set_metadata(md, p + "attention.head_count", u32(c.num_heads));
    set_metadata(md, p + "attention.head_count_kv", u32(c.num_kv_heads));
    set_metadata(md, p + "attention.layer_norm_rms_epsilon", GgufValue::from_f32(float(c.rms_norm_eps)));
    set_metadata(md, p + "attention.key_length", u32(c.head_dim));
    set_metadata(md, p + "attention.value_length", u32(c.head_dim));
    set_metadata(md, "general.file_type", GgufValue::from_u32(type.file_type));
    set_metadata(md, p + "attn_logit_softcapping", GgufValue::from_f32(float(c.attn_logit_softcap)));
    set_metadata(md, p + "final_logit_softcapping", GgufValue::from_f32(float(c.final_logit_softcap)));
    set_metadata(md, p + "attention.sliding_window", u32(c.sliding_window));
    // The canonical converter writes no freq_base for gemma2 (readers assume 10000); writing it keeps a
    // checkpoint with another theta correct.
    set_metadata(md, p + "rope.freq_base", GgufValue::from_f32(float(c.rope_theta)));
    // GGUF has no query_pre_attn_scalar: readers use head_dim, or hidden/heads for Gemma2-27B's shape.
    const bool is_27b = c.num_layers == 46 && c.hidden_size == 4608;
    const double implied = 1.0 / std::sqrt(is_27b ? double(c.hidden_size / c.num_heads) : double(c.head_dim));
    if (std::fabs(c.effective_attention_scale() - implied) > 1e-12 * implied) {
      return error("config.json: query_pre_attn_scalar gives attention scale " + std::to_string(c.attention_scale) +
                   ", which GGUF metadata cannot express (readers assume " + std::to_string(implied) + ")");
    }
    bool alternating = true;
    for (int64_t l = 0; l < c.num_layers; ++l) alternating = alternating && c.layer_sliding[size_t(l)] == (l % 2 == 0);
    if (!alternating) return error("config.json: gemma2 sliding layers other than the even ones cannot be expressed in GGUF");
  } else {
    set_metadata(md, p + "block_count", u32(c.num_layers));
    set_metadata(md, p + "context_length", u32(c.max_position_embeddings));
    set_metadata(md, p + "embedding_length", u32(c.hidden_size));
    set_metadata(md, p + "feed_forward_length", u32(c.intermediate_size));
    set_metadata(md, p + "attention.head_count", u32(c.num_heads));
    set_metadata(md, p + "attention.head_count_kv", u32(c.num_kv_heads));
    set_metadata(md, p + "rope.freq_base", GgufValue::from_f32(float(c.rope_theta)));
    set_metadata(md, p + "attention.layer_norm_rms_epsilon", GgufValue::from_f32(float(c.rms_norm_eps)));
    // Written when config.json states head_dim, as the converter does; readers otherwise assume
    // hidden/heads, so it is also written whenever the two differ.
    if (config_json.contains("head_dim") || c.head_dim * c.num_heads != c.hidden_size) {
      set_metadata(md, p + "attention.key_length", u32(c.head_dim));
      set_metadata(md, p + "attention.value_length", u32(c.head_dim));
    }
    set_metadata(md, "general.file_type", GgufValue::from_u32(type.file_type));
    if (arch == "llama") {
      set_metadata(md, p + "vocab_size", u32(c.vocab_size));
      set_metadata(md, p + "rope.dimension_count", u32(c.rope_dim));
    }
    if (c.rope_scaling == RopeScaling::kLinear) {
      set_metadata(md, p + "rope.scaling.type", GgufValue::from_string("linear"));
      set_metadata(md, p + "rope.scaling.factor", GgufValue::from_f32(float(c.rope_factor)));
    }
    bool any_sliding = false, all_sliding = true;
    for (bool s : c.layer_sliding) {
      any_sliding = any_sliding || s;
      all_sliding = all_sliding && s;
    }
    if (any_sliding && !all_sliding) {
      return error("config.json: sliding attention on only some layers cannot be expressed in GGUF for " + arch);
    }
    if (any_sliding) set_metadata(md, p + "attention.sliding_window", u32(c.sliding_window));
  }

  if (c.is_classifier()) {
    std::vector<std::string> labels = c.label_names;
    if (int64_t(labels.size()) != c.num_labels) {
      labels.clear();  // transformers' names when config.json gives none
      for (int64_t i = 0; i < c.num_labels; ++i) labels.push_back("LABEL_" + std::to_string(i));
    }
    set_metadata(md, p + "classifier.output_labels", GgufValue::from_strings(labels));
    set_metadata(md, p + "classifier.num_labels", u32(c.num_labels));
    set_metadata(md, p + "pooling_type", GgufValue::from_u32(3));  // llama.cpp's LLAMA_POOLING_TYPE_LAST
    if (c.process_reward) set_metadata(md, p + "classifier.step_tag", GgufValue::from_string(c.step_tag));
    if (c.reward_at_eos) set_metadata(md, p + kGgufRewardAtEosKey, GgufValue::from_bool(true));
    if (c.tie_embeddings) set_metadata(md, p + kGgufClassifierTiedKey, GgufValue::from_bool(true));
    if (c.reward_std > 0) {
      set_metadata(md, p + kGgufRewardMeanKey, GgufValue::from_f32(float(c.reward_mean)));
      set_metadata(md, p + kGgufRewardStdKey, GgufValue::from_f32(float(c.reward_std)));
    }
    if (c.gating.enabled)
      set_metadata(md, p + kGgufGatingTemperatureKey, GgufValue::from_f32(float(c.gating.temperature)));
  }
  return md;
}

}  // namespace arbiter
