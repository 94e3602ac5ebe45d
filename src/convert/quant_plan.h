// Which type each tensor of an output GGUF is stored in, for the output types `arbiter convert` and
// `arbiter quantize` accept. The mixtures follow llama.cpp's llama_tensor_get_type (src/llama-quant.cpp):
// output.weight (token_embd.weight when there is no separate output) is kept at Q6_K; with q4_K_M and
// q5_K_M, attn_v.weight and ffn_down.weight are raised to Q6_K in the layers use_more_bits() picks; with
// iq4_nl and iq4_xs, attn_v.weight is raised to Q5_K when four or more query heads share a key/value
// head, and ffn_down.weight in the first eighth of the layers; q2_K, q3_K_M and q3_K_L raise attn_v,
// ffn_down and attn_output (see mixture_type); q3_K_S is Q3_K throughout. Tensors whose rows are not a
// multiple of 256 fall back to a 32-element format (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K /
// Q3_K / IQ4_XS -> IQ4_NL), and any block type whose block does not divide the row falls back to F16.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "quant/dtype.h"

namespace arbiter {

struct OutputType {
  std::string name;         // as given on the command line: "q4_K_M"
  DType base = DType::F32;  // the type of ordinary matrices
  enum class Mixture { kNone, kKQuant, kIq4, kQ2K, kQ3KM, kQ3KL };
  Mixture mixture = Mixture::kNone;  // which of the rules above apply
  uint32_t file_type = 0;   // general.file_type (llama_ftype)
};

// f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, q3_K_S, q3_K_M, q3_K_L, q4_K_M, q5_K_M, q6_K, iq4_nl,
// iq4_xs (case-insensitive).
Result<OutputType> parse_output_type(const std::string& name);
const char* output_type_names();  // for help and errors

struct TensorTypeChoice {
  DType dtype = DType::F32;
  std::string note;  // why it differs from the base type, empty when it does not
};

// `name` is the GGUF tensor name, `shape` row-major. `n_layers` is the block count; `has_output` says
// whether the file has an output.weight (when not, token_embd.weight is the output matrix too);
// `query_heads_per_kv_head` is the attention's grouping (1 without grouped-query attention).
TensorTypeChoice choose_tensor_type(const OutputType& type, const std::string& name, const std::vector<int64_t>& shape,
                                    int64_t n_layers, bool has_output, int64_t query_heads_per_kv_head);

// llama.cpp's choice of the layers that get more bits in the _M mixtures: the first and last eighth,
// and every third layer in between.
bool use_more_bits(int64_t layer, int64_t n_layers);

}  // namespace arbiter
