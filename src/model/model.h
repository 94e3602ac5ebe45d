// A loaded model: its config and its weights bound by role. Matrices are views into the mapped file in
// their stored type; small vectors (norms, biases) are converted to f32 at load, with architecture
// quirks (gemma's 1 + w) folded in, so the forward pass never branches on them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/tensor.h"
#include "model/config.h"

namespace arbiter {

class GgufFile;
class SafetensorsModel;

struct LayerWeights {
  std::vector<float> attn_norm;        // [d_model]
  TensorView wq, wk, wv, wo;           // [q_dim, d], [kv_dim, d], [kv_dim, d], [d, q_dim]
  std::vector<float> bq, bk, bv;       // qkv_bias only
  std::vector<float> q_norm, k_norm;   // qk_norm only: [head_dim]
  std::vector<float> post_attn_norm;   // post_norms only: [d]
  std::vector<float> ffn_norm;         // [d]
  TensorView w_gate, w_up, w_down;     // [d_ffn, d], [d_ffn, d], [d, d_ffn]
  std::vector<float> post_ffn_norm;    // post_norms only: [d]
};

struct Model {
  ModelConfig config;
  std::string path;
  TensorView token_embedding;          // [vocab, d]
  std::vector<LayerWeights> layers;
  std::vector<float> final_norm;       // [d]
  TensorView lm_head;                  // [vocab, d]; the embedding when tied
  // A classifier saved without an LM head (and not tied): lm_head is then the embedding only so that
  // shapes hold; its next-token logits mean nothing, and a judge refuses it.
  bool lm_head_missing = false;
  std::vector<float> score_head;       // classifiers: [num_labels, d] f32
  std::vector<float> score_bias;       // classifiers: [num_labels], usually empty
  std::vector<float> score_hidden;       // score_mlp: [d, d] f32, applied (with ReLU) before score_head
  std::vector<float> score_hidden_bias;  // score_mlp: [d]
  // Gated heads (config.gating): score_head holds the objectives' regression [K, d].
  struct DenseLayer {
    int64_t in = 0, out = 0;
    std::vector<float> weight, bias;  // [out, in], [out]
  };
  std::vector<DenseLayer> gating_layers;  // gating.layers.0 .. n: [hidden, d], ..., [K, hidden]
  float gating_logit_scale = 1.0f;        // gating.logit_scale
  std::vector<float> reward_transform;    // [K, K]: rewards (as a row) times it before the gated sum
  std::vector<float> rope_inv_freq;    // [rope_dim / 2], scaling applied

  // What keeps the mapped files (and any converted buffers) alive for the views above.
  std::shared_ptr<GgufFile> gguf;
  std::shared_ptr<SafetensorsModel> safetensors;
  std::vector<std::shared_ptr<std::vector<uint8_t>>> owned_buffers;

  int64_t parameter_count() const;
};

// Loads a model from a GGUF file (the first file of a split one) or a Hugging Face directory
// (config.json + safetensors), or from a directory without config.json that holds one GGUF model.
Result<std::shared_ptr<Model>> load_model(const std::string& path);

// The model held by an already parsed GGUF file (load_model's GGUF path after opening the file).
Result<std::shared_ptr<Model>> model_from_gguf(std::shared_ptr<GgufFile> gguf);

}  // namespace arbiter
