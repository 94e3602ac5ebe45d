// Parity of the CPU forward pass with the float64 references made by transformers, for every fixture
// model as a Hugging Face directory and as the canonical converter's GGUF files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "io/safetensors.h"
#include "model/model.h"
#include "runtime/backend.h"

namespace arbiter {
namespace {

const std::string kShared = ARBITER_SHARED_DIR;

std::vector<float> as_floats(const TensorView& t) {
  std::vector<float> v(size_t(t.numel()));
  dequantize_row(t.dtype, t.data, v.data(), t.numel());
  return v;
}

// max |ours - ref| / max |ref|, the parity measure.
double relative_max_error(const float* ours, const std::vector<float>& ref) {
  double max_diff = 0, max_ref = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(double(ours[i]) - double(ref[i])));
    max_ref = std::max(max_ref, std::fabs(double(ref[i])));
  }
  return max_diff / std::max(max_ref, 1e-30);
}

struct ParityCase {
  std::string model_path;  // relative to shared/
  std::string ref_dir;     // fixtures/hf/<name>
  double tolerance;
};

void PrintTo(const ParityCase& c, std::ostream* os) { *os << c.model_path; }

class ForwardParity : public ::testing::TestWithParam<ParityCase> {};

TEST_P(ForwardParity, MatchesReferenceOnAllSequences) {
  const ParityCase& pc = GetParam();
  auto model = load_model(kShared + "/" + pc.model_path);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto ref = SafetensorsFile::open(kShared + "/" + pc.ref_dir + "/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  const ModelConfig& c = (*model)->config;
  auto backend = make_cpu_backend(*model);
  const int64_t d = c.hidden_size;
  double worst = 0;

  for (int s = 0; s < 3; ++s) {
    const std::string prefix = "seq" + std::to_string(s) + ".";
    const TensorView* ids_view = (*ref)->tensor(prefix + "input_ids");
    ASSERT_NE(ids_view, nullptr);
    SequenceInput seq;
    const auto* ids = static_cast<const int32_t*>(ids_view->data);
    seq.tokens.assign(ids, ids + ids_view->numel());
    const int64_t t = int64_t(seq.tokens.size());
    for (int32_t p = 0; p < t; ++p) seq.read_positions.push_back(p);

    ForwardOptions options;
    for (int32_t l = 0; l <= c.num_layers; ++l) options.capture_layers.push_back(l);
    options.final_norm = true;
    options.logits = c.is_classifier() ? LogitsMode::kNone : LogitsMode::kFull;
    options.score_head = c.is_classifier();
    auto out = backend->forward({seq}, options);
    ASSERT_TRUE(out.is_ok()) << out.message();
    const SequenceOutput& o = (*out)[0];

    auto check = [&](const std::string& name, const float* ours, double tolerance) {
      const TensorView* r = (*ref)->tensor(prefix + name);
      ASSERT_NE(r, nullptr) << prefix + name;
      const double err = relative_max_error(ours, as_floats(*r));
      worst = std::max(worst, err);
      EXPECT_LE(err, tolerance) << pc.model_path << " " << prefix << name;
    };
    for (int32_t l = 0; l <= c.num_layers; ++l)
      check("layer" + std::to_string(l), o.layer_states.data() + l * t * d, pc.tolerance);
    check("final_norm", o.final_norm.data(), pc.tolerance);
    if (c.is_classifier()) {
      // A head output is one sum of 64 products measured against itself: cancellation in that sum
      // scales its relative error, so it gets the f32 bound 1e-4 rather than the states' 1e-5.
      check("scores", o.scores.data() + (t - 1) * c.num_labels, std::max(pc.tolerance, 1e-4));
    } else {
      check("logits", o.logits.data(), pc.tolerance);
    }
  }
  std::printf("[parity] %-36s worst relative error %.3g (tolerance %.3g)\n", pc.model_path.c_str(), worst, pc.tolerance);
}

// f32 weights: an f32 engine agrees with float64 to a few ulps; 1e-5 leaves room for summation order.
// bf16 GGUF of f32 weights and q8_0: the weights themselves differ from the reference's by their
// rounding (bf16: 2^-9 relative per weight; q8_0: up to 1/254 of a block's max), which three layers
// amplify to ~3e-2 and ~9e-2 (the same bounds an independent float64 forward on these files measures).
std::vector<ParityCase> cases() {
  std::vector<ParityCase> v;
  for (const char* name : {"llama", "mistral", "qwen2", "qwen2-sharded", "qwen3", "gemma2", "llama-seqcls1",
                           "llama-seqcls5", "qwen2-seqcls1", "qwen3-seqcls1", "gemma2-seqcls1"}) {
    v.push_back({std::string("fixtures/hf/") + name, std::string("fixtures/hf/") + name, 1e-5});
  }
  v.push_back({"fixtures/hf/llama-bf16", "fixtures/hf/llama-bf16", 2e-2});
  for (const char* name : {"llama", "mistral", "qwen2", "gemma2", "llama-bf16"}) {
    const std::string ref = std::string("fixtures/hf/") + name;
    const bool bf16_model = std::string(name) == "llama-bf16";
    v.push_back({std::string("fixtures/gguf/") + name + ".f32.gguf", ref, bf16_model ? 2e-2 : 1e-5});
    v.push_back({std::string("fixtures/gguf/") + name + ".bf16.gguf", ref, bf16_model ? 2e-2 : 3e-2});
    v.push_back({std::string("fixtures/gguf/") + name + ".q8_0.gguf", ref, 9e-2});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ForwardParity, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<ParityCase>& info) {
                           std::string name = info.param.model_path;
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace arbiter
