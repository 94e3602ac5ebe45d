// The CUDA backend against the CPU backend on random models built to reach every path the fixtures do
// not: head sizes 64, 128 and 256 (the tensor-core kernel's larger instantiations), sequences shorter and
// longer than one 64-query tile and crossing tile edges, several sequences packed in one batch, GQA
// groups of 2 and 4, sliding windows that cut across tiles, a softcap that bends the scores, partial RoPE
// in both pairings, q/k norms, biases, post-norms, GeGLU, embedding scale, selected logits, both lenses and
// a multi-label head. Weights have std 1/sqrt(d), so each layer keeps the scale of its input and the
// attention scores have a spread near 1: a wrong key, mask or scale moves the outputs by O(1).
#include <cmath>
#include <cstdio>
#include <thread>

#include "cuda_test_util.h"
#include "model/random_model.h"
#include "runtime/backend.h"
#include "runtime/cpu/matmul.h"

namespace arbiter {
namespace {

using cuda_test::relative_max_error;

struct RandomCase {
  std::string name;
  ModelConfig config;
};

void PrintTo(const RandomCase& c, std::ostream* os) { *os << c.name; }

ModelConfig base_config(int64_t d, int64_t heads, int64_t kv_heads, int64_t head_dim) {
  ModelConfig c;
  c.vocab_size = 512;
  c.hidden_size = d;
  c.num_layers = 2;
  c.num_heads = heads;
  c.num_kv_heads = kv_heads;
  c.head_dim = head_dim;
  c.rope_dim = head_dim;
  c.intermediate_size = 2 * d;
  c.max_position_embeddings = 4096;
  c.rms_norm_eps = 1e-6;
  c.rope_theta = 10000.0;
  c.layer_sliding.assign(size_t(c.num_layers), false);
  c.source_format = "random";
  return c;
}

std::vector<RandomCase> random_cases() {
  std::vector<RandomCase> v;
  {  // llama-like, GQA 4, adjacent pairs, partial RoPE, untied head
    ModelConfig c = base_config(256, 4, 1, 64);
    c.rope_pairing = RopePairing::kAdjacent;
    c.rope_dim = 32;
    v.push_back({"hd64_gqa4_adjacent_partial_rope", c});
  }
  {  // qwen-like: biases, q/k norms, tied embeddings, a sliding window across tiles on layer 1
    ModelConfig c = base_config(256, 2, 1, 128);
    c.arch = Architecture::kQwen3;
    c.qkv_bias = true;
    c.qk_norm = true;
    c.tie_embeddings = true;
    c.sliding_window = 100;
    c.layer_sliding = {false, true};
    v.push_back({"hd128_bias_qknorm_window100", c});
  }
  {  // gemma-like: head 256, post-norms, GeGLU, softcaps that bend, window 37, embedding scale
    ModelConfig c = base_config(256, 2, 1, 256);
    c.arch = Architecture::kGemma2;
    c.post_norms = true;
    c.activation = Activation::kGeluTanh;
    c.attn_logit_softcap = 2.0;
    c.final_logit_softcap = 5.0;
    c.sliding_window = 37;
    c.layer_sliding = {true, false};
    c.embedding_scale = 16.0;
    c.attention_scale = 0.08;
    v.push_back({"hd256_gemma_softcap_window37", c});
  }
  {  // a reward model: three labels, head 64, GQA 2, partial RoPE in halves (the other pairing)
    ModelConfig c = base_config(256, 4, 2, 64);
    c.head = HeadKind::kSequenceClassification;
    c.num_labels = 3;
    c.rope_pairing = RopePairing::kHalfSplit;
    c.rope_dim = 32;
    v.push_back({"hd64_classifier3_halves_partial_rope", c});
  }
  return v;
}

class CudaRandomModel : public ::testing::TestWithParam<RandomCase> {};

TEST_P(CudaRandomModel, MatchesCpuOnPackedBatches) {
  ARBITER_SKIP_WITHOUT_GPU();
  const ModelConfig& c = GetParam().config;
  auto model = make_random_model(c, DType::F32, 7, float(1.0 / std::sqrt(double(c.hidden_size))));
  ASSERT_TRUE(model.is_ok()) << model.message();

  std::vector<SequenceInput> batch;
  uint32_t state = 12345;
  for (const int len : {1, 5, 64, 65, 130, 300}) {
    SequenceInput seq;
    for (int i = 0; i < len; ++i) {
      state = state * 1664525u + 1013904223u;
      seq.tokens.push_back(int32_t((state >> 8) % uint32_t(c.vocab_size)));
    }
    for (const int p : {0, len / 2, len - 1})
      if (seq.read_positions.empty() || p > seq.read_positions.back()) seq.read_positions.push_back(p);
    batch.push_back(seq);
  }

  for (const Lens lens : {Lens::kRaw, Lens::kNormed}) {
    ForwardOptions options;
    options.capture_layers = {0, 1, 2};
    options.final_norm = true;
    options.logits = c.is_classifier() ? LogitsMode::kNone : lens == Lens::kRaw ? LogitsMode::kFull : LogitsMode::kSelected;
    options.logit_token_ids = {1, 7, 300, 511};
    options.layer_logits = true;
    options.lens = lens;
    options.score_head = c.is_classifier();
    set_matmul_precision(MatmulPrecision::kF32);  // the CPU side is the exact (f32) reference
    auto cpu = make_backend(*model, Device::kCpu);
    ASSERT_TRUE(cpu.is_ok());
    auto expected = (*cpu)->forward(batch, options);
    ASSERT_TRUE(expected.is_ok()) << expected.message();

    for (const bool simple : {false, true}) {
      cuda_test::AttentionKernelChoice choice(simple);
      auto gpu = make_backend(*model, Device::kCuda);
      ASSERT_TRUE(gpu.is_ok()) << gpu.message();
      auto got = (*gpu)->forward(batch, options);
      ASSERT_TRUE(got.is_ok()) << got.message();
      ASSERT_EQ(got->size(), batch.size());
      double worst = 0;
      for (size_t s = 0; s < batch.size(); ++s) {
        const SequenceOutput& a = (*got)[s];
        const SequenceOutput& b = (*expected)[s];
        EXPECT_EQ(a.num_reads, b.num_reads);
        const std::pair<const char*, std::pair<const std::vector<float>*, const std::vector<float>*>> outputs[] = {
            {"layer_states", {&a.layer_states, &b.layer_states}}, {"final_norm", {&a.final_norm, &b.final_norm}},
            {"logits", {&a.logits, &b.logits}},                   {"scores", {&a.scores, &b.scores}},
            {"layer_logits", {&a.layer_logits, &b.layer_logits}}};
        for (const auto& [what, pair] : outputs) {
          ASSERT_EQ(pair.first->size(), pair.second->size()) << what << " of sequence " << s;
          if (pair.second->empty()) continue;
          const double e = relative_max_error(*pair.first, *pair.second);
          worst = std::max(worst, e);
          EXPECT_LE(e, 5e-2) << GetParam().name << " " << (simple ? "simple" : "mma") << " " << what << " of sequence "
                             << s << " (length " << batch[s].tokens.size() << ")";
        }
      }
      std::printf("[cuda random] %-34s %-6s lens %-6s worst error against the CPU: %.3g\n", GetParam().name.c_str(),
                  simple ? "simple" : "mma", lens == Lens::kRaw ? "raw" : "normed", worst);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudaRandomModel, ::testing::ValuesIn(random_cases()),
                         [](const ::testing::TestParamInfo<RandomCase>& info) { return info.param.name; });

TEST(CudaBackend, RejectsWhatTheCpuRejects) {
  ARBITER_SKIP_WITHOUT_GPU();
  auto config = shape_preset("tiny");
  ASSERT_TRUE(config.is_ok());
  auto model = make_random_model(*config, DType::F32, 1);
  ASSERT_TRUE(model.is_ok());
  auto gpu = make_backend(*model, Device::kCuda);
  ASSERT_TRUE(gpu.is_ok()) << gpu.message();
  ForwardOptions options;
  auto bad_token = (*gpu)->forward({SequenceInput{{1, 2, 9999}, {}}}, options);
  ASSERT_FALSE(bad_token.is_ok());
  EXPECT_NE(bad_token.message().find("position 2"), std::string::npos) << bad_token.message();
  options.capture_layers = {3};
  EXPECT_FALSE((*gpu)->forward({SequenceInput{{1, 2}, {}}}, options).is_ok());
}

TEST(CudaBackend, SameBytesOnRepeatedCalls) {
  ARBITER_SKIP_WITHOUT_GPU();
  auto config = shape_preset("tiny");
  ASSERT_TRUE(config.is_ok());
  auto model = make_random_model(*config, DType::F32, 3);
  ASSERT_TRUE(model.is_ok());
  auto gpu = make_backend(*model, Device::kCuda);
  ASSERT_TRUE(gpu.is_ok()) << gpu.message();
  ForwardOptions options;
  options.final_norm = true;
  options.logits = LogitsMode::kFull;
  const std::vector<SequenceInput> batch = {SequenceInput{{3, 1, 4, 1, 5, 9, 2, 6}, {}}, SequenceInput{{2, 7}, {0, 1}}};
  auto first = (*gpu)->forward(batch, options);
  ASSERT_TRUE(first.is_ok()) << first.message();
  // A larger batch in between grows the workspace: the result must not depend on it.
  std::vector<SequenceInput> big(4, SequenceInput{std::vector<int32_t>(500, 3), {}});
  ASSERT_TRUE((*gpu)->forward(big, options).is_ok());
  auto second = (*gpu)->forward(batch, options);
  ASSERT_TRUE(second.is_ok()) << second.message();
  for (size_t s = 0; s < batch.size(); ++s) {
    EXPECT_EQ((*first)[s].logits, (*second)[s].logits);
    EXPECT_EQ((*first)[s].final_norm, (*second)[s].final_norm);
  }
}

// CUDA's current device is per host thread: a backend made on one thread and run on another (the server's
// batch worker) must make its own GPU current, and every GPU the runtime sees can hold one. With one GPU
// a new thread's default device is already that GPU, so only a machine with two or more can catch a
// backend that leaves the current device alone.
TEST(CudaBackend, RunsFromAnotherThreadAndOnEveryGpu) {
  ARBITER_SKIP_WITHOUT_GPU();
  auto config = shape_preset("tiny");
  ASSERT_TRUE(config.is_ok());
  auto model = make_random_model(*config, DType::F32, 5);
  ASSERT_TRUE(model.is_ok());
  ForwardOptions options;
  options.final_norm = true;
  const std::vector<SequenceInput> batch = {SequenceInput{{3, 1, 4, 1, 5, 9, 2, 6}, {}}};
  auto first = make_backend(*model, DeviceChoice(Device::kCuda, 0));
  ASSERT_TRUE(first.is_ok()) << first.message();
  auto here = (*first)->forward(batch, options);
  ASSERT_TRUE(here.is_ok()) << here.message();
  for (int gpu = 0; gpu < cuda_device_count(); ++gpu) {
    auto backend = make_backend(*model, DeviceChoice(Device::kCuda, gpu));
    ASSERT_TRUE(backend.is_ok()) << "cuda:" << gpu << ": " << backend.message();
    Result<std::vector<SequenceOutput>> there = error("not run");
    std::thread worker([&] { there = (*backend)->forward(batch, options); });
    worker.join();
    ASSERT_TRUE(there.is_ok()) << "cuda:" << gpu << ": " << there.message();
    if (gpu == 0) EXPECT_EQ((*here)[0].final_norm, (*there)[0].final_norm);  // same card, same bytes
    else EXPECT_LT(relative_max_error((*there)[0].final_norm, (*here)[0].final_norm), 1e-2) << "cuda:" << gpu;
  }
}

TEST(CudaBackend, RandomDeviceWeightsRunAtAPresetShape) {
  ARBITER_SKIP_WITHOUT_GPU();
  auto config = shape_preset("qwen2.5-0.5b");
  ASSERT_TRUE(config.is_ok());
  config->head = HeadKind::kSequenceClassification;
  config->num_labels = 1;
  auto backend = make_random_cuda_backend(*config, 5);
  ASSERT_TRUE(backend.is_ok()) << backend.message();
  ForwardOptions options;
  options.score_head = true;
  auto out = (*backend)->forward({SequenceInput{std::vector<int32_t>(200, 11), {}}, SequenceInput{{1, 2, 3}, {}}}, options);
  ASSERT_TRUE(out.is_ok()) << out.message();
  for (const SequenceOutput& o : *out) {
    ASSERT_EQ(o.scores.size(), 1u);
    EXPECT_TRUE(std::isfinite(o.scores[0]));
  }
  auto gemm = cuda_gemm_tflops(1024, 3);
  ASSERT_TRUE(gemm.is_ok()) << gemm.message();
  EXPECT_GT(*gemm, 1.0);
}

}  // namespace
}  // namespace arbiter
