// The CUDA backend against the float64 references of every fixture model (HF directories and GGUF files
// in f32, bf16 and q8_0), and against the CPU backend on the same inputs. The three reference sequences
// run as one packed batch, so the packing is checked too. Tolerances are bf16's: weights and activations
// are rounded to bf16 at every GEMM input, which three chaotic random layers amplify to a few 1e-2.
#include <cstdio>

#include "cuda_test_util.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "runtime/backend.h"
#include "runtime/cpu/matmul.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

std::vector<float> slice(const std::vector<float>& v, int64_t begin, int64_t count) {
  return std::vector<float>(v.begin() + begin, v.begin() + begin + count);
}

struct FixtureCase {
  std::string model_path;  // relative to shared/
  std::string ref_dir;
  double tolerance;        // against the float64 reference and against the CPU backend
};

void PrintTo(const FixtureCase& c, std::ostream* os) { *os << c.model_path; }

class CudaFixtureParity : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(CudaFixtureParity, MatchesReferenceAndCpu) {
  ARBITER_SKIP_WITHOUT_GPU();
  const FixtureCase& fc = GetParam();
  const std::string shared = cuda_test::shared_dir();
  auto model = load_model(shared + "/" + fc.model_path);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto ref = SafetensorsFile::open(shared + "/" + fc.ref_dir + "/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  const ModelConfig& c = (*model)->config;
  const int64_t vocab = c.vocab_size, layers = c.num_layers;

  for (const bool simple : {false, true}) {
    cuda_test::AttentionKernelChoice choice(simple);
    auto gpu = make_backend(*model, Device::kCuda);
    ASSERT_TRUE(gpu.is_ok()) << gpu.message();
    set_matmul_precision(MatmulPrecision::kF32);  // the CPU side is the exact (f32) reference
    auto cpu = make_backend(*model, Device::kCpu);
    ASSERT_TRUE(cpu.is_ok());

    const std::vector<SequenceInput> batch = reference_sequences(**ref);
    ASSERT_EQ(batch.size(), 3u);
    ForwardOptions options = reference_read_options(c);
    if (!c.is_classifier()) {  // the normed lens over the whole vocabulary, as the reference's lens_logits_last
      options.layer_logits = true;
      options.lens = Lens::kNormed;
      for (int32_t id = 0; id < vocab; ++id) options.logit_token_ids.push_back(id);
    }
    auto g = (*gpu)->forward(batch, options);
    ASSERT_TRUE(g.is_ok()) << g.message();
    auto h = (*cpu)->forward(batch, options);
    ASSERT_TRUE(h.is_ok()) << h.message();

    double worst_ref = 0, worst_cpu = 0;
    auto check = [&](const std::string& what, const std::vector<float>& ours, const std::vector<float>& reference,
                     const std::vector<float>& cpu_values) {
      const double e_ref = relative_max_error(ours, reference), e_cpu = relative_max_error(ours, cpu_values);
      worst_ref = std::max(worst_ref, e_ref);
      worst_cpu = std::max(worst_cpu, e_cpu);
      EXPECT_LE(e_ref, fc.tolerance) << fc.model_path << " " << what << " against the reference";
      EXPECT_LE(e_cpu, fc.tolerance) << fc.model_path << " " << what << " against the CPU backend";
    };
    for (int s = 0; s < 3; ++s) {
      const std::string prefix = "seq" + std::to_string(s) + ".";
      const SequenceOutput& o = (*g)[size_t(s)];
      const SequenceOutput& cpu_o = (*h)[size_t(s)];
      const int64_t t = int64_t(batch[size_t(s)].tokens.size());
      const std::vector<ComparedTensor> gpu_tensors = compared_tensors(**ref, s, o, c);
      const std::vector<ComparedTensor> cpu_tensors = compared_tensors(**ref, s, cpu_o, c);
      for (size_t i = 0; i < gpu_tensors.size(); ++i)
        check(prefix + gpu_tensors[i].name, gpu_tensors[i].ours, gpu_tensors[i].reference, cpu_tensors[i].ours);
      if (!c.is_classifier()) {
        const TensorView* lens_ref = (*ref)->tensor(prefix + "lens_logits_last");
        ASSERT_NE(lens_ref, nullptr) << prefix << "lens_logits_last";
        // lens_logits_last: [layers + 1, vocab] at the last position.
        std::vector<float> lens, cpu_lens;
        for (int64_t l = 0; l <= layers; ++l) {
          const std::vector<float> row = slice(o.layer_logits, (l * t + t - 1) * vocab, vocab);
          const std::vector<float> cpu_row = slice(cpu_o.layer_logits, (l * t + t - 1) * vocab, vocab);
          lens.insert(lens.end(), row.begin(), row.end());
          cpu_lens.insert(cpu_lens.end(), cpu_row.begin(), cpu_row.end());
        }
        check(prefix + "lens_logits_last", lens, as_floats(*lens_ref), cpu_lens);
      }
    }
    std::printf("[cuda parity] %-34s %-6s worst error: %.3g vs reference, %.3g vs cpu (tolerance %.3g)\n",
                fc.model_path.c_str(), simple ? "simple" : "mma", worst_ref, worst_cpu, fc.tolerance);
  }
}

// The CPU parity test's cases, with bf16's bounds: an f32 or bf16 file 1e-1, q8_0 1.5e-1.
std::vector<FixtureCase> fixture_cases() {
  std::vector<FixtureCase> v;
  for (const FixtureModel& f : fixture_models())
    v.push_back({f.model_path, f.ref_dir, f.weights == FixtureWeights::kQ8_0Gguf ? 1.5e-1 : 1e-1});
  return v;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CudaFixtureParity, ::testing::ValuesIn(fixture_cases()),
                         [](const ::testing::TestParamInfo<FixtureCase>& info) {
                           return fixture_test_name(info.param.model_path);
                         });

}  // namespace
}  // namespace arbiter
