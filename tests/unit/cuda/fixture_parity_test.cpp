// The CUDA backend against the float64 references of every fixture model (HF directories and GGUF files
// in f32, bf16 and q8_0), and against the CPU backend on the same inputs. The three reference sequences
// run as one packed batch, so the packing is checked too. Tolerances are bf16's: weights and activations
// are rounded to bf16 at every GEMM input, which three chaotic random layers amplify to a few 1e-2.
#include <cstdio>

#include "cuda_test_util.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "runtime/backend.h"

namespace arbiter {
namespace {

using cuda_test::relative_max_error;

std::vector<float> as_floats(const TensorView& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  dequantize_row(t.dtype, t.data, v.data(), t.numel());
  return v;
}

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
  const int64_t d = c.hidden_size, vocab = c.vocab_size, layers = c.num_layers;

  for (const bool simple : {false, true}) {
    cuda_test::AttentionKernelChoice choice(simple);
    auto gpu = make_backend(*model, Device::kCuda);
    ASSERT_TRUE(gpu.is_ok()) << gpu.message();
    auto cpu = make_backend(*model, Device::kCpu);
    ASSERT_TRUE(cpu.is_ok());

    std::vector<SequenceInput> batch;
    for (int s = 0; s < 3; ++s) {
      const TensorView* ids = (*ref)->tensor("seq" + std::to_string(s) + ".input_ids");
      ASSERT_NE(ids, nullptr);
      SequenceInput seq;
      const auto* p = static_cast<const int32_t*>(ids->data);
      seq.tokens.assign(p, p + ids->numel());
      for (int32_t i = 0; i < int32_t(seq.tokens.size()); ++i) seq.read_positions.push_back(i);
      batch.push_back(seq);
    }
    ForwardOptions options;
    for (int32_t l = 0; l <= layers; ++l) options.capture_layers.push_back(l);
    options.final_norm = true;
    options.logits = c.is_classifier() ? LogitsMode::kNone : LogitsMode::kFull;
    options.score_head = c.is_classifier();
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
      auto reference = [&](const std::string& name) {
        const TensorView* r = (*ref)->tensor(prefix + name);
        EXPECT_NE(r, nullptr) << prefix + name;
        return r ? as_floats(*r) : std::vector<float>{};
      };
      for (int64_t l = 0; l <= layers; ++l)
        check(prefix + "layer" + std::to_string(l), slice(o.layer_states, l * t * d, t * d), reference("layer" + std::to_string(l)),
              slice(cpu_o.layer_states, l * t * d, t * d));
      check(prefix + "final_norm", o.final_norm, reference("final_norm"), cpu_o.final_norm);
      if (c.is_classifier()) {
        const int64_t labels = c.num_labels;
        check(prefix + "scores", slice(o.scores, (t - 1) * labels, labels), reference("scores"),
              slice(cpu_o.scores, (t - 1) * labels, labels));
      } else {
        check(prefix + "logits", o.logits, reference("logits"), cpu_o.logits);
        // lens_logits_last: [layers + 1, vocab] at the last position.
        std::vector<float> lens, cpu_lens;
        for (int64_t l = 0; l <= layers; ++l) {
          const std::vector<float> row = slice(o.layer_logits, (l * t + t - 1) * vocab, vocab);
          const std::vector<float> cpu_row = slice(cpu_o.layer_logits, (l * t + t - 1) * vocab, vocab);
          lens.insert(lens.end(), row.begin(), row.end());
          cpu_lens.insert(cpu_lens.end(), cpu_row.begin(), cpu_row.end());
        }
        check(prefix + "lens_logits_last", lens, reference("lens_logits_last"), cpu_lens);
      }
    }
    std::printf("[cuda parity] %-34s %-6s worst error: %.3g vs reference, %.3g vs cpu (tolerance %.3g)\n",
                fc.model_path.c_str(), simple ? "simple" : "mma", worst_ref, worst_cpu, fc.tolerance);
  }
}

// The CPU parity test's cases, with bf16's bounds: an f32 or bf16 file 1e-1, q8_0 1.5e-1.
std::vector<FixtureCase> cases() {
  std::vector<FixtureCase> v;
  for (const char* name : {"llama", "llama-bf16", "mistral", "qwen2", "qwen2-sharded", "qwen3", "gemma2", "llama-seqcls1",
                           "llama-seqcls5", "qwen2-seqcls1", "qwen3-seqcls1", "gemma2-seqcls1"})
    v.push_back({std::string("fixtures/hf/") + name, std::string("fixtures/hf/") + name, 1e-1});
  for (const char* name : {"llama", "mistral", "qwen2", "gemma2", "llama-bf16"}) {
    const std::string ref = std::string("fixtures/hf/") + name;
    v.push_back({std::string("fixtures/gguf/") + name + ".f32.gguf", ref, 1e-1});
    v.push_back({std::string("fixtures/gguf/") + name + ".bf16.gguf", ref, 1e-1});
    v.push_back({std::string("fixtures/gguf/") + name + ".q8_0.gguf", ref, 1.5e-1});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CudaFixtureParity, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<FixtureCase>& info) {
                           std::string name = info.param.model_path;
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace arbiter
