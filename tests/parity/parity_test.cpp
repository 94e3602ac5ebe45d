// Parity of the CPU forward pass with the float64 references made by transformers, for every fixture
// model as a Hugging Face directory and as the canonical converter's GGUF files, in f32 arithmetic and,
// where the CPU has AVX512-BF16, in bf16 dot-product arithmetic (runtime/cpu/matmul.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "../support/reference_parity.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "runtime/backend.h"
#include "runtime/cpu/matmul.h"
#include "../support/shared_dir.h"

namespace arbiter {
namespace {

using arbiter::testing::kShared;
using namespace arbiter::testing;

struct ParityCase {
  std::string model_path;  // relative to shared/
  std::string ref_dir;     // fixtures/hf/<name>
  double tolerance;
  MatmulPrecision precision = MatmulPrecision::kF32;
};

void PrintTo(const ParityCase& c, std::ostream* os) {
  *os << c.model_path << " (" << matmul_precision_name(c.precision) << ")";
}

class ForwardParity : public ::testing::TestWithParam<ParityCase> {};

TEST_P(ForwardParity, MatchesReferenceOnAllSequences) {
  const ParityCase& pc = GetParam();
  if (pc.precision == MatmulPrecision::kBf16 && !bf16_matmul_supported()) GTEST_SKIP() << "no AVX512-BF16 here";
  set_matmul_precision(pc.precision);
  struct Restore {
    ~Restore() { set_matmul_precision(MatmulPrecision::kAuto); }
  } restore;
  auto model = load_model(kShared + "/" + pc.model_path);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto ref = SafetensorsFile::open(kShared + "/" + pc.ref_dir + "/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  const ModelConfig& c = (*model)->config;
  auto backend = make_cpu_backend(*model);
  double worst = 0;
  const std::vector<SequenceInput> sequences = reference_sequences(**ref);
  ASSERT_EQ(sequences.size(), 3u);
  for (int s = 0; s < 3; ++s) {
    auto out = backend->forward({sequences[size_t(s)]}, reference_read_options(c));
    ASSERT_TRUE(out.is_ok()) << out.message();
    for (const ComparedTensor& tensor : compared_tensors(**ref, s, (*out)[0], c)) {
      // A head output is one sum of 64 products measured against itself: cancellation in that sum
      // scales its relative error, so it gets the f32 bound 1e-4 rather than the states' 1e-5.
      const double tolerance = tensor.name == "scores" ? std::max(pc.tolerance, 1e-4) : pc.tolerance;
      const double err = relative_max_error(tensor.ours, tensor.reference);
      worst = std::max(worst, err);
      EXPECT_LE(err, tolerance) << pc.model_path << " seq" << s << "." << tensor.name;
    }
  }
  std::printf("[parity] %-36s %-4s worst relative error %.3g (tolerance %.3g)\n", pc.model_path.c_str(),
              matmul_precision_name(pc.precision), worst, pc.tolerance);
}

// f32 weights: an f32 engine agrees with float64 to a few ulps; 1e-5 leaves room for summation order.
// bf16 GGUF of f32 weights and q8_0: the weights themselves differ from the reference's by their
// rounding (bf16: 2^-9 relative per weight; q8_0: up to 1/254 of a block's max), which three layers
// amplify to ~3e-2 and ~9e-2 (the same bounds an independent float64 forward on these files measures).
// bf16 arithmetic rounds every matmul input and attention's softmax weights and values as well, a
// second rounding of the bf16 weights' size (2^-9 relative per value): llama-bf16, whose reference
// uses its bf16 weights as they are, measures what rounding only the activations costs through three
// layers (2e-2); a one-label head's score, a single sum with cancellation, moves further (llama-seqcls1:
// 5.0e-2, 3.0e-2 with the values product in f32), so every bound grows by 3e-2, and an f32 model, whose
// weights are rounded too, starts from the bf16 GGUF bound (3e-2).
std::vector<ParityCase> cases() {
  std::vector<ParityCase> v;
  for (const FixtureModel& f : fixture_models()) {
    const double tolerance = f.weights == FixtureWeights::kF32          ? 1e-5
                             : f.weights == FixtureWeights::kBf16Source ? 2e-2
                             : f.weights == FixtureWeights::kBf16Gguf   ? 3e-2
                                                                        : 9e-2;
    v.push_back({f.model_path, f.ref_dir, tolerance, MatmulPrecision::kF32});
    const double bf16_tolerance = (f.weights == FixtureWeights::kF32 ? 3e-2 : tolerance) + 3e-2;
    v.push_back({f.model_path, f.ref_dir, bf16_tolerance, MatmulPrecision::kBf16});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ForwardParity, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<ParityCase>& info) {
                           return fixture_test_name(info.param.model_path) + "_" +
                                  matmul_precision_name(info.param.precision);
                         });

}  // namespace
}  // namespace arbiter
