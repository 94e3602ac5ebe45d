// ModelConfig: one struct for every supported architecture. Llama, Mistral, Qwen2, Qwen3 and Gemma2 differ
// only in the switches below; the forward pass honours them, so adding an architecture is a mapping from
// config.json or GGUF metadata onto these fields, not a new forward pass.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace arbiter {

enum class Architecture { kLlama, kMistral, kQwen2, kQwen3, kGemma2 };
const char* architecture_name(Architecture arch);

enum class Activation { kSilu, kGeluTanh };

enum class RopeScaling { kNone, kLinear, kLlama3 };

// Which pairs of a head's dimensions RoPE rotates together. HF checkpoints rotate (i, i + head_dim/2)
// ("rotate_half"); GGUF llama-arch files have Q/K rows permuted by the converter so that adjacent pairs
// (2i, 2i + 1) are rotated instead. The captured residual stream is the same either way.
enum class RopePairing { kHalfSplit, kAdjacent };

enum class HeadKind { kCausalLM, kSequenceClassification };

struct ModelConfig {
  Architecture arch = Architecture::kLlama;
  HeadKind head = HeadKind::kCausalLM;

  int64_t vocab_size = 0;
  int64_t hidden_size = 0;         // d_model
  int64_t num_layers = 0;          // L
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;            // may differ from hidden_size / num_heads (qwen3)
  int64_t intermediate_size = 0;   // d_ffn
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-5;

  double rope_theta = 10000.0;
  int64_t rope_dim = 0;            // rotated dimensions per head (= head_dim unless partial)
  RopePairing rope_pairing = RopePairing::kHalfSplit;
  RopeScaling rope_scaling = RopeScaling::kNone;
  double rope_factor = 1.0;                  // linear and llama3
  double rope_low_freq_factor = 1.0;         // llama3
  double rope_high_freq_factor = 4.0;        // llama3
  int64_t rope_original_max_position = 8192;  // llama3
  bool rope_freqs_from_tensor = false;       // GGUF llama3: per-frequency divisors in rope_freqs.weight

  bool qkv_bias = false;           // qwen2
  bool qk_norm = false;            // qwen3: RMSNorm over head_dim on q and k
  bool tie_embeddings = false;
  bool norm_plus_one = false;      // gemma HF checkpoints store w where the norm multiplies by (1 + w)
  bool post_norms = false;         // gemma2: norms after attention and after the MLP
  Activation activation = Activation::kSilu;
  double embedding_scale = 1.0;    // gemma: sqrt(hidden_size)
  double attn_logit_softcap = 0.0;   // 0 = off
  double final_logit_softcap = 0.0;  // 0 = off
  double attention_scale = 0.0;      // multiplier of q.k; 0 = 1/sqrt(head_dim)
  int64_t sliding_window = 0;        // 0 = none
  std::vector<bool> layer_sliding;   // per layer: whether the sliding window applies

  int64_t num_labels = 0;            // sequence classification
  std::vector<std::string> label_names;  // id2label in order, may be empty
  // The head is Linear(d, d) + ReLU + Linear(d, num_labels) instead of one Linear (Qwen2ForRewardModel,
  // Qwen2ForProcessRewardModel: `score.0`, `score.2`).
  bool score_mlp = false;
  // A one-layer head's Hugging Face name when it is not `score` (OpenRLHF's `value_head_prefix`).
  std::string score_layer;
  // The reward is read at an end-of-sequence token after the conversation, as OpenRLHF trains its reward
  // models: the rendered text's trailing newlines dropped and " " + EOS appended unless it ends with EOS
  // (a sequence cut to the length limit ends with EOS too).
  bool reward_at_eos = false;
  // The mean and standard deviation of the reward over held-out data, which OpenRLHF saves in config.json
  // (its `--normalize_reward` serves (r - mean) / std); std 0: none saved.
  double reward_mean = 0.0, reward_std = 0.0;
  // A process reward model: the head is read at every step separator (`step_tag`, one token) rather than
  // at the last token. Two outputs (Qwen2ForProcessRewardModel): their softmax's second is the probability
  // that the step is right; one output (Skywork's Qwen2ForPrmModel, a value head): its sigmoid is.
  bool process_reward = false;
  std::string step_tag;
  // ArmoRM's gated multi-objective head (LlamaForRewardModelWithGating): num_labels objective rewards read
  // at the last token, mixed by a gating network read where the prompt ends (the last user turn's end).
  struct Gating {
    bool enabled = false;
    int64_t hidden = 1024;      // gating_hidden_dim
    int64_t layers = 3;         // gating_n_hidden: ReLU layers before the output layer
    double temperature = 10.0;  // gating_temperature: softmax(x / temperature)
  } gating;
  int64_t bos_token_id = -1, eos_token_id = -1, pad_token_id = -1;

  std::string source_format;       // "gguf" or "safetensors"

  int64_t q_dim() const { return num_heads * head_dim; }
  int64_t kv_dim() const { return num_kv_heads * head_dim; }
  bool is_classifier() const { return head == HeadKind::kSequenceClassification; }
  double effective_attention_scale() const;
};

// The Hugging Face name of the classification head's output layer (its .weight and .bias): "score",
// "score.2" after a two-layer head's ReLU, "v_head.summary" for a value-head process reward model.
std::string hf_score_layer_name(const ModelConfig& config);

// Checks the invariants the forward pass relies on (positive sizes, heads divisible by kv heads, ...).
// `where` names the file for the message.
std::string validate_config(const ModelConfig& config);  // empty when valid
// The sizes alone (vocabulary, width, layers, heads, FFN), checked as soon as they are read, before anything
// is sized by them; empty when valid.
std::string validate_dimensions(const ModelConfig& config);

}  // namespace arbiter
