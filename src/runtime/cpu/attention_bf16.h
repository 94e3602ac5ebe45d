// Attention's weights x values product in bf16 arithmetic, for models whose linear layers run in bf16
// (matmul.h): softmax weights and values rounded to bf16 (nearest even) and multiplied with
// AVX512-BF16 dot products into f32 sums. The query . key product stays f32: rounding queries and keys
// makes a score's error proportional to |q| |k|, which the softmax turns into relative weight errors
// (measured on the trained stories260K: logits 0.56% -> 1.17% off the f32 ones, where rounding the
// weights and values alone gives 0.61%). Each function carries its own target attribute; callers check
// bf16_gemm_supported() first.
//
// VDPBF16PS adds two products per f32 lane, so keys are taken in pairs (2j, 2j + 1) counted from the
// span's first key. A pairing fixed by absolute position keeps a query's arithmetic independent of
// which other queries share its block: a decoding step still gives its prefill bytes.
#pragma once

#include <cstdint>

namespace arbiter::cpu {

// Values [keys, hd] (row stride kv_stride) as key pairs: dst: [ceil(keys / 2), hd] uint32,
// dst[j][d] = (bf16 of key 2j's value d) | (key 2j + 1's) << 16, zero past the last key.
void pack_values_bf16(const float* v, int64_t kv_stride, int64_t keys, int64_t hd, uint32_t* dst);
inline int64_t packed_values_bf16_size(int64_t keys, int64_t hd) { return (keys + 1) / 2 * hd; }

// out_i[d] = inv_i * sum_j w_i[j] * v_j[d] for `queries` (<= 16) queries. weights[i]: the query's
// softmax numerators by column, column 0 being an even key; zero before first[i], read up to last[i]
// (columns past it count as zero); first and last ascend with i. values: packed key pairs
// (pack_values_bf16) from the pair of column 0. Key pairs in ascending order per (query, d); pairs
// outside a query's own keys add exact zeros.
void weighted_values_bf16(const float* const* weights, const int64_t* first, const int64_t* last, int64_t queries,
                          const uint32_t* values, int64_t hd, const float* inv, float* const* out);

}  // namespace arbiter::cpu
