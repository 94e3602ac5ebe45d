#include "convert/quant_plan.h"

#include <algorithm>
#include <cctype>

#include "core/ascii.h"
#include "quant/quantize.h"

namespace arbiter {

namespace {

using Mixture = OutputType::Mixture;

struct TypeEntry {
  const char* name;
  DType base;
  Mixture mixture;
  uint32_t file_type;
};

// file_type numbers are llama.cpp's llama_ftype values, which readers show as the file's quantization.
constexpr TypeEntry kTypes[] = {
    {"f32", DType::F32, Mixture::kNone, 0},          {"f16", DType::F16, Mixture::kNone, 1},
    {"bf16", DType::BF16, Mixture::kNone, 32},       {"q8_0", DType::Q8_0, Mixture::kNone, 7},
    {"q4_0", DType::Q4_0, Mixture::kNone, 2},        {"q4_1", DType::Q4_1, Mixture::kNone, 3},
    {"q5_0", DType::Q5_0, Mixture::kNone, 8},        {"q5_1", DType::Q5_1, Mixture::kNone, 9},
    {"q4_K_M", DType::Q4_K, Mixture::kKQuant, 15},   {"q5_K_M", DType::Q5_K, Mixture::kKQuant, 17},
    {"q6_K", DType::Q6_K, Mixture::kNone, 18},       {"iq4_nl", DType::IQ4_NL, Mixture::kIq4, 25},
    {"iq4_xs", DType::IQ4_XS, Mixture::kIq4, 30},    {"q2_K", DType::Q2_K, Mixture::kQ2K, 10},
    {"q3_K_S", DType::Q3_K, Mixture::kNone, 11},     {"q3_K_M", DType::Q3_K, Mixture::kQ3KM, 12},
    {"q3_K_L", DType::Q3_K, Mixture::kQ3KL, 13},
};

// "blk.12.ffn_down.weight" -> 12; -1 for tensors outside the blocks.
int64_t layer_of(const std::string& name) {
  if (name.rfind("blk.", 0) != 0) return -1;
  int64_t layer = 0;
  size_t i = 4;
  if (i >= name.size() || !std::isdigit(static_cast<unsigned char>(name[i]))) return -1;
  for (; i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])); ++i) layer = layer * 10 + (name[i] - '0');
  return layer;
}

// Tensors that are never quantized: vectors (norms, biases, RoPE factors) and the classifier head
// (both layers of a two-layer one), whose rows decide the scores directly and cost little to keep exact.
bool stays_f32(const std::string& name, const std::vector<int64_t>& shape) {
  return shape.size() < 2 || !name.ends_with(".weight") || name.ends_with("norm.weight") ||
         name.rfind("cls.", 0) == 0 || name == "rope_freqs.weight";
}

bool is_block_type(DType t) { return dtype_info(t).block_elems > 1; }

// The matrices of a layer the mixtures treat apart.
enum class Role { kAttnV, kFfnDown, kAttnOutput, kOther };

// The type a mixture gives a layer's matrix (`base` where it leaves it alone), by llama.cpp's rules.
// attn_v is small next to attn_q when query heads are grouped, so more bits there cost little.
DType mixture_type(Mixture mixture, DType base, Role role, int64_t layer, int64_t n_layers,
                   int64_t query_heads_per_kv_head) {
  const bool grouped = query_heads_per_kv_head >= 4;
  switch (mixture) {
    case Mixture::kNone: return base;
    case Mixture::kKQuant:  // q4_K_M, q5_K_M
      if ((role == Role::kAttnV || role == Role::kFfnDown) && use_more_bits(layer, n_layers)) return DType::Q6_K;
      return base;
    case Mixture::kIq4:  // iq4_nl, iq4_xs
      if (role == Role::kAttnV && grouped) return DType::Q5_K;
      if (role == Role::kFfnDown && layer < n_layers / 8) return DType::Q5_K;
      return base;
    case Mixture::kQ2K:
      if (role == Role::kAttnV) return grouped ? DType::Q4_K : DType::Q3_K;
      if (role == Role::kFfnDown || role == Role::kAttnOutput) return DType::Q3_K;
      return base;
    case Mixture::kQ3KM:
      if (role == Role::kAttnV) return layer < 2 ? DType::Q5_K : DType::Q4_K;
      if (role == Role::kFfnDown) return layer < n_layers / 16 ? DType::Q5_K : DType::Q4_K;
      if (role == Role::kAttnOutput) return DType::Q4_K;
      return base;
    case Mixture::kQ3KL:
      if (role != Role::kOther) return DType::Q5_K;
      return base;
  }
  return base;
}

}  // namespace

Result<OutputType> parse_output_type(const std::string& name) {
  for (const TypeEntry& e : kTypes) {
    if (ascii_lower(e.name) == ascii_lower(name)) return OutputType{e.name, e.base, e.mixture, e.file_type};
  }
  return error("unknown output type '" + name + "' (supported: " + output_type_names() + ")");
}

const char* output_type_names() {
  return "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, q3_K_S, q3_K_M, q3_K_L, q4_K_M, q5_K_M, q6_K, iq4_nl, "
         "iq4_xs";
}

bool use_more_bits(int64_t layer, int64_t n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

TensorTypeChoice choose_tensor_type(const OutputType& type, const std::string& name, const std::vector<int64_t>& shape,
                                    int64_t n_layers, bool has_output, int64_t query_heads_per_kv_head) {
  if (stays_f32(name, shape)) return {DType::F32, ""};
  const int64_t cols = shape.back();
  TensorTypeChoice choice{type.base, ""};
  if (!is_block_type(type.base)) return choice;

  const bool is_output = name == "output.weight" || (!has_output && name == "token_embd.weight");
  if (is_output) {
    // The output matrix gets more bits than the other types give it; Q8_0, asked for, is kept as it is.
    if (type.base != DType::Q8_0)
      choice = cols % 256 != 0
                   ? TensorTypeChoice{DType::Q8_0, "output matrix: row of " + std::to_string(cols) + " is not a multiple of 256"}
                   : TensorTypeChoice{DType::Q6_K, "output matrix kept at Q6_K"};
  } else if (const int64_t layer = layer_of(name); layer >= 0) {
    const Role role = name.ends_with(".attn_v.weight")        ? Role::kAttnV
                      : name.ends_with(".ffn_down.weight")    ? Role::kFfnDown
                      : name.ends_with(".attn_output.weight") ? Role::kAttnOutput
                                                               : Role::kOther;
    const DType raised = mixture_type(type.mixture, type.base, role, layer, n_layers, query_heads_per_kv_head);
    if (raised != type.base) {
      choice = {raised, std::string("mixture: layer ") + std::to_string(layer) + " gets " + dtype_name(raised)};
    }
  }

  if (cols % dtype_info(choice.dtype).block_elems != 0) {
    const DType wanted = choice.dtype;
    choice.dtype = row_type_or_fallback(wanted, cols);
    choice.note = std::string("fallback: row of ") + std::to_string(cols) + " is not a multiple of " +
                  std::to_string(dtype_info(wanted).block_elems) + " for " + dtype_name(wanted);
  }
  return choice;
}

}  // namespace arbiter
