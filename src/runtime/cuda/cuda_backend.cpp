// The CUDA forward pass. As on the CPU, every sequence of the batch is packed into one [N, d] residual
// stream (f32) and each layer runs over all N rows at once; per layer:
//   normed (bf16) -> one GEMM for q|k|v (f32 out) -> bias, q/k-norm, RoPE (one kernel, bf16 out)
//   -> attention over the packed sequences -> GEMM wo (f32) -> post-norm + residual add + the MLP's
//   pre-norm (one kernel) -> one GEMM for gate|up (bf16) -> SwiGLU/GeGLU -> GEMM w_down (f32)
//   -> post-norm + residual add + the next layer's pre-norm (one kernel).
// Only the read rows go through the final norm and the heads; captures copy read rows after each layer.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "model/rope.h"
#include "runtime/cpu/ops.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/device_weights.h"
#include "runtime/cuda/gemm.h"
#include "runtime/packed_batch.h"
#include "runtime/score_head.h"

namespace arbiter::cuda {

namespace {

// `host` may go as soon as this returns: from pageable memory, cudaMemcpyAsync returns once the bytes are
// staged for the transfer (CUDA's notes on the API's synchronous behaviour).
template <typename T>
Status upload(DeviceBuffer& buffer, const std::vector<T>& host, cudaStream_t stream) {
  if (host.empty()) return Status::ok();
  ARB_TRY(buffer.reserve(host.size() * sizeof(T)));
  ARB_CUDA(cudaMemcpyAsync(buffer.as<T>(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice, stream));
  return Status::ok();
}

std::vector<int32_t> narrow(const std::vector<int64_t>& values) { return {values.begin(), values.end()}; }

// The tensor-core kernel's blocks: 64 queries of one sequence each, longest key ranges first so that the
// last blocks to start are short ones.
std::vector<AttentionTile> attention_tiles(const PackedBatch& b) {
  std::vector<AttentionTile> tiles;
  for (size_t s = 0; s + 1 < b.offsets.size(); ++s) {
    const int64_t len = b.offsets[s + 1] - b.offsets[s];
    for (int64_t q = 0; q < len; q += kAttentionTileRows) tiles.push_back({int32_t(b.offsets[s]), int32_t(len), int32_t(q)});
  }
  std::stable_sort(tiles.begin(), tiles.end(), [](const AttentionTile& x, const AttentionTile& y) {
    return std::min(x.q_begin + kAttentionTileRows, x.seq_len) > std::min(y.q_begin + kAttentionTileRows, y.seq_len);
  });
  return tiles;
}

class CudaBackend final : public Backend {
 public:
  CudaBackend(std::shared_ptr<const Model> model, DeviceWeights weights, int device)
      : model_(std::move(model)), weights_(std::move(weights)), device_(device) {}
  ~CudaBackend() override {
    cudaSetDevice(device_);  // the handle, stream and buffers (members, freed after this) live there
    if (cublas_) cublas_api_->destroy(cublas_);
    if (stream_) cudaStreamDestroy(stream_);
  }

  Status init() {
    ARB_TRY(use_device(device_));
    ARB_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    ARB_ASSIGN(cublas_api_, cublas_api());
    ARB_CUBLAS(cublas_api_->create(&cublas_));
    ARB_CUBLAS(cublas_api_->set_stream(cublas_, stream_));
    const char* mode = std::getenv("ARBITER_CUDA_ATTENTION");
    simple_attention_ = (mode && std::string(mode) == "simple") || !attention_mma_supported(int(model_->config.head_dim));
    return Status::ok();
  }

  std::string name() const override { return simple_attention_ ? "cuda (simple attention)" : "cuda"; }
  // An 8B model's GEMMs reach the tensor cores' rate from some thousands of rows; 16k tokens of
  // activations (about 2 GB at d = 4096, ffn = 14336) still fit beside the weights on any card it runs on.
  int64_t preferred_batch_tokens() const override { return 16384; }
  const Model& model() const override { return *model_; }
  Result<std::vector<SequenceOutput>> forward(const std::vector<SequenceInput>& sequences,
                                              const ForwardOptions& options) override;

 private:
  Status reserve_workspace(int64_t n, int64_t reads, const ForwardOptions& options);
  Status ensure_rope_table(int32_t max_position);
  Status run_layer(int64_t layer, int64_t n);
  Status capture(int64_t capture_index, int64_t reads);

  std::shared_ptr<const Model> model_;
  DeviceWeights weights_;
  int device_ = 0;  // the GPU everything lives on
  cudaStream_t stream_ = nullptr;
  const CublasApi* cublas_api_ = nullptr;  // loaded at init(), not at program start
  cublasHandle_t cublas_ = nullptr;
  bool simple_attention_ = false;

  int32_t rope_max_position_ = -1;
  DeviceBuffer rope_;  // [max_position + 1, rope_dim / 2, 2] f32
  // Per call: the packed inputs.
  DeviceBuffer tokens_, positions_, read_rows_, tiles_, logit_ids_;
  int num_tiles_ = 0;
  // Workspace, grown to the largest batch seen.
  DeviceBuffer x_;          // [N, d] f32 residual stream
  DeviceBuffer normed_;     // [N, d] bf16 block input
  DeviceBuffer qkv_;        // [N, q_dim + 2 kv_dim] f32
  DeviceBuffer q_, k_, v_;  // [N, heads | kv_heads, head_dim] bf16
  DeviceBuffer attn_;       // [N, q_dim] bf16
  DeviceBuffer proj_;       // [N, d] f32
  DeviceBuffer gate_up_;    // [N, 2 ffn] bf16
  DeviceBuffer hidden_;     // [N, ffn] bf16
  DeviceBuffer captured_;   // [C, R, d] f32
  DeviceBuffer final_;      // [R, d] f32
  DeviceBuffer final_bf16_; // [R, d] bf16
  DeviceBuffer logits_;     // [R, vocab or K] f32
  DeviceBuffer scores_;     // [R, labels] f32
  DeviceBuffer lens_states_;  // [C, R, d] f32
  DeviceBuffer layer_logits_; // [C, R, K] f32
};

Status CudaBackend::reserve_workspace(int64_t n, int64_t reads, const ForwardOptions& options) {
  const ModelConfig& c = model_->config;
  const int64_t d = c.hidden_size, q_dim = c.q_dim(), kv_dim = c.kv_dim(), ffn = c.intermediate_size;
  const int64_t captures = int64_t(options.capture_layers.size());
  const size_t f = sizeof(float), h = sizeof(bf16);
  ARB_TRY(x_.reserve(size_t(n * d) * f));
  ARB_TRY(normed_.reserve(size_t(n * d) * h));
  ARB_TRY(qkv_.reserve(size_t(n * (q_dim + 2 * kv_dim)) * f));
  ARB_TRY(q_.reserve(size_t(n * q_dim) * h));
  ARB_TRY(k_.reserve(size_t(n * kv_dim) * h));
  ARB_TRY(v_.reserve(size_t(n * kv_dim) * h));
  ARB_TRY(attn_.reserve(size_t(n * q_dim) * h));
  ARB_TRY(proj_.reserve(size_t(n * d) * f));
  ARB_TRY(gate_up_.reserve(size_t(n * 2 * ffn) * h));
  ARB_TRY(hidden_.reserve(size_t(n * ffn) * h));
  ARB_TRY(final_.reserve(size_t(reads * d) * f));
  ARB_TRY(final_bf16_.reserve(size_t(reads * d) * h));
  if (captures > 0) ARB_TRY(captured_.reserve(size_t(captures * reads * d) * f));
  const int64_t logit_cols = options.logits == LogitsMode::kFull ? c.vocab_size : int64_t(options.logit_token_ids.size());
  if (options.logits != LogitsMode::kNone && logit_cols > 0) ARB_TRY(logits_.reserve(size_t(reads * logit_cols) * f));
  if (options.score_head) ARB_TRY(scores_.reserve(size_t(reads * c.num_labels) * f));
  if (options.layer_logits) {
    ARB_TRY(lens_states_.reserve(size_t(captures * reads * d) * f));
    ARB_TRY(layer_logits_.reserve(size_t(captures * reads * int64_t(options.logit_token_ids.size())) * f));
  }
  return Status::ok();
}

Status CudaBackend::ensure_rope_table(int32_t max_position) {
  if (max_position <= rope_max_position_) return Status::ok();
  // Grown in powers of two so that a run of slowly growing batches rebuilds it rarely.
  int32_t size = 256;
  while (size <= max_position) size *= 2;
  const std::vector<float> table = cpu::rope_table(model_->rope_inv_freq, size - 1);
  DeviceBuffer fresh;
  ARB_TRY(fresh.reserve(table.size() * sizeof(float)));
  // On the backend's stream: a plain cudaMemcpy goes through the legacy default stream, which this
  // non-blocking stream does not wait for, and a pageable copy may return before the data has landed.
  ARB_CUDA(cudaMemcpyAsync(fresh.as<float>(), table.data(), table.size() * sizeof(float), cudaMemcpyHostToDevice,
                           stream_));
  ARB_CUDA(cudaStreamSynchronize(stream_));  // `table` is freed on return
  rope_ = std::move(fresh);
  rope_max_position_ = size - 1;
  return Status::ok();
}

Status CudaBackend::run_layer(int64_t l, int64_t n) {
  const ModelConfig& c = model_->config;
  const DeviceLayer& w = weights_.layers[size_t(l)];
  const int64_t d = c.hidden_size, q_dim = c.q_dim(), kv_dim = c.kv_dim(), ffn = c.intermediate_size;
  const float eps = float(c.rms_norm_eps);

  // Attention block; normed_ already holds rms_norm(x) * attn_norm.
  ARB_TRY(gemm_bf16(cublas_, w.wqkv.as<bf16>(), q_dim + 2 * kv_dim, d, normed_.as<bf16>(), n, qkv_.as<float>(), false));
  QkvShape shape;
  shape.num_heads = int(c.num_heads);
  shape.num_kv_heads = int(c.num_kv_heads);
  shape.head_dim = int(c.head_dim);
  shape.rope_dim = int(c.rope_dim);
  shape.adjacent_pairs = c.rope_pairing == RopePairing::kAdjacent;
  ARB_CUDA(qkv_bias_norm_rope(qkv_.as<float>(), w.qkv_bias.as<float>(), w.q_norm.as<float>(), w.k_norm.as<float>(),
                              positions_.as<int32_t>(), rope_.as<float>(), n, shape, eps, q_.as<bf16>(), k_.as<bf16>(),
                              v_.as<bf16>(), stream_));
  AttentionParams attention;
  attention.q = q_.as<bf16>();
  attention.k = k_.as<bf16>();
  attention.v = v_.as<bf16>();
  attention.out = attn_.as<bf16>();
  attention.num_heads = int(c.num_heads);
  attention.num_kv_heads = int(c.num_kv_heads);
  attention.head_dim = int(c.head_dim);
  attention.scale = float(c.effective_attention_scale());
  attention.softcap = float(c.attn_logit_softcap);
  attention.window = c.layer_sliding[size_t(l)] ? int(c.sliding_window) : 0;
  if (simple_attention_) ARB_CUDA(attention_simple(attention, positions_.as<int32_t>(), n, stream_));
  else ARB_CUDA(attention_mma(attention, tiles_.as<AttentionTile>(), num_tiles_, stream_));
  ARB_TRY(gemm_bf16(cublas_, w.wo.as<bf16>(), d, q_dim, attn_.as<bf16>(), n, proj_.as<float>(), false));
  ARB_CUDA(add_residual_and_norm(proj_.as<float>(), w.post_attn_norm.as<float>(), x_.as<float>(), w.ffn_norm.as<float>(),
                                 n, d, eps, normed_.as<bf16>(), stream_));

  // MLP block.
  ARB_TRY(gemm_bf16(cublas_, w.w_gate_up.as<bf16>(), 2 * ffn, d, normed_.as<bf16>(), n, gate_up_.as<bf16>(), true));
  ARB_CUDA(gated_activation(gate_up_.as<bf16>(), n, ffn, c.activation == Activation::kGeluTanh, hidden_.as<bf16>(), stream_));
  ARB_TRY(gemm_bf16(cublas_, w.w_down.as<bf16>(), d, ffn, hidden_.as<bf16>(), n, proj_.as<float>(), false));
  // The next layer's pre-norm rides along; after the last layer there is none (the final norm is per read).
  const float* next_norm = l + 1 < c.num_layers ? weights_.layers[size_t(l + 1)].attn_norm.as<float>() : nullptr;
  ARB_CUDA(add_residual_and_norm(proj_.as<float>(), w.post_ffn_norm.as<float>(), x_.as<float>(), next_norm, n, d, eps,
                                 normed_.as<bf16>(), stream_));
  return Status::ok();
}

Status CudaBackend::capture(int64_t capture_index, int64_t reads) {
  const int64_t d = model_->config.hidden_size;
  ARB_CUDA(gather_rows(x_.as<float>(), read_rows_.as<int32_t>(), reads, d, captured_.as<float>() + capture_index * reads * d,
                       stream_));
  return Status::ok();
}

Result<std::vector<SequenceOutput>> CudaBackend::forward(const std::vector<SequenceInput>& sequences,
                                                         const ForwardOptions& options) {
  const Model& m = *model_;
  const ModelConfig& c = m.config;
  ARB_ASSIGN(PackedBatch b, pack_batch(sequences, c));
  ARB_TRY(check_forward_options(options, c));
  const int64_t n = int64_t(b.tokens.size()), d = c.hidden_size, reads = int64_t(b.read_rows.size());
  const int64_t captures = int64_t(options.capture_layers.size());
  const float eps = float(c.rms_norm_eps);
  std::vector<SequenceOutput> outputs(sequences.size());
  for (size_t s = 0; s < sequences.size(); ++s) outputs[s].num_reads = b.read_offsets[s + 1] - b.read_offsets[s];
  if (sequences.empty()) return outputs;
  if (n > int64_t(INT32_MAX) / 2) return error("batch of " + std::to_string(n) + " tokens is too large for one pass");

  ARB_TRY(use_device(device_));  // this thread may not be the one that made the backend
  ARB_TRY(reserve_workspace(n, reads, options));
  ARB_TRY(ensure_rope_table(*std::max_element(b.positions.begin(), b.positions.end())));
  ARB_TRY(upload(tokens_, b.tokens, stream_));
  ARB_TRY(upload(positions_, b.positions, stream_));
  ARB_TRY(upload(read_rows_, narrow(b.read_rows), stream_));
  if (!simple_attention_) {
    const std::vector<AttentionTile> tiles = attention_tiles(b);
    num_tiles_ = int(tiles.size());
    ARB_TRY(upload(tiles_, tiles, stream_));
  }
  ARB_TRY(upload(logit_ids_, options.logit_token_ids, stream_));

  // x: [N, d] f32 residual stream
  ARB_CUDA(embed_rows(weights_.embedding.as<bf16>(), tokens_.as<int32_t>(), n, d, float(c.embedding_scale), x_.as<float>(),
                      stream_));
  auto capture_if_asked = [&](int32_t layer) -> Status {
    for (int64_t i = 0; i < captures; ++i)
      if (options.capture_layers[size_t(i)] == layer) ARB_TRY(capture(i, reads));
    return Status::ok();
  };
  ARB_TRY(capture_if_asked(0));
  if (c.num_layers > 0)
    ARB_CUDA(rms_norm_to_bf16(x_.as<float>(), weights_.layers[0].attn_norm.as<float>(), n, d, eps, normed_.as<bf16>(), stream_));
  for (int64_t l = 0; l < c.num_layers; ++l) {
    ARB_TRY(run_layer(l, n));
    ARB_TRY(capture_if_asked(int32_t(l + 1)));
  }

  // final_: [R, d] the read rows, final-normed.
  float* final_rows = final_.as<float>();
  ARB_CUDA(gather_rows(x_.as<float>(), read_rows_.as<int32_t>(), reads, d, final_rows, stream_));
  ARB_CUDA(rms_norm_f32(final_rows, weights_.final_norm.as<float>(), reads, d, eps, final_rows, stream_));

  int64_t logit_cols = 0;
  if (options.logits == LogitsMode::kFull) {
    logit_cols = c.vocab_size;
    ARB_CUDA(f32_to_bf16(final_rows, reads * d, final_bf16_.as<bf16>(), stream_));
    ARB_TRY(gemm_bf16(cublas_, weights_.lm_head, c.vocab_size, d, final_bf16_.as<bf16>(), reads, logits_.as<float>(), false));
  } else if (options.logits == LogitsMode::kSelected) {
    logit_cols = int64_t(options.logit_token_ids.size());
    ARB_CUDA(rows_dot_bf16(weights_.lm_head, logit_ids_.as<int32_t>(), logit_cols, final_rows, reads, d, nullptr,
                           logits_.as<float>(), stream_));
  }
  if (logit_cols > 0 && c.final_logit_softcap > 0)
    ARB_CUDA(softcap(logits_.as<float>(), reads * logit_cols, float(c.final_logit_softcap), stream_));

  const int64_t lens_cols = int64_t(options.logit_token_ids.size());
  if (options.layer_logits) {
    // Each captured layer read through the LM head: normed by the final norm when the lens says so, and
    // always for the last layer (whose raw lens reading is the model's own output).
    float* states = lens_states_.as<float>();
    ARB_CUDA(cudaMemcpyAsync(states, captured_.as<float>(), size_t(captures * reads * d) * sizeof(float),
                             cudaMemcpyDeviceToDevice, stream_));
    for (int64_t i = 0; i < captures; ++i)
      if (options.lens == Lens::kNormed || options.capture_layers[size_t(i)] == c.num_layers)
        ARB_CUDA(rms_norm_f32(states + i * reads * d, weights_.final_norm.as<float>(), reads, d, eps,
                              states + i * reads * d, stream_));
    ARB_CUDA(rows_dot_bf16(weights_.lm_head, logit_ids_.as<int32_t>(), lens_cols, states, captures * reads, d, nullptr,
                           layer_logits_.as<float>(), stream_));
  }
  // A two-layer head (a d x d layer per read row, a few reads per sequence) runs on the host from the
  // downloaded final rows; a one-layer head stays on the device.
  const bool head_on_host = options.score_head && c.score_mlp;
  if (options.score_head && !head_on_host)
    ARB_CUDA(rows_dot_f32(weights_.score_head.as<float>(), nullptr, c.num_labels, final_rows, reads, d,
                          weights_.score_bias.as<float>(), scores_.as<float>(), stream_));

  // Back to the host, then split per sequence.
  auto download = [&](const DeviceBuffer& src, int64_t count) -> Result<std::vector<float>> {
    std::vector<float> host(static_cast<size_t>(count));
    if (count > 0)
      ARB_CUDA(cudaMemcpyAsync(host.data(), src.as<float>(), size_t(count) * sizeof(float), cudaMemcpyDeviceToHost, stream_));
    return host;
  };
  std::vector<float> captured, final_host, logits, scores, layer_logits;
  if (captures > 0) {
    ARB_ASSIGN(captured, download(captured_, captures * reads * d));
  }
  if (options.final_norm || head_on_host) {
    ARB_ASSIGN(final_host, download(final_, reads * d));
  }
  if (logit_cols > 0) {
    ARB_ASSIGN(logits, download(logits_, reads * logit_cols));
  }
  if (options.score_head && !head_on_host) {
    ARB_ASSIGN(scores, download(scores_, reads * c.num_labels));
  }
  if (options.layer_logits) {
    ARB_ASSIGN(layer_logits, download(layer_logits_, captures * reads * lens_cols));
  }
  ARB_CUDA(cudaStreamSynchronize(stream_));
  ARB_CUDA(cudaGetLastError());
  if (head_on_host) {
    scores.resize(size_t(reads * c.num_labels));
    ARB_TRY(apply_score_head(*model_, final_host.data(), reads, scores.data()));
  }

  for (size_t s = 0; s < outputs.size(); ++s) {
    SequenceOutput& out = outputs[s];
    const int64_t first = b.read_offsets[s], count = out.num_reads;
    auto rows = [&](const std::vector<float>& all, int64_t block, int64_t width) {
      // Rows first..first+count of block `block` of [blocks, reads, width].
      const auto begin = all.begin() + (block * reads + first) * width;
      return std::vector<float>(begin, begin + count * width);
    };
    for (int64_t i = 0; i < captures; ++i) {
      const std::vector<float> part = rows(captured, i, d);
      out.layer_states.insert(out.layer_states.end(), part.begin(), part.end());
    }
    if (options.final_norm) out.final_norm = rows(final_host, 0, d);
    if (logit_cols > 0) out.logits = rows(logits, 0, logit_cols);
    if (options.score_head) out.scores = rows(scores, 0, c.num_labels);
    if (options.layer_logits)
      for (int64_t i = 0; i < captures; ++i) {
        const std::vector<float> part = rows(layer_logits, i, lens_cols);
        out.layer_logits.insert(out.layer_logits.end(), part.begin(), part.end());
      }
  }
  return outputs;
}

Result<std::unique_ptr<Backend>> finish(std::shared_ptr<const Model> model, DeviceWeights weights, int device) {
  auto backend = std::make_unique<CudaBackend>(std::move(model), std::move(weights), device);
  ARB_TRY(backend->init());
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace

Status use_device(int index) {
  ARB_CUDA(cudaSetDevice(index));
  return Status::ok();
}

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error so later calls start clean
    return 0;
  }
  return count;
}

Result<std::unique_ptr<Backend>> make_cuda_backend(std::shared_ptr<const Model> model, int device_index) {
  if (!model) return error("no model");
  if (model->config.head_dim > 256)
    return error("the CUDA backend supports head sizes up to 256 (this model's: " + std::to_string(model->config.head_dim) + ")");
  ARB_TRY(use_device(device_index));
  ARB_ASSIGN(DeviceWeights weights, upload_weights(*model));
  return finish(std::move(model), std::move(weights), device_index);
}

Result<std::unique_ptr<Backend>> make_random_cuda_backend(const ModelConfig& config, uint64_t seed, int device_index) {
  const std::string invalid = validate_config(config);
  if (!invalid.empty()) return error(invalid);
  // The model made here holds no host weights, and a two-layer head is applied on the host.
  if (config.score_mlp) return error("random device weights: a two-layer reward head is not supported");
  if (config.head_dim > 256)
    return error("the CUDA backend supports head sizes up to 256 (this shape's: " + std::to_string(config.head_dim) + ")");
  auto model = std::make_shared<Model>();
  model->config = config;
  model->path = "(random weights on the device)";
  model->rope_inv_freq = rope_inverse_frequencies(config, {});
  ARB_TRY(use_device(device_index));
  ARB_ASSIGN(DeviceWeights weights, random_weights(config, seed));
  return finish(std::move(model), std::move(weights), device_index);
}

}  // namespace arbiter::cuda
