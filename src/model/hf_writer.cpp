#include "model/hf_writer.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "io/safetensors.h"

namespace arbiter {

namespace {

const char* arch_class_prefix(Architecture arch) {
  switch (arch) {
    case Architecture::kLlama: return "Llama";
    case Architecture::kMistral: return "Mistral";
    case Architecture::kQwen2: return "Qwen2";
    case Architecture::kQwen3: return "Qwen3";
    case Architecture::kGemma2: return "Gemma2";
  }
  return "Llama";
}

OwnedTensor matrix_tensor(const std::string& name, const TensorView& view) {
  OwnedTensor t;
  t.name = name;
  t.shape = view.shape;
  if (view.dtype == DType::F32 || view.dtype == DType::F16 || view.dtype == DType::BF16) {
    t.dtype = view.dtype;
    const auto* bytes = static_cast<const uint8_t*>(view.data);
    t.bytes.assign(bytes, bytes + view.nbytes);
  } else {
    std::vector<float> values(static_cast<size_t>(view.numel()));
    dequantize_row(view.dtype, view.data, values.data(), view.numel());
    t = make_f32_tensor(name, view.shape, values);
  }
  return t;
}

// Norm weights as the checkpoint stores them: gemma keeps w where the model multiplies by (1 + w).
OwnedTensor norm_tensor(const std::string& name, const std::vector<float>& values, bool minus_one) {
  std::vector<float> stored = values;
  if (minus_one)
    for (float& v : stored) v -= 1.0f;
  return make_f32_tensor(name, {int64_t(stored.size())}, stored);
}

}  // namespace

std::string hf_config_json(const ModelConfig& c) {
  nlohmann::ordered_json j;
  const char* head_class = !c.is_classifier()  ? "ForCausalLM"
                           : c.process_reward  ? (c.score_mlp ? "ForProcessRewardModel" : "ForPrmModel")
                           : !c.score_mlp      ? "ForSequenceClassification"
                                               : "ForRewardModel";
  // A two-layer head on Llama is INF-ORM's class, the only one that reads it.
  j["architectures"] = {c.score_mlp && c.arch == Architecture::kLlama
                            ? std::string("INFORMForSequenceClassification")
                            : std::string(arch_class_prefix(c.arch)) + head_class};
  j["model_type"] = architecture_name(c.arch);
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_layers;
  j["num_attention_heads"] = c.num_heads;
  j["num_key_value_heads"] = c.num_kv_heads;
  j["head_dim"] = c.head_dim;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope_theta;
  j["tie_word_embeddings"] = c.tie_embeddings;
  j["hidden_act"] = c.activation == Activation::kSilu ? "silu" : "gelu_pytorch_tanh";
  j["torch_dtype"] = "float32";
  if (c.bos_token_id >= 0) j["bos_token_id"] = c.bos_token_id;
  if (c.eos_token_id >= 0) j["eos_token_id"] = c.eos_token_id;
  if (c.pad_token_id >= 0) j["pad_token_id"] = c.pad_token_id;
  if (c.is_classifier()) {
    j["num_labels"] = c.num_labels;
    nlohmann::ordered_json id2label = nlohmann::ordered_json::object(), label2id = nlohmann::ordered_json::object();
    for (int64_t i = 0; i < c.num_labels; ++i) {
      const std::string name = size_t(i) < c.label_names.size() ? c.label_names[size_t(i)] : "LABEL_" + std::to_string(i);
      id2label[std::to_string(i)] = name;
      label2id[name] = i;
    }
    j["id2label"] = id2label;
    j["label2id"] = label2id;
  }
  return j.dump(2) + "\n";
}

Status write_hf_model(const Model& m, const std::string& dir) {
  const ModelConfig& c = m.config;
  if (c.gating.enabled) return error("writing a gated multi-objective head (LlamaForRewardModelWithGating) is not supported");
  if (!c.score_layer.empty() || c.reward_at_eos) return error("writing an OpenRLHF reward model (RewardModel) is not supported");
  if (c.process_reward && c.arch != Architecture::kQwen2)
    return error("a process reward model is written only for qwen2 (Qwen2ForProcessRewardModel, Qwen2ForPrmModel)");
  if (c.score_mlp && !(c.arch == Architecture::kQwen2 || (c.arch == Architecture::kLlama && !c.process_reward)))
    return error("a two-layer reward head is written only for qwen2 (Qwen2ForRewardModel, Qwen2ForProcessRewardModel) "
                 "and llama (INFORMForSequenceClassification)");
  if (c.arch == Architecture::kGemma2 || c.rope_scaling != RopeScaling::kNone || c.sliding_window > 0)
    return error("writing a Hugging Face directory supports llama, mistral, qwen2 and qwen3 without rope scaling "
                 "or sliding windows");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return error(dir + ": cannot create directory: " + ec.message());
  std::vector<OwnedTensor> tensors;
  tensors.push_back(matrix_tensor("model.embed_tokens.weight", m.token_embedding));
  for (size_t l = 0; l < m.layers.size(); ++l) {
    const LayerWeights& w = m.layers[l];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    tensors.push_back(norm_tensor(p + "input_layernorm.weight", w.attn_norm, c.norm_plus_one));
    tensors.push_back(matrix_tensor(p + "self_attn.q_proj.weight", w.wq));
    tensors.push_back(matrix_tensor(p + "self_attn.k_proj.weight", w.wk));
    tensors.push_back(matrix_tensor(p + "self_attn.v_proj.weight", w.wv));
    tensors.push_back(matrix_tensor(p + "self_attn.o_proj.weight", w.wo));
    if (c.qkv_bias) {
      tensors.push_back(make_f32_tensor(p + "self_attn.q_proj.bias", {c.q_dim()}, w.bq));
      tensors.push_back(make_f32_tensor(p + "self_attn.k_proj.bias", {c.kv_dim()}, w.bk));
      tensors.push_back(make_f32_tensor(p + "self_attn.v_proj.bias", {c.kv_dim()}, w.bv));
    }
    if (c.qk_norm) {
      tensors.push_back(norm_tensor(p + "self_attn.q_norm.weight", w.q_norm, c.norm_plus_one));
      tensors.push_back(norm_tensor(p + "self_attn.k_norm.weight", w.k_norm, c.norm_plus_one));
    }
    tensors.push_back(norm_tensor(p + "post_attention_layernorm.weight", w.ffn_norm, c.norm_plus_one));
    tensors.push_back(matrix_tensor(p + "mlp.gate_proj.weight", w.w_gate));
    tensors.push_back(matrix_tensor(p + "mlp.up_proj.weight", w.w_up));
    tensors.push_back(matrix_tensor(p + "mlp.down_proj.weight", w.w_down));
  }
  tensors.push_back(norm_tensor("model.norm.weight", m.final_norm, c.norm_plus_one));
  if (!c.tie_embeddings && !c.is_classifier()) tensors.push_back(matrix_tensor("lm_head.weight", m.lm_head));
  if (c.is_classifier()) {
    const int64_t d = c.hidden_size;
    const std::string head = hf_score_layer_name(c);
    if (c.score_mlp) {
      tensors.push_back(make_f32_tensor("score.0.weight", {d, d}, m.score_hidden));
      tensors.push_back(make_f32_tensor("score.0.bias", {d}, m.score_hidden_bias));
    }
    tensors.push_back(make_f32_tensor(head + ".weight", {c.num_labels, d}, m.score_head));
    if (!m.score_bias.empty()) tensors.push_back(make_f32_tensor(head + ".bias", {c.num_labels}, m.score_bias));
  }

  ARB_TRY(write_safetensors((std::filesystem::path(dir) / "model.safetensors").string(), tensors, {{"format", "pt"}}));
  return write_file_atomically((std::filesystem::path(dir) / "config.json").string(), hf_config_json(c));
}

}  // namespace arbiter
