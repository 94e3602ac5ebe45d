#include "convert/hf_tensor_names.h"

#include "model/gguf_config.h"

#include <cctype>

namespace arbiter {

namespace {

struct LayerName {
  const char* hf;    // after "model.layers.N."
  const char* gguf;  // after "blk.N."
};

// Llama's post_attention_layernorm is the norm before the MLP; Gemma2's is a true post-attention norm.
constexpr LayerName kCommonLayerNames[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};
constexpr LayerName kLlamaLayerNames[] = {{"post_attention_layernorm.weight", "ffn_norm.weight"}};
constexpr LayerName kGemmaLayerNames[] = {
    {"post_attention_layernorm.weight", "post_attention_norm.weight"},
    {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},
    {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"},
};

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
std::optional<std::string> map_layer_name(const ModelConfig& c, const std::string& rest, const std::string& layer) {
  for (const LayerName& n : kCommonLayerNames)
    if (rest == n.hf) return "blk." + layer + "." + n.gguf;
  if (c.post_norms) {
    for (const LayerName& n : kGemmaLayerNames)
      if (rest == n.hf) return "blk." + layer + "." + n.gguf;
  } else {
    for (const LayerName& n : kLlamaLayerNames)
      if (rest == n.hf) return "blk." + layer + "." + n.gguf;
  }
  return std::nullopt;
}

}  // namespace

MappedName map_hf_tensor_name(const ModelConfig& c, const std::string& hf_name) {
  if (hf_name.ends_with("rotary_emb.inv_freq")) return {TensorFate::kSkip, ""};
  if (hf_name == "lm_head.weight") {
    // Gemma2 always ties; a tied checkpoint may still carry a copy of the embedding.
    if (c.tie_embeddings || c.arch == Architecture::kGemma2) return {TensorFate::kSkip, ""};
    return {TensorFate::kConvert, "output.weight"};
  }
  // OpenRLHF's first reward model class kept its reward's mean and std as tensors too; config.json's
  // values (ModelConfig::reward_mean, _std) are what is read.
  if (c.reward_at_eos && (hf_name == "mean" || hf_name == "std")) return {TensorFate::kSkip, ""};
  if (c.gating.enabled) {
    if (hf_name == "regression_layer.weight") return {TensorFate::kConvert, kGgufClassifierWeight};
    if (hf_name == "reward_transform_matrix") return {TensorFate::kConvert, kGgufRewardTransform};
    if (hf_name == "gating.logit_scale") return {TensorFate::kConvert, kGgufGatingLogitScale};
    for (int64_t i = 0; i <= c.gating.layers; ++i)
      for (const char* part : {"weight", "bias"})
        if (hf_name == "gating.layers." + std::to_string(i) + "." + part)
          return {TensorFate::kConvert, gguf_gating_layer(i, part)};
  } else if (c.score_mlp) {
    if (hf_name == "score.0.weight") return {TensorFate::kConvert, kGgufClassifierHiddenWeight};
    if (hf_name == "score.0.bias") return {TensorFate::kConvert, kGgufClassifierHiddenBias};
    if (hf_name == "score.2.weight") return {TensorFate::kConvert, kGgufClassifierWeight};
    if (hf_name == "score.2.bias") return {TensorFate::kConvert, kGgufClassifierBias};
  } else if (c.is_classifier()) {
    const std::string head = hf_score_layer_name(c);
    if (hf_name == head + ".weight") return {TensorFate::kConvert, kGgufClassifierWeight};
    if (hf_name == head + ".bias") return {TensorFate::kConvert, kGgufClassifierBias};
  }
  const std::string name = starts_with(hf_name, "model.") ? hf_name.substr(6) : hf_name;
  if (name == "embed_tokens.weight") return {TensorFate::kConvert, "token_embd.weight"};
  if (name == "norm.weight") return {TensorFate::kConvert, "output_norm.weight"};
  if (starts_with(name, "layers.")) {
    size_t i = 7;
    std::string layer;
    while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) layer.push_back(name[i++]);
    if (!layer.empty() && i < name.size() && name[i] == '.' && std::stoll(layer) < c.num_layers) {
      if (auto mapped = map_layer_name(c, name.substr(i + 1), layer)) return {TensorFate::kConvert, *mapped};
    }
  }
  return {TensorFate::kUnknown, ""};
}

std::vector<std::string> required_hf_tensors(const ModelConfig& c) {
  std::vector<std::string> names = {"model.embed_tokens.weight", "model.norm.weight"};
  // lm_head is not required: a checkpoint without one is read as tied, by transformers and arbiter alike.
  if (c.gating.enabled) {
    for (const char* n : {"regression_layer.weight", "reward_transform_matrix", "gating.logit_scale"}) names.push_back(n);
    for (int64_t i = 0; i <= c.gating.layers; ++i)
      for (const char* part : {".weight", ".bias"}) names.push_back("gating.layers." + std::to_string(i) + part);
  } else if (c.is_classifier() && c.score_mlp) {
    for (const char* n : {"score.0.weight", "score.0.bias", "score.2.weight"}) names.push_back(n);
  } else if (c.is_classifier()) {
    names.push_back(hf_score_layer_name(c) + ".weight");
  }
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const char* n : {"input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
                          "self_attn.v_proj.weight", "self_attn.o_proj.weight", "mlp.gate_proj.weight",
                          "mlp.up_proj.weight", "mlp.down_proj.weight", "post_attention_layernorm.weight"})
      names.push_back(p + n);
    if (c.qkv_bias)
      for (const char* n : {"self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias"}) names.push_back(p + n);
    if (c.qk_norm)
      for (const char* n : {"self_attn.q_norm.weight", "self_attn.k_norm.weight"}) names.push_back(p + n);
    if (c.post_norms)
      for (const char* n : {"pre_feedforward_layernorm.weight", "post_feedforward_layernorm.weight"}) names.push_back(p + n);
  }
  return names;
}

}  // namespace arbiter
