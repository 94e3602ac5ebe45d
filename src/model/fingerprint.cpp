#include "model/fingerprint.h"

#include <algorithm>

#include <cstdio>

#include "core/fnv1a.h"
#include "model/model_tokenizer.h"

namespace arbiter {

namespace {

constexpr size_t kEdgeBytes = 64 << 10;

void add_text(std::string& bytes, const std::string& text) {
  bytes += text;
  bytes.push_back('\n');
}

void add_tensor(std::string& bytes, const TensorView& t) {
  add_text(bytes, t.name + " " + dtype_name(t.dtype) + " " + t.shape_string() + " " + std::to_string(t.nbytes));
  if (t.data == nullptr) return;
  const char* data = static_cast<const char*>(t.data);
  const size_t head = std::min(t.nbytes, kEdgeBytes);
  bytes.append(data, head);
  if (t.nbytes > head) bytes.append(data + t.nbytes - std::min(t.nbytes - head, kEdgeBytes), std::min(t.nbytes - head, kEdgeBytes));
}

void add_floats(std::string& bytes, const std::vector<float>& values) {
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

}  // namespace

std::string model_fingerprint(const Model& model) {
  const ModelConfig& c = model.config;
  std::string bytes;
  add_text(bytes, std::string(architecture_name(c.arch)) + " " + std::to_string(c.vocab_size) + " " +
                      std::to_string(c.hidden_size) + " " + std::to_string(c.num_layers) + " " +
                      std::to_string(c.num_labels));
  add_tensor(bytes, model.token_embedding);
  if (!model.layers.empty()) {
    add_tensor(bytes, model.layers.front().wq);
    add_tensor(bytes, model.layers.back().w_down);
  }
  add_tensor(bytes, model.lm_head);
  add_floats(bytes, model.final_norm);
  add_floats(bytes, model.score_head);
  add_floats(bytes, model.score_bias);
  add_floats(bytes, model.score_hidden);
  return fnv1a64_hex(bytes);
}

namespace {

void add_number(std::string& bytes, const char* name, double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%s=%.17g\n", name, value);
  bytes += text;
}

}  // namespace

std::string config_fingerprint(const ModelConfig& c) {
  std::string bytes;
  add_text(bytes, std::string(architecture_name(c.arch)));
  const std::pair<const char*, double> numbers[] = {
      {"head", double(int(c.head))}, {"vocab", double(c.vocab_size)}, {"hidden", double(c.hidden_size)},
      {"layers", double(c.num_layers)}, {"heads", double(c.num_heads)}, {"kv_heads", double(c.num_kv_heads)},
      {"head_dim", double(c.head_dim)}, {"ffn", double(c.intermediate_size)}, {"eps", c.rms_norm_eps},
      {"rope_theta", c.rope_theta}, {"rope_dim", double(c.rope_dim)}, {"rope_pairing", double(int(c.rope_pairing))},
      {"rope_scaling", double(int(c.rope_scaling))}, {"rope_factor", c.rope_factor},
      {"rope_low", c.rope_low_freq_factor}, {"rope_high", c.rope_high_freq_factor},
      {"rope_original", double(c.rope_original_max_position)}, {"rope_freqs_tensor", double(c.rope_freqs_from_tensor)},
      {"qkv_bias", double(c.qkv_bias)}, {"qk_norm", double(c.qk_norm)}, {"tied", double(c.tie_embeddings)},
      {"norm_plus_one", double(c.norm_plus_one)}, {"post_norms", double(c.post_norms)},
      {"activation", double(int(c.activation))}, {"embedding_scale", c.embedding_scale},
      {"attn_softcap", c.attn_logit_softcap}, {"final_softcap", c.final_logit_softcap},
      {"attention_scale", c.attention_scale}, {"window", double(c.sliding_window)}, {"labels", double(c.num_labels)},
      {"score_mlp", double(c.score_mlp)}, {"reward_at_eos", double(c.reward_at_eos)}, {"reward_mean", c.reward_mean},
      {"reward_std", c.reward_std}, {"process_reward", double(c.process_reward)}, {"gating", double(c.gating.enabled)},
      {"gating_hidden", double(c.gating.hidden)}, {"gating_layers", double(c.gating.layers)},
      {"gating_temperature", c.gating.temperature}, {"bos", double(c.bos_token_id)}, {"eos", double(c.eos_token_id)},
      {"pad", double(c.pad_token_id)}};
  for (const auto& [name, value] : numbers) add_number(bytes, name, value);
  std::string sliding;
  for (const bool s : c.layer_sliding) sliding += s ? '1' : '0';
  add_text(bytes, "sliding " + sliding);
  for (const std::string& label : c.label_names) add_text(bytes, "label " + label);
  add_text(bytes, "score_layer " + c.score_layer);
  add_text(bytes, "step_tag " + c.step_tag);
  return fnv1a64_hex(bytes);
}

ModelDigests model_digests(const Model& model, bool formats_with_own_template) {
  ModelDigests digests;
  if (formats_with_own_template) {
    const std::string own = describe_text_assets(model).chat_template;
    if (!own.empty()) digests.chat_template = fnv1a64_hex(own);
  }
  digests.tokenizer = tokenizer_fingerprint(model);
  digests.config = config_fingerprint(model.config);
  return digests;
}

}  // namespace arbiter
