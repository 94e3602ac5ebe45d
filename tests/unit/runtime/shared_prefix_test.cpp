// Shared prefixes: the plan (which tokens are computed once, for whom), and forward passes that use it,
// which must give every sequence the bytes it gets with sharing off, on fixture architectures with
// sliding windows, softcaps, qk-norm and biases, in both arithmetics, for everything a pass can read.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <utility>

#include "model/model.h"
#include "runtime/backend.h"
#include "runtime/cpu/matmul.h"
#include "runtime/shared_prefix.h"
#include "../../support/shared_dir.h"

namespace arbiter {
namespace {

using arbiter::testing::kShared;

std::vector<int32_t> random_tokens(std::mt19937& rng, int64_t count, int32_t vocab) {
  std::uniform_int_distribution<int32_t> token(0, vocab - 1);
  std::vector<int32_t> out(static_cast<size_t>(count));
  for (auto& t : out) t = token(rng);
  return out;
}

std::vector<int32_t> join(std::initializer_list<std::vector<int32_t>> parts) {
  std::vector<int32_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A judge's batch: one grading header for every row, two prompts with several responses each, a row of
// its own, a response that is a prefix of another's, a read inside the shared prompt, and a duplicate.
std::vector<SequenceInput> judge_like_batch(int32_t vocab) {
  std::mt19937 rng(5);
  const auto header = random_tokens(rng, 80, vocab);
  const auto prompt_a = random_tokens(rng, 70, vocab), prompt_b = random_tokens(rng, 90, vocab);
  std::vector<SequenceInput> batch;
  for (int64_t len : {30, 45, 12}) batch.push_back({join({header, prompt_a, random_tokens(rng, len, vocab)}), {}});
  batch.push_back({join({header, prompt_b, random_tokens(rng, 20, vocab)}), {}});
  batch.push_back({join({header, prompt_b, random_tokens(rng, 25, vocab)}), {}});
  batch.push_back({random_tokens(rng, 60, vocab), {}});
  SequenceInput longer = batch[0];
  longer.tokens.resize(header.size() + prompt_a.size() + 20);  // a prefix of batch[0]: shares up to its own end
  batch.push_back(longer);
  SequenceInput early_read = batch[1];
  early_read.read_positions = {100, 120, int32_t(early_read.tokens.size()) - 1};  // 100: inside prompt_a
  batch.push_back(early_read);
  batch.push_back(batch[3]);  // the same sequence twice
  return batch;
}

TEST(SharedPrefixPlan, ComputesEachSharedRunOnce) {
  const auto batch = judge_like_batch(512);
  const SharedPrefixPlan plan = plan_shared_prefixes(batch);
  ASSERT_EQ(plan.node_of.size(), batch.size());
  ASSERT_EQ(plan.levels, 2);
  // The header is one root for every sequence but the unrelated one; each prompt a node below it.
  int roots = 0;
  for (const SharedPrefixNode& node : plan.nodes) roots += node.parent < 0;
  EXPECT_EQ(roots, 1);
  EXPECT_EQ(plan.node_of[5], -1);
  EXPECT_EQ(plan.start[5], 0);
  // Every sequence's start lies within what it may share, and its node's tokens are its own.
  for (size_t s = 0; s < batch.size(); ++s) {
    const int64_t len = int64_t(batch[s].tokens.size());
    EXPECT_LT(plan.start[s], len) << s;
    if (!batch[s].read_positions.empty()) {
      EXPECT_LE(plan.start[s], batch[s].read_positions.front()) << s;
    }
    for (int n = plan.node_of[s]; n >= 0; n = plan.nodes[size_t(n)].parent) {
      const SharedPrefixNode& node = plan.nodes[size_t(n)];
      EXPECT_GE(node.end - node.begin, 64);
      for (int64_t i = node.begin; i < node.end; ++i)
        ASSERT_EQ(batch[s].tokens[size_t(i)], batch[node.source].tokens[size_t(i)]) << "sequence " << s << " node " << n;
    }
  }
  // The responses to prompt_a continue the prompt_a node at 150 tokens, except the one read at 100.
  EXPECT_EQ(plan.start[0], 150);
  EXPECT_EQ(plan.start[2], 150);
  EXPECT_EQ(plan.start[6], 150);
  EXPECT_EQ(plan.start[7], 80);  // its first read is at 100: it continues the header only
  EXPECT_EQ(plan.start[3], 170);
  EXPECT_EQ(plan.start[8], 170);  // the duplicate shares all but its last token...
  EXPECT_EQ(plan.start[4], 170);  // ...and with its sibling, prompt_b
  // Computed: header 80 + prompt_a 70 + prompt_b 90 once, then every sequence's rest.
  int64_t rest = 0;
  for (size_t s = 0; s < batch.size(); ++s) rest += int64_t(batch[s].tokens.size()) - plan.start[s];
  EXPECT_EQ(plan.computed_tokens, 80 + 70 + 90 + rest);
}

TEST(SharedPrefixPlan, ShortRunsAndLevelLimitsAreRespected) {
  const auto batch = judge_like_batch(512);
  SharedPrefixOptions options;
  options.max_levels = 1;  // the header only
  SharedPrefixPlan plan = plan_shared_prefixes(batch, options);
  EXPECT_EQ(plan.levels, 1);
  EXPECT_EQ(plan.start[0], 80);
  options.max_levels = 3;
  options.min_tokens = 200;  // nothing shared is that long
  plan = plan_shared_prefixes(batch, options);
  EXPECT_TRUE(plan.nodes.empty());
  for (int64_t start : plan.start) EXPECT_EQ(start, 0);
  // One sequence, or none: nothing to share.
  EXPECT_TRUE(plan_shared_prefixes({batch[0]}).nodes.empty());
  EXPECT_TRUE(plan_shared_prefixes({}).nodes.empty());
}

// Copies of one sequence share all but their last token; a one-token sequence and one read at position 0
// share nothing.
std::vector<SequenceInput> edge_batch(int32_t vocab) {
  std::mt19937 rng(9);
  const auto tokens = random_tokens(rng, 100, vocab);
  std::vector<SequenceInput> batch(6, SequenceInput{tokens, {}});
  batch.push_back({{tokens[0]}, {}});
  batch.push_back({tokens, {0, 99}});
  return batch;
}

TEST(SharedPrefixPlan, CopiesShareAllButTheirLastToken) {
  const auto batch = edge_batch(512);
  const SharedPrefixPlan plan = plan_shared_prefixes(batch);
  ASSERT_EQ(plan.nodes.size(), 1u);
  EXPECT_EQ(plan.nodes[0].begin, 0);
  EXPECT_EQ(plan.nodes[0].end, 99);
  for (size_t s = 0; s < 6; ++s) EXPECT_EQ(plan.start[s], 99) << s;
  EXPECT_EQ(plan.start[6], 0);
  EXPECT_EQ(plan.node_of[6], -1);
  EXPECT_EQ(plan.start[7], 0);  // read at position 0
  EXPECT_EQ(plan.computed_tokens, 99 + 6 + 1 + 100);
}

ForwardOptions read_everything(const Model& m, bool classifier) {
  ForwardOptions o;
  for (int32_t l = 0; l <= m.config.num_layers; ++l) o.capture_layers.push_back(l);
  o.final_norm = true;
  o.logits = LogitsMode::kFull;
  o.logit_token_ids = {0, 3, 5, 1};
  o.layer_logits = true;
  o.lens = Lens::kNormed;
  o.score_head = classifier;
  return o;
}

struct SharingScope {
  explicit SharingScope(bool on) { set_prefix_sharing(on); }
  ~SharingScope() { set_prefix_sharing(true); }
};

// run() with sharing off, then with it on.
template <class Run>
auto without_and_with_sharing(const Run& run) {
  decltype(run()) alone = error("not run");
  {
    const SharingScope off(false);
    alone = run();
  }
  auto shared = run();
  EXPECT_TRUE(alone.is_ok()) << alone.message();
  EXPECT_TRUE(shared.is_ok()) << shared.message();
  return std::make_pair(std::move(alone), std::move(shared));
}

void expect_same_bytes(const std::string& name) {
  auto model = load_model(kShared + "/fixtures/hf/" + name);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto backend = make_cpu_backend(*model);
  auto batch = judge_like_batch(int32_t((*model)->config.vocab_size));
  ASSERT_FALSE(plan_shared_prefixes(batch).nodes.empty());
  for (SequenceInput& s : edge_batch(int32_t((*model)->config.vocab_size))) batch.push_back(std::move(s));
  const ForwardOptions options = read_everything(**model, (*model)->config.is_classifier());
  const auto [alone, shared] = without_and_with_sharing([&] { return backend->forward(batch, options); });
  ASSERT_TRUE(alone.is_ok() && shared.is_ok());
  for (size_t s = 0; s < batch.size(); ++s) {
    const SequenceOutput& a = (*alone)[s];
    const SequenceOutput& b = (*shared)[s];
    ASSERT_FALSE(a.layer_states.empty());
    EXPECT_EQ(a.num_reads, b.num_reads) << s;
    EXPECT_EQ(a.layer_states, b.layer_states) << "sequence " << s;
    EXPECT_EQ(a.final_norm, b.final_norm) << "sequence " << s;
    EXPECT_EQ(a.logits, b.logits) << "sequence " << s;
    EXPECT_EQ(a.layer_logits, b.layer_logits) << "sequence " << s;
    EXPECT_EQ(a.scores, b.scores) << "sequence " << s;
  }
}

class SharedPrefixForward : public ::testing::TestWithParam<std::string> {};

// Runs `check` in f32 arithmetic, then in bf16 where the CPU has it.
void in_each_arithmetic(const std::function<void()>& check) {
  set_matmul_precision(MatmulPrecision::kF32);
  check();
  if (bf16_matmul_supported()) {
    SCOPED_TRACE("bf16 arithmetic");
    set_matmul_precision(MatmulPrecision::kBf16);
    check();
  }
  set_matmul_precision(MatmulPrecision::kAuto);
}

TEST_P(SharedPrefixForward, GivesTheBytesOfUnsharedPasses) {
  in_each_arithmetic([this] { expect_same_bytes(GetParam()); });
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SharedPrefixForward,
                         ::testing::Values("llama", "gemma2", "qwen2", "qwen3", "mistral"),
                         [](const auto& info) { return info.param; });

// Greedy decoding prefills its prompts through the same plan (the shared prefixes copied into each
// prompt's cache): the same written tokens and read bytes as with sharing off.
void expect_same_generation(const std::string& name) {
  auto model = load_model(kShared + "/fixtures/hf/" + name);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto backend = make_cpu_backend(*model);
  const auto prompts = judge_like_batch(int32_t((*model)->config.vocab_size));
  GenerateOptions options;
  options.max_new_tokens = 6;
  options.read = read_everything(**model, false);
  options.read.logits = LogitsMode::kSelected;  // generation reads selected logits at most
  options.read.final_norm = false;
  const auto [alone, shared] = without_and_with_sharing([&] { return backend->generate(prompts, options); });
  ASSERT_TRUE(alone.is_ok() && shared.is_ok());
  for (size_t s = 0; s < prompts.size(); ++s) {
    const Generation& a = (*alone)[s];
    const Generation& b = (*shared)[s];
    ASSERT_EQ(a.tokens.size(), 6u);
    EXPECT_EQ(a.tokens, b.tokens) << "prompt " << s;
    EXPECT_EQ(a.read_position, b.read_position) << "prompt " << s;
    EXPECT_EQ(a.read.logits, b.read.logits) << "prompt " << s;
    EXPECT_EQ(a.read.layer_logits, b.read.layer_logits) << "prompt " << s;
  }
}

TEST_P(SharedPrefixForward, GenerationGivesTheTokensAndBytesOfUnsharedPrefills) {
  in_each_arithmetic([this] { expect_same_generation(GetParam()); });
}

}  // namespace
}  // namespace arbiter
