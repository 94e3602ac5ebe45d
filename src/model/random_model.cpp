#include "model/random_model.h"

#include <cmath>
#include <cstring>

#include "core/half.h"
#include "core/thread_pool.h"
#include "model/rope.h"
#include "quant/quantize.h"

namespace arbiter {

namespace {

// splitmix64: a tiny, fast, well-mixed generator; one stream per row keeps generation parallel and
// deterministic.
struct SplitMix {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); }  // [0, 1)
  // Sum of four uniforms, rescaled: close enough to normal for weights, and cheap.
  float normal() { return (uniform() + uniform() + uniform() + uniform() - 2.0f) * 1.7320508f; }
};

class RandomWeights {
 public:
  RandomWeights(Model& model, DType type, uint64_t seed, float std) : model_(model), type_(type), seed_(seed), std_(std) {}

  Result<TensorView> matrix(const std::string& name, int64_t rows, int64_t cols) {
    // A block type whose blocks do not divide the rows (Q4_K's 256 and Qwen2.5-0.5B's 896) takes the
    // type llama.cpp's quantizer would give that tensor.
    const DType type = row_type_or_fallback(type_, cols);
    ARB_ASSIGN(const size_t row_size, row_bytes(type, cols));
    auto buffer = std::make_shared<std::vector<uint8_t>>(row_size * size_t(rows));
    const uint64_t tensor_seed = seed_ ^ (0x51ed27ull * ++tensor_counter_);
    global_thread_pool().parallel_for(size_t(rows), 16, [&](int, size_t begin, size_t end) {
      std::vector<float> values(static_cast<size_t>(cols));
      for (size_t r = begin; r < end; ++r) {
        SplitMix rng{tensor_seed + r * 0x2545f4914f6cdd1dull};
        for (float& v : values) v = rng.normal() * std_;
        write_row(type, values.data(), buffer->data() + r * row_size, cols);
      }
    });
    model_.owned_buffers.push_back(buffer);
    TensorView view;
    view.name = name;
    view.dtype = type;
    view.shape = {rows, cols};
    view.data = buffer->data();
    view.nbytes = buffer->size();
    return view;
  }

  std::vector<float> vector(int64_t n, float center, float spread) {
    SplitMix rng{seed_ ^ (0x7f4a7c15ull * ++tensor_counter_)};
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = center + spread * rng.normal();
    return v;
  }

 private:
  static void write_row(DType type, const float* values, uint8_t* dst, int64_t cols) {
    switch (type) {
      case DType::F32: std::memcpy(dst, values, sizeof(float) * size_t(cols)); break;
      case DType::F16:
        for (int64_t i = 0; i < cols; ++i) reinterpret_cast<uint16_t*>(dst)[i] = f32_to_f16(values[i]);
        break;
      case DType::BF16:
        for (int64_t i = 0; i < cols; ++i) reinterpret_cast<uint16_t*>(dst)[i] = f32_to_bf16(values[i]);
        break;
      default: quantize_row(type, values, dst, cols); break;
    }
  }

  Model& model_;
  DType type_;
  uint64_t seed_;
  float std_;
  uint64_t tensor_counter_ = 0;
};

}  // namespace

std::vector<std::string> shape_preset_names() { return {"tiny", "small", "qwen2.5-0.5b", "llama-3.2-1b", "llama-3-8b"}; }

Result<ModelConfig> shape_preset(const std::string& name, int64_t vocab_size) {
  ModelConfig c;
  c.vocab_size = vocab_size;
  c.rms_norm_eps = 1e-6;
  c.max_position_embeddings = 32768;
  if (name == "tiny") {
    c.arch = Architecture::kLlama;
    c.hidden_size = 64, c.num_layers = 2, c.num_heads = 4, c.num_kv_heads = 2, c.intermediate_size = 192;
  } else if (name == "small") {
    // The smallest shape whose rows fit 256-element super-blocks (K-quants, IQ4_XS), with four query
    // heads per key/value head as in Llama 3.
    c.arch = Architecture::kLlama;
    c.hidden_size = 256, c.num_layers = 4, c.num_heads = 8, c.num_kv_heads = 2, c.intermediate_size = 768;
  } else if (name == "qwen2.5-0.5b") {
    c.arch = Architecture::kQwen2;
    c.hidden_size = 896, c.num_layers = 24, c.num_heads = 14, c.num_kv_heads = 2, c.intermediate_size = 4864;
    c.qkv_bias = true;
    c.rope_theta = 1e6;
  } else if (name == "llama-3.2-1b") {
    c.arch = Architecture::kLlama;
    c.hidden_size = 2048, c.num_layers = 16, c.num_heads = 32, c.num_kv_heads = 8, c.intermediate_size = 8192;
    c.rope_theta = 5e5;
  } else if (name == "llama-3-8b") {
    c.arch = Architecture::kLlama;
    c.hidden_size = 4096, c.num_layers = 32, c.num_heads = 32, c.num_kv_heads = 8, c.intermediate_size = 14336;
    c.rope_theta = 5e5;
  } else {
    return error("unknown model shape '" + name + "' (known: tiny, small, qwen2.5-0.5b, llama-3.2-1b, llama-3-8b)");
  }
  c.head_dim = c.hidden_size / c.num_heads;
  c.rope_dim = c.head_dim;
  c.tie_embeddings = true;
  c.layer_sliding.assign(size_t(c.num_layers), false);
  c.source_format = "random";
  return c;
}

Result<std::shared_ptr<Model>> make_random_model(const ModelConfig& config, DType matrix_type, uint64_t seed,
                                                 float weight_std) {
  const std::string problem = validate_config(config);
  if (!problem.empty()) return error("random model: " + problem);
  if (matrix_type != DType::F32 && matrix_type != DType::F16 && matrix_type != DType::BF16 && !can_quantize(matrix_type))
    return error(std::string("random model: cannot create weights of type ") + dtype_name(matrix_type));
  auto model = std::make_shared<Model>();
  model->config = config;
  model->path = "random:" + std::string(architecture_name(config.arch));
  Model& m = *model;
  const ModelConfig& c = config;
  RandomWeights rw(m, matrix_type, seed, weight_std);
  const int64_t d = c.hidden_size;
  // Embedding rows read one token at a time: a plain type keeps that exact and cheap.
  RandomWeights embedding(m, DType::F32, seed ^ 0xe3bull, 1.0f);
  ARB_ASSIGN(m.token_embedding, embedding.matrix("token_embd.weight", c.vocab_size, d));
  m.layers.resize(size_t(c.num_layers));
  for (LayerWeights& w : m.layers) {
    w.attn_norm = rw.vector(d, 1.0f, 0.05f);
    ARB_ASSIGN(w.wq, rw.matrix("attn_q", c.q_dim(), d));
    ARB_ASSIGN(w.wk, rw.matrix("attn_k", c.kv_dim(), d));
    ARB_ASSIGN(w.wv, rw.matrix("attn_v", c.kv_dim(), d));
    ARB_ASSIGN(w.wo, rw.matrix("attn_output", d, c.q_dim()));
    if (c.qkv_bias) {
      w.bq = rw.vector(c.q_dim(), 0.0f, 0.02f);
      w.bk = rw.vector(c.kv_dim(), 0.0f, 0.02f);
      w.bv = rw.vector(c.kv_dim(), 0.0f, 0.02f);
    }
    if (c.qk_norm) {
      w.q_norm = rw.vector(c.head_dim, 1.0f, 0.05f);
      w.k_norm = rw.vector(c.head_dim, 1.0f, 0.05f);
    }
    w.ffn_norm = rw.vector(d, 1.0f, 0.05f);
    if (c.post_norms) {
      w.post_attn_norm = rw.vector(d, 1.0f, 0.05f);
      w.post_ffn_norm = rw.vector(d, 1.0f, 0.05f);
    }
    ARB_ASSIGN(w.w_gate, rw.matrix("ffn_gate", c.intermediate_size, d));
    ARB_ASSIGN(w.w_up, rw.matrix("ffn_up", c.intermediate_size, d));
    ARB_ASSIGN(w.w_down, rw.matrix("ffn_down", d, c.intermediate_size));
  }
  m.final_norm = rw.vector(d, 1.0f, 0.05f);
  if (c.tie_embeddings) {
    m.lm_head = m.token_embedding;
  } else {
    ARB_ASSIGN(m.lm_head, rw.matrix("output.weight", c.vocab_size, d));
  }
  if (c.is_classifier()) m.score_head = rw.vector(c.num_labels * d, 0.0f, 0.05f);
  if (c.is_classifier() && c.score_mlp) {
    m.score_hidden = rw.vector(d * d, 0.0f, 0.05f);
    m.score_hidden_bias = rw.vector(d, 0.0f, 0.05f);
    m.score_bias = rw.vector(c.num_labels, 0.0f, 0.05f);
  }
  m.rope_inv_freq = rope_inverse_frequencies(c, {});
  return model;
}

}  // namespace arbiter
