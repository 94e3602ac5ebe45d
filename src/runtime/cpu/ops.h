// Row-wise operations of the transformer layer on packed token rows (CPU).
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace arbiter::cpu {

// out[r] = x[r] / rms(x[r]) * weight, for rows r in [0, rows). x, out: [rows, n] (may alias).
void rms_norm_rows(const float* x, const float* weight, float* out, int64_t rows, int64_t n, float eps);

// Per-head RMSNorm (qwen3 q/k norm): x [rows, heads * head_dim] in place, weight [head_dim].
void rms_norm_heads(float* x, const float* weight, int64_t rows, int64_t heads, int64_t head_dim, float eps);

// Rotary embedding applied in place to x [rows, heads * head_dim] where row r is at position positions[r].
// cos_sin: [max_position + 1, rope_dim / 2] pairs (cos, sin) from rope_table().
void apply_rope(float* x, const int32_t* positions, int64_t rows, int64_t heads, int64_t head_dim,
                int64_t rope_dim, RopePairing pairing, const std::vector<float>& cos_sin);
std::vector<float> rope_table(const std::vector<float>& inv_freq, int32_t max_position);

// gate[i] = act(gate[i]) * up[i]; gate, up: [rows, n].
void gated_activation(float* gate, const float* up, int64_t count, Activation activation);

// x = cap * tanh(x / cap), in place.
void softcap(float* x, int64_t count, float cap);

}  // namespace arbiter::cpu
