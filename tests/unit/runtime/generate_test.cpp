// Greedy decoding with the CPU backend's KV cache against the cache-free reference (every step re-runs
// the whole prefix through the parity-tested prefill): the same tokens, and reads equal to f32 rounding
// (decoding steps take the row-dot matmul, which sums in another order than the prefill's GEMM), on
// fixture architectures with sliding windows, softcaps, qk-norm and biases, prompts of different lengths
// batched.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "model/model.h"
#include "model/random_model.h"
#include "runtime/backend.h"
#include "runtime/cpu/matmul.h"
#include "../../support/shared_dir.h"

namespace arbiter {
namespace {

using arbiter::testing::kShared;

std::vector<SequenceInput> prompts_for(int64_t vocab) {
  std::vector<SequenceInput> prompts;
  for (int64_t len : {1, 5, 12}) {
    SequenceInput p;
    for (int64_t i = 0; i < len; ++i) p.tokens.push_back(int32_t((7 + 13 * i + len) % vocab));
    prompts.push_back(p);
  }
  return prompts;
}

GenerateOptions read_everything(const Model& m) {
  GenerateOptions o;
  o.max_new_tokens = 9;
  for (int32_t l = 0; l <= m.config.num_layers; ++l) o.read.capture_layers.push_back(l);
  o.read.logits = LogitsMode::kSelected;
  o.read.logit_token_ids = {0, 3, 5, 1};
  o.read.layer_logits = true;
  return o;
}

// max |a - b| <= tolerance * max |b|. In f32 arithmetic 2e-5: f32 rounding of the same sums taken in
// another order (decoding steps take the row-dot matmul, prefills the GEMM), and the parity tests hold
// each path to 1e-5 of the float64 reference. In bf16 arithmetic the same tiny differences can round an
// activation to the neighbouring bf16 value (2^-9 away), so the paths differ by bf16 noise: 2e-2, the
// cost of rounding the activations that the parity tests measure (llama-bf16).
void expect_close(const std::vector<float>& a, const std::vector<float>& b, const char* what, float tolerance) {
  ASSERT_EQ(a.size(), b.size()) << what;
  ASSERT_FALSE(b.empty()) << what;
  float scale = 0, diff = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    scale = std::max(scale, std::fabs(b[i]));
    diff = std::max(diff, std::fabs(a[i] - b[i]));
  }
  EXPECT_LE(diff, tolerance * scale) << what;
}

class CachedGeneration : public ::testing::TestWithParam<std::string> {};

// In bf16 arithmetic too: decoding steps round their tokens and weight rows as the bf16 GEMM does.
void check_cached_generation(const std::string& name, float tolerance) {
  auto model = load_model(kShared + "/fixtures/hf/" + name);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto backend = make_cpu_backend(*model);
  const GenerateOptions options = read_everything(**model);
  const auto prompts = prompts_for((*model)->config.vocab_size);
  auto cached = backend->generate(prompts, options);
  auto reference = backend->Backend::generate(prompts, options);
  ASSERT_TRUE(cached.is_ok()) << cached.message();
  ASSERT_TRUE(reference.is_ok()) << reference.message();
  ASSERT_EQ(cached->size(), prompts.size());
  for (size_t s = 0; s < prompts.size(); ++s) {
    const Generation& a = (*cached)[s];
    const Generation& b = (*reference)[s];
    EXPECT_EQ(a.tokens, b.tokens) << "prompt " << s;
    EXPECT_EQ(a.tokens.size(), 9u);
    EXPECT_EQ(a.read_position, int64_t(prompts[s].tokens.size()) + 7);
    EXPECT_EQ(a.read.logits.size(), 4u);
    expect_close(a.read.logits, b.read.logits, "logits", tolerance);
    expect_close(a.read.layer_logits, b.read.layer_logits, "layer logits", tolerance);
    expect_close(a.read.layer_states, b.read.layer_states, "layer states", tolerance);
  }
}

TEST_P(CachedGeneration, EqualsTheCacheFreeReference) {
  set_matmul_precision(MatmulPrecision::kF32);
  check_cached_generation(GetParam(), 2e-5f);
  if (bf16_matmul_supported()) {
    SCOPED_TRACE("bf16 arithmetic");
    set_matmul_precision(MatmulPrecision::kBf16);
    check_cached_generation(GetParam(), 2e-2f);
  }
  set_matmul_precision(MatmulPrecision::kAuto);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CachedGeneration,
                         ::testing::Values("llama", "gemma2", "qwen2", "qwen3", "mistral"),
                         [](const auto& info) { return info.param; });

TEST(Generation, ReadsAtEveryStepEqualAPrefillOfTheWrittenText) {
  // The read kept at the accepted token equals what a plain prefill reads at that position.
  auto model = load_model(kShared + "/fixtures/hf/qwen3");
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto backend = make_cpu_backend(*model);
  GenerateOptions options = read_everything(**model);
  options.accept = [](size_t, const std::vector<int32_t>& written, const SequenceOutput&) { return written.size() == 4; };
  const SequenceInput prompt{{3, 9, 27, 81}, {}};
  auto generated = backend->generate({prompt}, options);
  ASSERT_TRUE(generated.is_ok()) << generated.message();
  const Generation& g = (*generated)[0];
  ASSERT_EQ(g.tokens.size(), 4u);
  EXPECT_EQ(g.end, GenerationEnd::kAccepted);
  SequenceInput written = prompt;
  written.tokens.insert(written.tokens.end(), g.tokens.begin(), g.tokens.end() - 1);
  ASSERT_EQ(g.read_position, int64_t(written.tokens.size()) - 1);
  auto prefill = backend->forward({written}, options.read);
  ASSERT_TRUE(prefill.is_ok()) << prefill.message();
  const SequenceOutput& p = (*prefill)[0];
  expect_close(g.read.layer_logits, p.layer_logits, "layer logits", 2e-5f);
  expect_close(g.read.logits, p.logits, "logits", 2e-5f);
}

TEST(Generation, StopTokenMaxTokensAndContextEndSequences) {
  auto config = shape_preset("tiny");
  ASSERT_TRUE(config.is_ok()) << config.message();
  config->max_position_embeddings = 10;
  auto model = make_random_model(*config, DType::F32, 7);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto backend = make_cpu_backend(*model);
  GenerateOptions options;
  options.max_new_tokens = 5;
  // Unbounded by a stop token: a 3-token prompt writes 5; an 8-token prompt fills the context of 10 at 2.
  auto free_run = backend->generate({SequenceInput{{1, 2, 3}, {}}, SequenceInput{{1, 2, 3, 4, 5, 6, 7, 8}, {}}}, options);
  ASSERT_TRUE(free_run.is_ok()) << free_run.message();
  EXPECT_EQ((*free_run)[0].end, GenerationEnd::kMaxTokens);
  EXPECT_EQ((*free_run)[0].tokens.size(), 5u);
  EXPECT_EQ((*free_run)[1].end, GenerationEnd::kContextFull);
  EXPECT_EQ((*free_run)[1].tokens.size(), 2u);
  // Declaring the second written token a stop token ends there.
  options.stop_token_ids = std::vector<int32_t>{(*free_run)[0].tokens[1]};
  auto stopped = backend->generate({SequenceInput{{1, 2, 3}, {}}}, options);
  ASSERT_TRUE(stopped.is_ok()) << stopped.message();
  EXPECT_EQ((*stopped)[0].end, GenerationEnd::kStopToken);
  const std::vector<int32_t> first_two((*free_run)[0].tokens.begin(), (*free_run)[0].tokens.begin() + 2);
  // (the first written token may itself be the stop token; then it ends after one)
  if ((*free_run)[0].tokens[0] == first_two[1]) {
    EXPECT_EQ((*stopped)[0].tokens.size(), 1u);
  } else {
    EXPECT_EQ((*stopped)[0].tokens, first_two);
  }
}

TEST(Generation, BadRequestsAreErrors) {
  auto config = shape_preset("tiny");
  ASSERT_TRUE(config.is_ok());
  config->max_position_embeddings = 4;
  auto model = make_random_model(*config, DType::F32, 7);
  ASSERT_TRUE(model.is_ok());
  auto backend = make_cpu_backend(*model);
  GenerateOptions options;
  auto too_long = backend->generate({SequenceInput{{1, 2, 3, 4}, {}}}, options);
  ASSERT_FALSE(too_long.is_ok());
  EXPECT_NE(too_long.message().find("context of 4"), std::string::npos) << too_long.message();
  options.max_new_tokens = 0;
  EXPECT_FALSE(backend->generate({SequenceInput{{1}, {}}}, options).is_ok());
  options.max_new_tokens = 2;
  options.read.logits = LogitsMode::kFull;
  EXPECT_FALSE(backend->generate({SequenceInput{{1}, {}}}, options).is_ok());
  options.read.logits = LogitsMode::kNone;
  auto bad_token = backend->generate({SequenceInput{{1, 99999}, {}}}, options);
  ASSERT_FALSE(bad_token.is_ok());
  EXPECT_NE(bad_token.message().find("position 1"), std::string::npos) << bad_token.message();
}

}  // namespace
}  // namespace arbiter

namespace arbiter {
namespace {

// A forward pass over no sequences has nothing to do and says so with no outputs (it used to take the
// largest position of an empty batch, undefined behaviour), as the CUDA backend does.
TEST(Forward, NoSequencesGiveNoOutputs) {
  auto model = load_model(kShared + "/fixtures/hf/qwen3");
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto backend = make_cpu_backend(*model);
  auto outputs = backend->forward({}, ForwardOptions{});
  ASSERT_TRUE(outputs.is_ok()) << outputs.message();
  EXPECT_TRUE(outputs->empty());
}

}  // namespace
}  // namespace arbiter
