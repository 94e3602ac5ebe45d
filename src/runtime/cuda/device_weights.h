// A model's weights in device memory: every matrix in bf16 (whatever its stored type: dequantized on the
// host at load), norms, biases and the classifier head in f32. Q/K/V and gate/up are stored stacked, so
// that each pair or triple is one GEMM.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "runtime/cuda/device_buffer.h"
#include "runtime/cuda/kernels.h"

namespace arbiter::cuda {

struct DeviceLayer {
  DeviceBuffer attn_norm, ffn_norm;             // [d] f32
  DeviceBuffer post_attn_norm, post_ffn_norm;   // post_norms only: [d] f32
  DeviceBuffer q_norm, k_norm;                  // qk_norm only: [head_dim] f32
  DeviceBuffer qkv_bias;                        // qkv_bias only: [q_dim + 2 kv_dim] f32
  DeviceBuffer wqkv;                            // [q_dim + 2 kv_dim, d] bf16: wq, wk, wv stacked
  DeviceBuffer wo;                              // [d, q_dim] bf16
  DeviceBuffer w_gate_up;                       // [2 ffn, d] bf16: w_gate, w_up stacked
  DeviceBuffer w_down;                          // [d, ffn] bf16
};

struct DeviceWeights {
  DeviceBuffer embedding;          // [vocab, d] bf16
  DeviceBuffer untied_lm_head;     // [vocab, d] bf16, when the LM head is not the embedding
  const bf16* lm_head = nullptr;   // one of the two above
  std::vector<DeviceLayer> layers;
  DeviceBuffer final_norm;         // [d] f32
  DeviceBuffer score_head;         // classifiers: [num_labels, d] f32
  DeviceBuffer score_bias;         // classifiers with a bias: [num_labels] f32
};

Result<DeviceWeights> upload_weights(const Model& model);

// Random weights drawn on the device (benchmarks): matrices uniform with std 0.02, norms near 1.
Result<DeviceWeights> random_weights(const ModelConfig& config, uint64_t seed);

}  // namespace arbiter::cuda
