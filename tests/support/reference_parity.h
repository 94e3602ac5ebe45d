// The forward-pass parity measure against the fixtures' float64 references (ref.safetensors made with
// transformers), shared by the CPU parity tests, the conversion tests and the GPU tests: the three
// reference sequences, what to read from them, and the error measure.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "model/config.h"
#include "runtime/backend.h"

namespace arbiter::testing {

inline std::vector<float> as_floats(const TensorView& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  dequantize_row(t.dtype, t.data, v.data(), t.numel());
  return v;
}

// max |ours - ref| / max |ref|, the issues' parity measure; infinite for NaN or a size mismatch.
inline double relative_max_error(const std::vector<float>& ours, const std::vector<float>& ref) {
  if (ours.size() != ref.size()) return INFINITY;
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double diff = std::fabs(double(ours[i]) - double(ref[i]));
    if (std::isnan(diff)) return INFINITY;
    max_diff = std::max(max_diff, diff);
    max_ref = std::max(max_ref, std::fabs(double(ref[i])));
  }
  return max_diff / std::max(max_ref, 1e-30);
}

// seq0..seq2 of a reference file, each read at every position.
inline std::vector<SequenceInput> reference_sequences(const SafetensorsFile& ref) {
  std::vector<SequenceInput> sequences;
  for (int s = 0; s < 3; ++s) {
    const TensorView* ids = ref.tensor("seq" + std::to_string(s) + ".input_ids");
    EXPECT_NE(ids, nullptr) << "seq" << s << ".input_ids";
    if (ids == nullptr) break;
    SequenceInput seq;
    const auto* p = static_cast<const int32_t*>(ids->data);
    seq.tokens.assign(p, p + ids->numel());
    for (int32_t i = 0; i < int32_t(seq.tokens.size()); ++i) seq.read_positions.push_back(i);
    sequences.push_back(std::move(seq));
  }
  return sequences;
}

// Everything the references hold: every layer's states, the final norm, and the logits (causal models)
// or the head's scores (classifiers).
inline ForwardOptions reference_read_options(const ModelConfig& c) {
  ForwardOptions options;
  for (int32_t l = 0; l <= c.num_layers; ++l) options.capture_layers.push_back(l);
  options.final_norm = true;
  options.logits = c.is_classifier() ? LogitsMode::kNone : LogitsMode::kFull;
  options.score_head = c.is_classifier();
  return options;
}

struct ComparedTensor {
  std::string name;  // the reference's name without the "seqN." prefix
  std::vector<float> ours, reference;
};

// One sequence's output (of a forward with reference_read_options) beside its reference tensors:
// layer0..layerL, final_norm, then logits or the last position's scores.
inline std::vector<ComparedTensor> compared_tensors(const SafetensorsFile& ref, int sequence, const SequenceOutput& out,
                                                    const ModelConfig& c) {
  const std::string prefix = "seq" + std::to_string(sequence) + ".";
  const int64_t d = c.hidden_size, t = out.num_reads;
  auto reference = [&](const std::string& name) {
    const TensorView* r = ref.tensor(prefix + name);
    EXPECT_NE(r, nullptr) << prefix + name;
    return r ? as_floats(*r) : std::vector<float>{};
  };
  auto slice = [](const std::vector<float>& v, int64_t begin, int64_t count) {
    if (begin + count > int64_t(v.size())) return std::vector<float>{};
    return std::vector<float>(v.begin() + begin, v.begin() + begin + count);
  };
  std::vector<ComparedTensor> tensors;
  for (int64_t l = 0; l <= c.num_layers; ++l) {
    const std::string name = "layer" + std::to_string(l);
    tensors.push_back({name, slice(out.layer_states, l * t * d, t * d), reference(name)});
  }
  tensors.push_back({"final_norm", out.final_norm, reference("final_norm")});
  if (c.is_classifier()) {
    tensors.push_back({"scores", slice(out.scores, (t - 1) * c.num_labels, c.num_labels), reference("scores")});
  } else {
    tensors.push_back({"logits", out.logits, reference("logits")});
  }
  return tensors;
}

// Every fixture model with float64 references: the Hugging Face directories and the canonical converter's
// GGUF files of five of them, each with the directory whose ref.safetensors it is measured against.
enum class FixtureWeights { kF32, kBf16Source, kBf16Gguf, kQ8_0Gguf };
struct FixtureModel {
  std::string model_path;  // relative to shared/
  std::string ref_dir;     // fixtures/hf/<name>, relative to shared/
  FixtureWeights weights;  // what the tolerance depends on
};

inline std::vector<FixtureModel> fixture_models() {
  std::vector<FixtureModel> v;
  for (const char* name : {"llama", "mistral", "qwen2", "qwen2-sharded", "qwen3", "gemma2", "llama-seqcls1",
                           "llama-seqcls5", "qwen2-seqcls1", "qwen3-seqcls1", "gemma2-seqcls1"})
    v.push_back({std::string("fixtures/hf/") + name, std::string("fixtures/hf/") + name, FixtureWeights::kF32});
  v.push_back({"fixtures/hf/llama-bf16", "fixtures/hf/llama-bf16", FixtureWeights::kBf16Source});
  for (const char* name : {"llama", "mistral", "qwen2", "gemma2", "llama-bf16"}) {
    const std::string ref = std::string("fixtures/hf/") + name;
    const bool bf16_source = std::string(name) == "llama-bf16";
    v.push_back({std::string("fixtures/gguf/") + name + ".f32.gguf", ref,
                 bf16_source ? FixtureWeights::kBf16Source : FixtureWeights::kF32});
    v.push_back({std::string("fixtures/gguf/") + name + ".bf16.gguf", ref,
                 bf16_source ? FixtureWeights::kBf16Source : FixtureWeights::kBf16Gguf});
    v.push_back({std::string("fixtures/gguf/") + name + ".q8_0.gguf", ref, FixtureWeights::kQ8_0Gguf});
  }
  return v;
}

// A test name from a model path (letters and digits only).
inline std::string fixture_test_name(std::string path) {
  for (char& ch : path)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return path;
}

}  // namespace arbiter::testing
