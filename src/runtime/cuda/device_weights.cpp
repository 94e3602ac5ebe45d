#include "runtime/cuda/device_weights.h"

#include <algorithm>
#include <string>

#include "core/half.h"
#include "core/thread_pool.h"
#include "quant/dtype.h"

namespace arbiter::cuda {

namespace {

// Rows converted per host-to-device copy: bounds the staging memory of an 8B model's largest matrix.
constexpr int64_t kStagingElements = int64_t(1) << 24;

// dst: [rows, cols] bf16 on the device = the tensor dequantized (BF16 is copied as it is).
Status upload_matrix(const TensorView& t, int64_t rows, int64_t cols, bf16* dst) {
  if (t.rows() != rows || t.cols() != cols)
    return error(t.name + ": expected [" + std::to_string(rows) + ", " + std::to_string(cols) + "], found " + t.shape_string());
  if (t.dtype == DType::BF16) {
    ARB_CUDA(cudaMemcpy(dst, t.data, size_t(rows * cols) * sizeof(bf16), cudaMemcpyHostToDevice));
    return Status::ok();
  }
  ARB_ASSIGN(const size_t stride, row_bytes(t.dtype, cols));
  const int64_t chunk_rows = std::max<int64_t>(1, std::min<int64_t>(rows, kStagingElements / cols));
  std::vector<uint16_t> staging(size_t(chunk_rows * cols));
  for (int64_t first = 0; first < rows; first += chunk_rows) {
    const int64_t count = std::min(chunk_rows, rows - first);
    global_thread_pool().parallel_for(size_t(count), 8, [&](int, size_t begin, size_t end) {
      std::vector<float> row(static_cast<size_t>(cols));
      for (size_t r = begin; r < end; ++r) {
        const auto* src = static_cast<const uint8_t*>(t.data) + size_t(first + int64_t(r)) * stride;
        dequantize_row(t.dtype, src, row.data(), cols);
        uint16_t* out = staging.data() + int64_t(r) * cols;
        for (int64_t i = 0; i < cols; ++i) out[i] = ::arbiter::f32_to_bf16(row[size_t(i)]);
      }
    });
    ARB_CUDA(cudaMemcpy(dst + first * cols, staging.data(), size_t(count * cols) * sizeof(bf16), cudaMemcpyHostToDevice));
  }
  return Status::ok();
}

Status upload_vector(const std::vector<float>& v, DeviceBuffer& dst) {
  if (v.empty()) return Status::ok();
  ARB_TRY(dst.reserve(v.size() * sizeof(float)));
  ARB_CUDA(cudaMemcpy(dst.as<float>(), v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice));
  return Status::ok();
}

Status reserve_bf16(DeviceBuffer& buffer, int64_t count) { return buffer.reserve(size_t(count) * sizeof(bf16)); }

}  // namespace

Result<DeviceWeights> upload_weights(const Model& model) {
  const ModelConfig& c = model.config;
  const int64_t d = c.hidden_size, q_dim = c.q_dim(), kv_dim = c.kv_dim(), ffn = c.intermediate_size;
  DeviceWeights w;
  ARB_TRY(reserve_bf16(w.embedding, c.vocab_size * d));
  ARB_TRY(upload_matrix(model.token_embedding, c.vocab_size, d, w.embedding.as<bf16>()));
  if (model.lm_head.data == model.token_embedding.data) {
    w.lm_head = w.embedding.as<bf16>();
  } else {
    ARB_TRY(reserve_bf16(w.untied_lm_head, c.vocab_size * d));
    ARB_TRY(upload_matrix(model.lm_head, c.vocab_size, d, w.untied_lm_head.as<bf16>()));
    w.lm_head = w.untied_lm_head.as<bf16>();
  }
  w.layers.resize(model.layers.size());
  for (size_t l = 0; l < model.layers.size(); ++l) {
    const LayerWeights& src = model.layers[l];
    DeviceLayer& dst = w.layers[l];
    ARB_TRY(upload_vector(src.attn_norm, dst.attn_norm));
    ARB_TRY(upload_vector(src.ffn_norm, dst.ffn_norm));
    ARB_TRY(upload_vector(src.post_attn_norm, dst.post_attn_norm));
    ARB_TRY(upload_vector(src.post_ffn_norm, dst.post_ffn_norm));
    ARB_TRY(upload_vector(src.q_norm, dst.q_norm));
    ARB_TRY(upload_vector(src.k_norm, dst.k_norm));
    if (c.qkv_bias) {
      std::vector<float> bias(src.bq);
      bias.insert(bias.end(), src.bk.begin(), src.bk.end());
      bias.insert(bias.end(), src.bv.begin(), src.bv.end());
      if (int64_t(bias.size()) != q_dim + 2 * kv_dim) return error("layer " + std::to_string(l) + ": q/k/v bias sizes");
      ARB_TRY(upload_vector(bias, dst.qkv_bias));
    }
    ARB_TRY(reserve_bf16(dst.wqkv, (q_dim + 2 * kv_dim) * d));
    bf16* qkv = dst.wqkv.as<bf16>();
    ARB_TRY(upload_matrix(src.wq, q_dim, d, qkv));
    ARB_TRY(upload_matrix(src.wk, kv_dim, d, qkv + q_dim * d));
    ARB_TRY(upload_matrix(src.wv, kv_dim, d, qkv + (q_dim + kv_dim) * d));
    ARB_TRY(reserve_bf16(dst.wo, d * q_dim));
    ARB_TRY(upload_matrix(src.wo, d, q_dim, dst.wo.as<bf16>()));
    ARB_TRY(reserve_bf16(dst.w_gate_up, 2 * ffn * d));
    ARB_TRY(upload_matrix(src.w_gate, ffn, d, dst.w_gate_up.as<bf16>()));
    ARB_TRY(upload_matrix(src.w_up, ffn, d, dst.w_gate_up.as<bf16>() + ffn * d));
    ARB_TRY(reserve_bf16(dst.w_down, d * ffn));
    ARB_TRY(upload_matrix(src.w_down, d, ffn, dst.w_down.as<bf16>()));
  }
  ARB_TRY(upload_vector(model.final_norm, w.final_norm));
  ARB_TRY(upload_vector(model.score_head, w.score_head));
  ARB_TRY(upload_vector(model.score_bias, w.score_bias));
  // The copies above ran through the legacy default stream, which the backend's non-blocking stream
  // does not wait for (and a pageable copy may return before its data lands): finish them here.
  ARB_CUDA(cudaDeviceSynchronize());
  return w;
}

Result<DeviceWeights> random_weights(const ModelConfig& c, uint64_t seed) {
  const int64_t d = c.hidden_size, q_dim = c.q_dim(), kv_dim = c.kv_dim(), ffn = c.intermediate_size;
  constexpr float kStd = 0.02f;
  uint64_t stream_id = seed * 1000003;  // each tensor its own random stream
  auto matrix = [&](DeviceBuffer& buffer, int64_t count) -> Status {
    ARB_TRY(reserve_bf16(buffer, count));
    ARB_CUDA(fill_random_bf16(buffer.as<bf16>(), count, 0.0f, kStd, ++stream_id, nullptr));
    return Status::ok();
  };
  auto vector = [&](DeviceBuffer& buffer, int64_t count, float mean, float std) -> Status {
    ARB_TRY(buffer.reserve(size_t(count) * sizeof(float)));
    ARB_CUDA(fill_random_f32(buffer.as<float>(), count, mean, std, ++stream_id, nullptr));
    return Status::ok();
  };
  DeviceWeights w;
  ARB_TRY(matrix(w.embedding, c.vocab_size * d));
  if (c.tie_embeddings) {
    w.lm_head = w.embedding.as<bf16>();
  } else {
    ARB_TRY(matrix(w.untied_lm_head, c.vocab_size * d));
    w.lm_head = w.untied_lm_head.as<bf16>();
  }
  w.layers.resize(size_t(c.num_layers));
  for (DeviceLayer& layer : w.layers) {
    ARB_TRY(vector(layer.attn_norm, d, 1.0f, 0.05f));
    ARB_TRY(vector(layer.ffn_norm, d, 1.0f, 0.05f));
    if (c.post_norms) {
      ARB_TRY(vector(layer.post_attn_norm, d, 1.0f, 0.05f));
      ARB_TRY(vector(layer.post_ffn_norm, d, 1.0f, 0.05f));
    }
    if (c.qk_norm) {
      ARB_TRY(vector(layer.q_norm, c.head_dim, 1.0f, 0.05f));
      ARB_TRY(vector(layer.k_norm, c.head_dim, 1.0f, 0.05f));
    }
    if (c.qkv_bias) ARB_TRY(vector(layer.qkv_bias, q_dim + 2 * kv_dim, 0.0f, kStd));
    ARB_TRY(matrix(layer.wqkv, (q_dim + 2 * kv_dim) * d));
    ARB_TRY(matrix(layer.wo, d * q_dim));
    ARB_TRY(matrix(layer.w_gate_up, 2 * ffn * d));
    ARB_TRY(matrix(layer.w_down, d * ffn));
  }
  ARB_TRY(vector(w.final_norm, d, 1.0f, 0.05f));
  if (c.is_classifier()) ARB_TRY(vector(w.score_head, c.num_labels * d, 0.0f, 0.05f));
  ARB_CUDA(cudaDeviceSynchronize());
  return w;
}

}  // namespace arbiter::cuda
