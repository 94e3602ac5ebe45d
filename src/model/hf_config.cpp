#include "model/hf_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/json_text.h"

namespace arbiter {

namespace {

using json = nlohmann::json;

struct ArchName {
  const char* prefix;
  Architecture arch;
};
constexpr ArchName kArchNames[] = {
    {"Llama", Architecture::kLlama}, {"Mistral", Architecture::kMistral}, {"Qwen2", Architecture::kQwen2},
    {"Qwen3", Architecture::kQwen3}, {"Gemma2", Architecture::kGemma2},
};

struct ArchHead {
  Architecture arch;
  HeadKind head;
  bool score_mlp = false;
  bool process_reward = false;
  int64_t fixed_labels = 0;  // a class that fixes its output count whatever config.json says; 0: it does not
  bool gated = false;        // ArmoRM's gated objectives
  bool openrlhf = false;     // OpenRLHF's reward model class: a value head named by value_head_prefix
};

Result<ArchHead> parse_architecture(const json& j, const std::string& path) {
  std::string name;
  if (j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty() &&
      j["architectures"][0].is_string()) {
    name = j["architectures"][0].get<std::string>();
  }
  for (const auto& a : kArchNames) {
    const std::string prefix = a.prefix;
    if (name == prefix + "ForCausalLM") return ArchHead{a.arch, HeadKind::kCausalLM};
    if (name == prefix + "ForSequenceClassification") return ArchHead{a.arch, HeadKind::kSequenceClassification};
  }
  // Reward models that ship their own classes with a two-layer head: Qwen's (Qwen2.5-Math-RM, one output;
  // Qwen2.5-Math-PRM, a step's two classes) and INF-ORM's (Llama, num_labels outputs).
  constexpr HeadKind kCls = HeadKind::kSequenceClassification;
  if (name == "Qwen2ForRewardModel") return ArchHead{Architecture::kQwen2, kCls, true, false, 1};
  if (name == "Qwen2ForProcessRewardModel") return ArchHead{Architecture::kQwen2, kCls, true, true, 2};
  // Skywork-o1-Open-PRM: a value head (v_head.summary, one output) read at every step's newline.
  if (name == "Qwen2ForPrmModel") return ArchHead{Architecture::kQwen2, kCls, false, true, 1};
  if (name == "INFORMForSequenceClassification") return ArchHead{Architecture::kLlama, kCls, true};
  if (name == "LlamaForRewardModelWithGating") return ArchHead{Architecture::kLlama, kCls, false, false, 0, true};
  // OpenRLHF's reward models (get_llm_for_sequence_regression): the backbone of model_type with a
  // Linear(d, 1) value head, saved under the class name RewardModel (LLMForSequenceClassification in its
  // first releases).
  const std::string model_type = j.value("model_type", std::string());
  if (name == "RewardModel" || name == "LLMForSequenceClassification") {
    for (const auto& a : kArchNames)
      if (model_type == architecture_name(a.arch)) return ArchHead{a.arch, kCls, false, false, 1, false, true};
    return error(path + ": an OpenRLHF reward model on model_type '" + model_type +
                 "' (supported: llama, mistral, qwen2, qwen3, gemma2)");
  }
  // No usable `architectures`: fall back to model_type, as a causal LM.
  for (const auto& a : kArchNames) {
    if (model_type == architecture_name(a.arch) && name.empty()) return ArchHead{a.arch, HeadKind::kCausalLM};
  }
  return error(path + ": unsupported architecture '" + (name.empty() ? model_type : name) +
               "' (supported: Llama, Mistral, Qwen2, Qwen3, Gemma2, as ForCausalLM or ForSequenceClassification; "
               "Qwen2ForRewardModel, Qwen2ForProcessRewardModel, Qwen2ForPrmModel, INFORMForSequenceClassification, "
               "LlamaForRewardModelWithGating, OpenRLHF's RewardModel)");
}

// Reads an integer field; missing gives `fallback`, a wrong type an error.
Result<int64_t> get_int(const json& j, const char* key, int64_t fallback, const std::string& path) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number_integer()) return error(path + ": field '" + key + "' must be an integer");
  return j[key].get<int64_t>();
}

Result<double> get_number(const json& j, const char* key, double fallback, const std::string& path) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number()) return error(path + ": field '" + key + "' must be a number");
  return j[key].get<double>();
}

Result<std::string> get_string(const json& j, const char* key, const std::string& fallback, const std::string& path) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_string()) return error(path + ": field '" + key + "' must be a string, not " + j[key].dump());
  return j[key].get<std::string>();
}

Result<int64_t> require_int(const json& j, const char* key, const std::string& path) {
  if (!j.contains(key)) return error(path + ": missing field '" + key + "'");
  return get_int(j, key, 0, path);
}

Status parse_rope(const json& j, ModelConfig& c, const std::string& path) {
  // transformers 5 nests everything under rope_parameters; older files use rope_theta + rope_scaling.
  json rope = json::object();
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) rope = j["rope_parameters"];
  else if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) rope = j["rope_scaling"];
  double theta_default = 10000.0;
  ARB_ASSIGN(theta_default, get_number(j, "rope_theta", theta_default, path));
  ARB_ASSIGN(c.rope_theta, get_number(rope, "rope_theta", theta_default, path));
  ARB_ASSIGN(const std::string legacy_type, get_string(rope, "type", "default", path));
  ARB_ASSIGN(const std::string type, get_string(rope, "rope_type", legacy_type, path));
  if (type == "default") {
    c.rope_scaling = RopeScaling::kNone;
  } else if (type == "linear") {
    c.rope_scaling = RopeScaling::kLinear;
    ARB_ASSIGN(c.rope_factor, get_number(rope, "factor", 1.0, path));
  } else if (type == "llama3") {
    c.rope_scaling = RopeScaling::kLlama3;
    ARB_ASSIGN(c.rope_factor, get_number(rope, "factor", 8.0, path));
    ARB_ASSIGN(c.rope_low_freq_factor, get_number(rope, "low_freq_factor", 1.0, path));
    ARB_ASSIGN(c.rope_high_freq_factor, get_number(rope, "high_freq_factor", 4.0, path));
    ARB_ASSIGN(c.rope_original_max_position, get_int(rope, "original_max_position_embeddings", 8192, path));
  } else {
    return error(path + ": unsupported rope type '" + type + "' (supported: default, linear, llama3)");
  }
  c.rope_pairing = RopePairing::kHalfSplit;
  return Status::ok();
}

Status parse_sliding_window(const json& j, ModelConfig& c, const std::string& path) {
  ARB_ASSIGN(c.sliding_window, get_int(j, "sliding_window", 0, path));
  c.layer_sliding.assign(size_t(c.num_layers), false);
  if (j.contains("layer_types") && j["layer_types"].is_array()) {
    const auto& types = j["layer_types"];
    if (int64_t(types.size()) != c.num_layers) return error(path + ": layer_types has " + std::to_string(types.size()) +
                                                            " entries for " + std::to_string(c.num_layers) + " layers");
    for (size_t i = 0; i < types.size(); ++i) {
      // Another kind of layer (chunked attention, linear attention) read as full attention would run a model
      // that is not this one.
      if (!types[i].is_string() || (types[i] != "sliding_attention" && types[i] != "full_attention"))
        return error(path + ": layer_types[" + std::to_string(i) + "] is " + types[i].dump() +
                     ": the layers served are 'full_attention' and 'sliding_attention'");
      c.layer_sliding[i] = types[i] == "sliding_attention";
    }
  } else if (c.arch == Architecture::kGemma2) {
    for (int64_t i = 0; i < c.num_layers; i += 2) c.layer_sliding[size_t(i)] = true;  // even layers slide
  } else if (c.arch == Architecture::kMistral) {
    for (int64_t i = 0; i < c.num_layers; ++i) c.layer_sliding[size_t(i)] = c.sliding_window > 0;
  } else if ((c.arch == Architecture::kQwen2 || c.arch == Architecture::kQwen3) && j.value("use_sliding_window", false)) {
    int64_t max_window_layers = 0;
    ARB_ASSIGN(max_window_layers, get_int(j, "max_window_layers", c.num_layers, path));
    for (int64_t i = max_window_layers; i < c.num_layers; ++i) c.layer_sliding[size_t(i)] = true;
  }
  bool any = false;
  for (bool s : c.layer_sliding) any = any || s;
  if (!any) c.sliding_window = 0;
  if (any && c.sliding_window <= 0) return error(path + ": sliding attention layers but no positive sliding_window");
  return Status::ok();
}

Status parse_labels(const json& j, ModelConfig& c, const std::string& path) {
  if (j.contains("id2label") && j["id2label"].is_object() && !j["id2label"].empty()) {
    const auto& labels = j["id2label"];
    c.label_names.assign(labels.size(), "");
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      size_t index = 0;
      try {
        index = std::stoul(it.key());
      } catch (...) {
        return error(path + ": id2label key '" + it.key() + "' is not an integer");
      }
      if (index >= c.label_names.size() || !it.value().is_string())
        return error(path + ": id2label entry '" + it.key() + "' is out of range or not a string");
      c.label_names[index] = it.value().get<std::string>();
    }
    c.num_labels = int64_t(c.label_names.size());
  }
  int64_t num_labels = 0;
  ARB_ASSIGN(num_labels, get_int(j, "num_labels", c.num_labels, path));
  if (num_labels > 0) c.num_labels = num_labels;
  if (c.num_labels <= 0) c.num_labels = 2;  // transformers' default when nothing is said
  if (int64_t(c.label_names.size()) != c.num_labels) c.label_names.clear();
  return Status::ok();
}

}  // namespace

static Result<ModelConfig> parse_hf_config_object(const json& j, const std::string& path);

Result<ModelConfig> parse_hf_config(const std::string& json_text, const std::string& path) {
  Result<json> parsed = parse_json_text(json_text);
  if (!parsed) return parsed.status().with_context(path);
  json j = std::move(parsed).value();
  if (!j.is_object()) return error(path + ": expected a JSON object");
  // Fields are checked for their types where they are read; nlohmann throws on any read a check missed
  // (a number where a string belongs), and the boundary turns that into an error naming the file.
  try {
    return parse_hf_config_object(j, path);
  } catch (const std::exception& e) {
    return error(path + ": " + e.what());
  }
}

// A structured field that is present must have the shape it is read as: skipping a malformed rope_scaling
// or layer_types would run the model with defaults it does not have, a silently wrong answer.
static Status check_structure(const json& j, const std::string& path) {
  const std::pair<const char*, bool> objects[] = {{"rope_parameters", true}, {"rope_scaling", true},
                                                  {"id2label", true}, {"architectures", false},
                                                  {"layer_types", false}};
  for (const auto& [key, is_object] : objects) {
    if (!j.contains(key) || j[key].is_null()) continue;
    if (is_object ? !j[key].is_object() : !j[key].is_array())
      return error(path + ": field '" + key + "' must be " + (is_object ? "an object" : "a list"));
  }
  if (j.contains("architectures") && j["architectures"].is_array())
    for (const json& name : j["architectures"])
      if (!name.is_string()) return error(path + ": field 'architectures' must list names (strings)");
  return Status::ok();
}

static Result<ModelConfig> parse_hf_config_object(const json& j, const std::string& path) {
  ModelConfig c;
  c.source_format = "safetensors";
  ARB_TRY(check_structure(j, path));
  // A pre-quantized checkpoint (bitsandbytes, GPTQ, AWQ, FP8, ...) stores weights that only its method's
  // kernels and scales make sense of; some (bitsandbytes' int8) even keep the float weights' names.
  if (j.contains("quantization_config") && !j["quantization_config"].is_null()) {
    const json& q = j["quantization_config"];
    std::string method = q.is_object() && q.contains("quant_method") && q["quant_method"].is_string()
                             ? q["quant_method"].get<std::string>() : std::string("unnamed");
    return error(path + ": the checkpoint is pre-quantized (quantization_config, quant_method '" + method +
                 "'): arbiter reads f32 / f16 / bf16 weights; use the unquantized model (arbiter's own quantization "
                 "is GGUF's: convert, then quantize)");
  }
  ARB_ASSIGN(ArchHead arch_head, parse_architecture(j, path));
  c.arch = arch_head.arch;
  c.head = arch_head.head;
  c.score_mlp = arch_head.score_mlp;
  c.process_reward = arch_head.process_reward;

  ARB_ASSIGN(c.vocab_size, require_int(j, "vocab_size", path));
  ARB_ASSIGN(c.hidden_size, require_int(j, "hidden_size", path));
  ARB_ASSIGN(c.num_layers, require_int(j, "num_hidden_layers", path));
  ARB_ASSIGN(c.num_heads, require_int(j, "num_attention_heads", path));
  ARB_ASSIGN(c.num_kv_heads, get_int(j, "num_key_value_heads", c.num_heads, path));
  ARB_ASSIGN(c.intermediate_size, require_int(j, "intermediate_size", path));
  ARB_ASSIGN(c.max_position_embeddings, get_int(j, "max_position_embeddings", 4096, path));
  // The maximum length of every run (truncation) is this: none would mean no limit at all.
  if (c.max_position_embeddings <= 0)
    return error(path + ": max_position_embeddings must be positive, got " + std::to_string(c.max_position_embeddings));
  ARB_ASSIGN(c.rms_norm_eps, get_number(j, "rms_norm_eps", 1e-6, path));
  if (const std::string problem = validate_dimensions(c); !problem.empty()) return error(path + ": " + problem);
  ARB_ASSIGN(c.head_dim, get_int(j, "head_dim", c.hidden_size / c.num_heads, path));
  c.rope_dim = c.head_dim;
  ARB_TRY(parse_rope(j, c, path));

  const bool tie_default = c.arch == Architecture::kGemma2;
  if (j.contains("tie_word_embeddings") && !j["tie_word_embeddings"].is_boolean() && !j["tie_word_embeddings"].is_null())
    return error(path + ": tie_word_embeddings is " + j["tie_word_embeddings"].dump() + ", not true or false");
  c.tie_embeddings = j.contains("tie_word_embeddings") && j["tie_word_embeddings"].is_boolean()
                         ? j["tie_word_embeddings"].get<bool>()
                         : tie_default;
  c.qkv_bias = c.arch == Architecture::kQwen2 || j.value("attention_bias", false);
  c.qk_norm = c.arch == Architecture::kQwen3;

  ARB_ASSIGN(const std::string hidden_act, get_string(j, "hidden_act", "silu", path));
  ARB_ASSIGN(const std::string act, get_string(j, "hidden_activation", hidden_act, path));
  if (act == "silu" || act == "swish") c.activation = Activation::kSilu;
  else if (act == "gelu_pytorch_tanh" || act == "gelu_tanh") c.activation = Activation::kGeluTanh;
  else return error(path + ": unsupported activation '" + act + "' (supported: silu, gelu_pytorch_tanh)");

  if (c.arch == Architecture::kGemma2) {
    c.norm_plus_one = true;
    c.post_norms = true;
    c.embedding_scale = std::sqrt(double(c.hidden_size));
    ARB_ASSIGN(c.attn_logit_softcap, get_number(j, "attn_logit_softcapping", 0.0, path));
    ARB_ASSIGN(c.final_logit_softcap, get_number(j, "final_logit_softcapping", 0.0, path));
    double query_pre_attn_scalar = 0;
    ARB_ASSIGN(query_pre_attn_scalar, get_number(j, "query_pre_attn_scalar", double(c.head_dim), path));
    if (!(query_pre_attn_scalar > 0)) return error(path + ": query_pre_attn_scalar must be positive");
    c.attention_scale = 1.0 / std::sqrt(query_pre_attn_scalar);
  }
  ARB_TRY(parse_sliding_window(j, c, path));
  if (c.is_classifier()) ARB_TRY(parse_labels(j, c, path));
  if (arch_head.fixed_labels > 0) {
    c.num_labels = arch_head.fixed_labels;
    if (int64_t(c.label_names.size()) != c.num_labels) c.label_names.clear();
  }
  // The step separators: Qwen2.5-Math-PRM's, and Skywork's (each step ends with a newline).
  if (c.process_reward) c.step_tag = c.score_mlp ? "<extra_0>" : "\n";
  if (arch_head.openrlhf) {
    // The head's name: value_head_prefix ("score" by default in OpenRLHF's later releases); checkpoints
    // older than the key used "value_head".
    c.score_layer = "value_head";
    if (j.contains("value_head_prefix")) {
      const json& prefix = j["value_head_prefix"];
      if (!prefix.is_string() || prefix.get<std::string>().empty())
        return error(path + ": field 'value_head_prefix' must be a non-empty string");
      c.score_layer = prefix.get<std::string>();
    }
    c.reward_at_eos = true;
    ARB_ASSIGN(c.reward_mean, get_number(j, "mean", 0.0, path));
    ARB_ASSIGN(c.reward_std, get_number(j, "std", 0.0, path));
    if (c.reward_std < 0 || !std::isfinite(c.reward_std) || !std::isfinite(c.reward_mean))
      return error(path + ": fields 'mean' and 'std' must be finite and 'std' not negative");
  }
  if (arch_head.gated) {
    // ArmoRM's class reads its sizes from these keys, with these defaults (num_objectives outputs).
    c.gating.enabled = true;
    ARB_ASSIGN(c.num_labels, get_int(j, "num_objectives", 19, path));
    ARB_ASSIGN(c.gating.hidden, get_int(j, "gating_hidden_dim", 1024, path));
    ARB_ASSIGN(c.gating.layers, get_int(j, "gating_n_hidden", 3, path));
    ARB_ASSIGN(c.gating.temperature, get_number(j, "gating_temperature", 10.0, path));
    if (c.num_labels <= 0 || c.gating.hidden <= 0 || c.gating.layers < 0 || c.gating.layers > 64 ||
        !(c.gating.temperature > 0))
      return error(path + ": num_objectives and gating_hidden_dim must be positive, gating_n_hidden in 0..64, "
                   "gating_temperature positive");
    if (int64_t(c.label_names.size()) != c.num_labels) c.label_names.clear();
  }

  ARB_ASSIGN(c.bos_token_id, get_int(j, "bos_token_id", -1, path));
  if (j.contains("eos_token_id") && j["eos_token_id"].is_array() && !j["eos_token_id"].empty()) {
    const json& first = j["eos_token_id"][0];  // several EOS ids: the first is the canonical one
    c.eos_token_id = first.is_number_integer() ? first.get<int64_t>() : -1;
  } else {
    ARB_ASSIGN(c.eos_token_id, get_int(j, "eos_token_id", -1, path));
  }
  ARB_ASSIGN(c.pad_token_id, get_int(j, "pad_token_id", -1, path));

  const std::string problem = validate_config(c);
  if (!problem.empty()) return error(path + ": " + problem);
  return c;
}

}  // namespace arbiter
