// Binds a file's tensors to the roles of Model, checking every shape. HF and GGUF name the same weights
// differently; one table maps each role to both spellings.
#include <cmath>
#include <filesystem>
#include <functional>
#include <set>

#include "core/half.h"
#include "core/log.h"
#include "core/mapped_file.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "model/gguf_config.h"
#include "model/hf_config.h"
#include "model/model.h"
#include "model/model_path.h"
#include "model/rope.h"

namespace arbiter {

namespace {

// The per-layer roles; `hf` is relative to "model.layers.N.", `gguf` to "blk.N.".
struct LayerTensorNames {
  const char* hf;
  const char* gguf;
};
constexpr LayerTensorNames kAttnNorm{"input_layernorm.weight", "attn_norm.weight"};
constexpr LayerTensorNames kWq{"self_attn.q_proj.weight", "attn_q.weight"};
constexpr LayerTensorNames kWk{"self_attn.k_proj.weight", "attn_k.weight"};
constexpr LayerTensorNames kWv{"self_attn.v_proj.weight", "attn_v.weight"};
constexpr LayerTensorNames kWo{"self_attn.o_proj.weight", "attn_output.weight"};
constexpr LayerTensorNames kBq{"self_attn.q_proj.bias", "attn_q.bias"};
constexpr LayerTensorNames kBk{"self_attn.k_proj.bias", "attn_k.bias"};
constexpr LayerTensorNames kBv{"self_attn.v_proj.bias", "attn_v.bias"};
constexpr LayerTensorNames kQNorm{"self_attn.q_norm.weight", "attn_q_norm.weight"};
constexpr LayerTensorNames kKNorm{"self_attn.k_norm.weight", "attn_k_norm.weight"};
constexpr LayerTensorNames kWGate{"mlp.gate_proj.weight", "ffn_gate.weight"};
constexpr LayerTensorNames kWUp{"mlp.up_proj.weight", "ffn_up.weight"};
constexpr LayerTensorNames kWDown{"mlp.down_proj.weight", "ffn_down.weight"};
// Llama's "post_attention_layernorm" is the norm before the MLP; Gemma2 has a true post-attention norm
// and a separate pre-feedforward norm.
constexpr LayerTensorNames kFfnNormLlama{"post_attention_layernorm.weight", "ffn_norm.weight"};
constexpr LayerTensorNames kPostAttnNormGemma{"post_attention_layernorm.weight", "post_attention_norm.weight"};
constexpr LayerTensorNames kFfnNormGemma{"pre_feedforward_layernorm.weight", "ffn_norm.weight"};
constexpr LayerTensorNames kPostFfnNormGemma{"post_feedforward_layernorm.weight", "post_ffw_norm.weight"};

class Binder {
 public:
  Binder(std::string file, bool is_gguf, std::function<const TensorView*(const std::string&)> find)
      : file_(std::move(file)), is_gguf_(is_gguf), find_(std::move(find)) {}

  std::string layer_name(int64_t layer, const LayerTensorNames& names) const {
    return is_gguf_ ? "blk." + std::to_string(layer) + "." + names.gguf
                    : "model.layers." + std::to_string(layer) + "." + names.hf;
  }

  const std::string& file() const { return file_; }

  // HF checkpoints saved from a bare model lack the "model." prefix; accept both. Every tensor found is
  // remembered as read (unread_tensors).
  const TensorView* find(const std::string& name) const {
    const TensorView* t = find_(name);
    if (t == nullptr && !is_gguf_ && name.rfind("model.", 0) == 0) t = find_(name.substr(6));
    if (t != nullptr) read_.insert(t->name);
    return t;
  }

  // The tensors of `all` that no role read: a checkpoint's parts the model would silently go without.
  std::vector<std::string> unread_tensors(const std::vector<const TensorView*>& all) const {
    std::vector<std::string> unread;
    for (const TensorView* t : all)
      if (!read_.count(t->name)) unread.push_back(t->name);
    return unread;
  }

  Result<TensorView> matrix(const std::string& name, int64_t rows, int64_t cols) const {
    const TensorView* t = find(name);
    if (t == nullptr) return error(file_ + ": missing tensor '" + name + "'");
    if (t->shape.size() != 2 || t->shape[0] != rows || t->shape[1] != cols) {
      return error(file_ + ": tensor '" + name + "' has shape " + t->shape_string() + ", expected [" +
                   std::to_string(rows) + ", " + std::to_string(cols) + "]");
    }
    ARB_TRY(check_float_storage(*t));
    return *t;
  }

  // A 1-D tensor as f32, plus `offset` added to every element (gemma's 1 + w).
  Result<std::vector<float>> vector(const std::string& name, int64_t n, float offset = 0.0f) const {
    const TensorView* t = find(name);
    if (t == nullptr) return error(file_ + ": missing tensor '" + name + "'");
    if (t->numel() != n || t->shape.size() > 2) {
      return error(file_ + ": tensor '" + name + "' has shape " + t->shape_string() + ", expected [" +
                   std::to_string(n) + "]");
    }
    return to_f32(*t, offset);
  }

  Result<std::vector<float>> to_f32(const TensorView& t, float offset = 0.0f) const {
    ARB_TRY(check_float_storage(t));
    if (t.numel() % dtype_info(t.dtype).block_elems != 0) {
      return error(file_ + ": tensor '" + t.name + "' has unsupported type " + dtype_name(t.dtype));
    }
    std::vector<float> out(size_t(t.numel()));
    dequantize_row(t.dtype, t.data, out.data(), t.numel());
    if (offset != 0.0f) {
      for (float& v : out) v += offset;
    }
    return out;
  }

 private:
  // A parameter stored as integers is not a float parameter that arbiter can read as numbers: it is a
  // pre-quantized checkpoint's (bitsandbytes' int8 weights keep their scales in other tensors), and read
  // as it stands it would give scores of the right shape and no meaning.
  Status check_float_storage(const TensorView& t) const {
    switch (t.dtype) {
      case DType::I8: case DType::I16: case DType::I32: case DType::I64:
        return error(file_ + ": tensor '" + t.name + "' is stored as " + dtype_name(t.dtype) +
                     " (integers), not as floating-point weights: a pre-quantized checkpoint (bitsandbytes, GPTQ, "
                     "AWQ), whose scales arbiter does not read; use the unquantized model (arbiter's own quantization "
                     "is GGUF's: convert, then quantize)");
      default: break;
    }
    if (!can_dequantize(t.dtype)) return error(file_ + ": tensor '" + t.name + "' has unsupported type " + dtype_name(t.dtype));
    return Status::ok();
  }

  std::string file_;
  bool is_gguf_;
  std::function<const TensorView*(const std::string&)> find_;
  mutable std::set<std::string> read_;
};

// Tensors a checkpoint may hold that no role reads, and that change nothing: older Llama checkpoints'
// RoPE inverse frequencies (recomputed from the configuration), and an output layer a tied model does not
// use (the embedding is its output layer).
bool harmless_unread(const std::string& name, const ModelConfig& c) {
  if (name.find("rotary_emb.inv_freq") != std::string::npos) return true;
  if (c.tie_embeddings && (name == "lm_head.weight" || name == "output.weight")) return true;
  return false;
}

// Warns of tensors the model does not read (as transformers warns of unused weights): an extra bias or a
// part of another variant would otherwise be dropped without a word.
void warn_unread(const Binder& b, const std::vector<const TensorView*>& all, const ModelConfig& c) {
  std::vector<std::string> unread;
  for (std::string& name : b.unread_tensors(all))
    if (!harmless_unread(name, c)) unread.push_back(std::move(name));
  if (unread.empty()) return;
  std::string listed;
  for (size_t i = 0; i < unread.size() && i < 4; ++i) listed += (i ? ", '" : "'") + unread[i] + "'";
  if (unread.size() > 4) listed += ", ...";
  log_warn(b.file() + ": " + std::to_string(unread.size()) + " tensor" + (unread.size() == 1 ? " is" : "s are") +
           " not read by the " + architecture_name(c.arch) + " model (" + listed +
           "): they take no part in its outputs; if the checkpoint is of another variant, its scores are not the model's");
}

Status bind_layers(const Binder& b, Model& m) {
  const ModelConfig& c = m.config;
  const int64_t d = c.hidden_size, ffn = c.intermediate_size;
  const float norm_offset = c.norm_plus_one ? 1.0f : 0.0f;
  m.layers.resize(size_t(c.num_layers));
  for (int64_t l = 0; l < c.num_layers; ++l) {
    LayerWeights& w = m.layers[size_t(l)];
    auto name = [&](const LayerTensorNames& n) { return b.layer_name(l, n); };
    ARB_ASSIGN(w.attn_norm, b.vector(name(kAttnNorm), d, norm_offset));
    ARB_ASSIGN(w.wq, b.matrix(name(kWq), c.q_dim(), d));
    ARB_ASSIGN(w.wk, b.matrix(name(kWk), c.kv_dim(), d));
    ARB_ASSIGN(w.wv, b.matrix(name(kWv), c.kv_dim(), d));
    ARB_ASSIGN(w.wo, b.matrix(name(kWo), d, c.q_dim()));
    if (c.qkv_bias) {
      ARB_ASSIGN(w.bq, b.vector(name(kBq), c.q_dim()));
      ARB_ASSIGN(w.bk, b.vector(name(kBk), c.kv_dim()));
      ARB_ASSIGN(w.bv, b.vector(name(kBv), c.kv_dim()));
    }
    if (c.qk_norm) {
      ARB_ASSIGN(w.q_norm, b.vector(name(kQNorm), c.head_dim, norm_offset));
      ARB_ASSIGN(w.k_norm, b.vector(name(kKNorm), c.head_dim, norm_offset));
    }
    if (c.post_norms) {
      ARB_ASSIGN(w.post_attn_norm, b.vector(name(kPostAttnNormGemma), d, norm_offset));
      ARB_ASSIGN(w.ffn_norm, b.vector(name(kFfnNormGemma), d, norm_offset));
      ARB_ASSIGN(w.post_ffn_norm, b.vector(name(kPostFfnNormGemma), d, norm_offset));
    } else {
      ARB_ASSIGN(w.ffn_norm, b.vector(name(kFfnNormLlama), d, norm_offset));
    }
    ARB_ASSIGN(w.w_gate, b.matrix(name(kWGate), ffn, d));
    ARB_ASSIGN(w.w_up, b.matrix(name(kWUp), ffn, d));
    ARB_ASSIGN(w.w_down, b.matrix(name(kWDown), d, ffn));
  }
  // A layer count that says fewer layers than the file holds would run a model cut short, silently.
  for (const LayerTensorNames* names : {&kAttnNorm, &kWq, &kWDown}) {
    const std::string beyond = b.layer_name(c.num_layers, *names);
    if (b.find(beyond) != nullptr)
      return error(b.file() + ": holds tensor '" + beyond + "' past the " + std::to_string(c.num_layers) +
                   " layers its configuration gives (block_count / num_hidden_layers)");
  }
  return Status::ok();
}

// ArmoRM (LlamaForRewardModelWithGating): the objectives' regression, the reward transform, and the
// gating network's layers, as transformers names them or as gguf_config.h does.
Status bind_gated_head(const Binder& b, bool is_gguf, Model& m) {
  const ModelConfig& c = m.config;
  const int64_t d = c.hidden_size, k = c.num_labels;
  ARB_ASSIGN(TensorView regression, b.matrix(is_gguf ? kGgufClassifierWeight : "regression_layer.weight", k, d));
  ARB_ASSIGN(m.score_head, b.to_f32(regression));
  ARB_ASSIGN(TensorView transform, b.matrix(is_gguf ? kGgufRewardTransform : "reward_transform_matrix", k, k));
  ARB_ASSIGN(m.reward_transform, b.to_f32(transform));
  ARB_ASSIGN(std::vector<float> scale, b.vector(is_gguf ? kGgufGatingLogitScale : "gating.logit_scale", 1));
  m.gating_logit_scale = scale[0];
  int64_t in = d;
  for (int64_t i = 0; i <= c.gating.layers; ++i) {
    const std::string hf_name = "gating.layers." + std::to_string(i);
    Model::DenseLayer layer;
    layer.in = in;
    layer.out = i < c.gating.layers ? c.gating.hidden : k;
    ARB_ASSIGN(TensorView w, b.matrix(is_gguf ? gguf_gating_layer(i, "weight") : hf_name + ".weight", layer.out, layer.in));
    ARB_ASSIGN(layer.weight, b.to_f32(w));
    ARB_ASSIGN(layer.bias, b.vector(is_gguf ? gguf_gating_layer(i, "bias") : hf_name + ".bias", layer.out));
    in = layer.out;
    m.gating_layers.push_back(std::move(layer));
  }
  return Status::ok();
}

Status bind_model(const Binder& b, bool is_gguf, Model& m) {
  const ModelConfig& c = m.config;
  const int64_t d = c.hidden_size;
  const float norm_offset = c.norm_plus_one ? 1.0f : 0.0f;
  ARB_ASSIGN(m.token_embedding, b.matrix(is_gguf ? "token_embd.weight" : "model.embed_tokens.weight", c.vocab_size, d));
  ARB_TRY(bind_layers(b, m));
  ARB_ASSIGN(m.final_norm, b.vector(is_gguf ? "output_norm.weight" : "model.norm.weight", d, norm_offset));

  if (c.gating.enabled) {
    ARB_TRY(bind_gated_head(b, is_gguf, m));
  } else if (c.is_classifier()) {
    // HF names a one-layer head `score`, a two-layer one `score.0` (Linear) and `score.2` (after the ReLU).
    const std::string hf_head = hf_score_layer_name(c);
    const std::string head_name = is_gguf ? kGgufClassifierWeight : hf_head + ".weight";
    ARB_ASSIGN(TensorView head, b.matrix(head_name, c.num_labels, d));
    ARB_ASSIGN(m.score_head, b.to_f32(head));
    const std::string bias_name = is_gguf ? kGgufClassifierBias : hf_head + ".bias";
    if (b.find(bias_name) != nullptr) {
      ARB_ASSIGN(m.score_bias, b.vector(bias_name, c.num_labels));
    }
    if (c.score_mlp) {
      ARB_ASSIGN(TensorView hidden, b.matrix(is_gguf ? kGgufClassifierHiddenWeight : "score.0.weight", d, d));
      ARB_ASSIGN(m.score_hidden, b.to_f32(hidden));
      ARB_ASSIGN(m.score_hidden_bias, b.vector(is_gguf ? kGgufClassifierHiddenBias : "score.0.bias", d));
    }
  }
  // Classifiers may still carry an LM head; causal models need one (or a tied embedding).
  const std::string lm_name = is_gguf ? "output.weight" : "lm_head.weight";
  if (!c.tie_embeddings && b.find(lm_name) != nullptr) {
    ARB_ASSIGN(m.lm_head, b.matrix(lm_name, c.vocab_size, d));
  } else if (c.tie_embeddings || c.is_classifier() || b.find(lm_name) == nullptr) {
    m.lm_head = m.token_embedding;
    if (!c.tie_embeddings && !c.is_classifier()) m.config.tie_embeddings = true;
    m.lm_head_missing = c.is_classifier() && !c.tie_embeddings;
  }

  std::vector<float> freq_factors;
  if (c.rope_freqs_from_tensor) {
    ARB_ASSIGN(freq_factors, b.vector("rope_freqs.weight", c.rope_dim / 2));
  }
  m.rope_inv_freq = rope_inverse_frequencies(c, freq_factors);
  return Status::ok();
}

// transformers keeps a bf16 model's RoPE inverse frequencies in bf16; matching that keeps a bf16
// checkpoint's outputs equal to what its users get from transformers.
bool stored_in_bf16(const Model& m) { return m.layers.empty() ? false : m.layers[0].wq.dtype == DType::BF16; }

Result<std::shared_ptr<Model>> load_gguf(const std::string& path) {
  ARB_ASSIGN(auto gguf, GgufFile::open(path));
  return model_from_gguf(std::move(gguf));
}

Result<std::shared_ptr<Model>> load_hf_dir(const std::string& dir) {
  const std::string config_path = (std::filesystem::path(dir) / "config.json").string();
  ARB_ASSIGN(std::string config_text, read_file(config_path));
  auto model = std::make_shared<Model>();
  model->path = dir;
  ARB_ASSIGN(model->config, parse_hf_config(config_text, config_path));
  ARB_ASSIGN(model->safetensors, SafetensorsModel::open_dir(dir));
  auto st = model->safetensors;
  Binder binder(dir, false, [&](const std::string& name) { return st->tensor(name); });
  ARB_TRY(bind_model(binder, false, *model));
  warn_unread(binder, st->tensors(), model->config);
  if (stored_in_bf16(*model)) {
    for (float& f : model->rope_inv_freq) f = bf16_to_f32(f32_to_bf16(f));
  }
  return model;
}

}  // namespace

int64_t Model::parameter_count() const {
  int64_t n = token_embedding.numel() + int64_t(final_norm.size()) + int64_t(score_head.size()) +
              int64_t(score_bias.size() + score_hidden.size() + score_hidden_bias.size() + reward_transform.size());
  for (const DenseLayer& g : gating_layers) n += int64_t(g.weight.size() + g.bias.size());
  if (lm_head.data != token_embedding.data) n += lm_head.numel();
  for (const LayerWeights& w : layers) {
    n += w.wq.numel() + w.wk.numel() + w.wv.numel() + w.wo.numel() + w.w_gate.numel() + w.w_up.numel() +
         w.w_down.numel();
    n += int64_t(w.attn_norm.size() + w.bq.size() + w.bk.size() + w.bv.size() + w.q_norm.size() + w.k_norm.size() +
                 w.post_attn_norm.size() + w.ffn_norm.size() + w.post_ffn_norm.size());
  }
  return n;
}

Result<std::shared_ptr<Model>> model_from_gguf(std::shared_ptr<GgufFile> gguf) {
  auto model = std::make_shared<Model>();
  model->path = gguf->path();
  model->gguf = gguf;
  ARB_ASSIGN(model->config, parse_gguf_config(*gguf));
  Binder binder(model->path, true, [&](const std::string& name) { return gguf->tensor(name); });
  ARB_TRY(bind_model(binder, true, *model));
  std::vector<const TensorView*> all;
  for (const TensorView& t : gguf->tensors()) all.push_back(&t);
  warn_unread(binder, all, model->config);
  return model;
}

Result<std::shared_ptr<Model>> load_model(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    if (std::filesystem::exists(std::filesystem::path(path) / "config.json", ec)) return load_hf_dir(path);
    ARB_ASSIGN(const std::optional<std::string> gguf, gguf_model_in_directory(path));
    if (!gguf) return error(path + ": not a model: no config.json (a Hugging Face model) and no .gguf file");
    log_info("loading " + *gguf);
    return load_gguf(*gguf);
  }
  if (!std::filesystem::exists(path, ec)) return error(path + ": no such file or directory");
  return load_gguf(path);
}

}  // namespace arbiter
