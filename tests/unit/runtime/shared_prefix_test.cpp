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

// A later call than judge_like_batch's: sequences that begin as that call's did. Each names what the
// store holds of it (rows it need not compute): a new response after the header and prompt_a (150), a
// conversation's next turn after a whole earlier sequence, an earlier sequence read inside its prompt (at
// 90, so only 90), the header with a new prompt (80), and one sharing nothing.
struct LaterSequence {
  SequenceInput input;
  int64_t stored = 0;
};
std::vector<LaterSequence> later_batch(const std::vector<SequenceInput>& earlier, int32_t vocab) {
  std::mt19937 rng(11);
  const auto& first = earlier[0].tokens;
  const std::vector<int32_t> header(first.begin(), first.begin() + 80), header_and_prompt(first.begin(), first.begin() + 150);
  // A first token no earlier sequence has at that place, so that nothing is shared by chance.
  auto fresh = [&](int64_t count, int32_t avoid) {
    auto tokens = random_tokens(rng, count, vocab);
    if (tokens[0] == avoid) tokens[0] = (avoid + 1) % vocab;
    return tokens;
  };
  std::vector<LaterSequence> batch;
  batch.push_back({{join({header_and_prompt, fresh(33, first[150])}), {}}, 150});
  batch.push_back({{join({earlier[3].tokens, fresh(40, -1)}), {}}, int64_t(earlier[3].tokens.size())});
  SequenceInput inner = earlier[1];
  inner.read_positions = {90, int32_t(inner.tokens.size()) - 1};
  batch.push_back({inner, 90});
  batch.push_back({{join({header, fresh(50, first[80])}), {}}, 80});
  auto unrelated = fresh(40, first[0]);
  for (const SequenceInput& e : earlier)
    if (!e.tokens.empty() && unrelated[0] == e.tokens[0]) unrelated[0] = (unrelated[0] + 1) % vocab;
  batch.push_back({{unrelated, {}}, 0});
  return batch;
}

std::vector<SequenceInput> inputs_of(const std::vector<LaterSequence>& batch) {
  std::vector<SequenceInput> inputs;
  for (const LaterSequence& s : batch) inputs.push_back(s.input);
  return inputs;
}

void expect_same_outputs(const std::vector<SequenceOutput>& a, const std::vector<SequenceOutput>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t s = 0; s < a.size(); ++s) {
    ASSERT_FALSE(a[s].layer_states.empty());
    EXPECT_EQ(a[s].num_reads, b[s].num_reads) << s;
    EXPECT_EQ(a[s].layer_states, b[s].layer_states) << "sequence " << s;
    EXPECT_EQ(a[s].final_norm, b[s].final_norm) << "sequence " << s;
    EXPECT_EQ(a[s].logits, b[s].logits) << "sequence " << s;
    EXPECT_EQ(a[s].layer_logits, b[s].layer_logits) << "sequence " << s;
    EXPECT_EQ(a[s].scores, b[s].scores) << "sequence " << s;
  }
}

struct CacheBudgetScope {
  explicit CacheBudgetScope(size_t bytes) { set_prefix_cache_bytes(bytes); }
  ~CacheBudgetScope() { set_prefix_cache_bytes(kDefaultPrefixCacheBytes); }
};

// A later call computes only what the store does not hold, and each sequence gets the bytes of a call of
// its own; with no budget, nothing is kept and the later call computes what sharing within it leaves.
void expect_kept_rows_serve_later_calls(const std::string& name) {
  auto model = load_model(kShared + "/fixtures/hf/" + name);
  ASSERT_TRUE(model.is_ok()) << model.message();
  const int32_t vocab = int32_t((*model)->config.vocab_size);
  const auto earlier = judge_like_batch(vocab);
  const auto later = later_batch(earlier, vocab);
  const auto inputs = inputs_of(later);
  const ForwardOptions options = read_everything(**model, (*model)->config.is_classifier());
  auto backend = make_cpu_backend(*model);

  Result<std::vector<SequenceOutput>> alone = error("not run");
  {
    const SharingScope off(false);
    alone = backend->forward(inputs, options);
    ASSERT_TRUE(alone.is_ok()) << alone.message();
  }
  ASSERT_TRUE(backend->forward(earlier, options).is_ok());
  // What a batcher is told it need not count: the rows the store holds for each sequence.
  for (const LaterSequence& s : later) EXPECT_EQ(backend->kept_prefix_tokens(s.input), s.stored);
  const int64_t before = backend->tokens_computed();
  auto kept = backend->forward(inputs, options);
  ASSERT_TRUE(kept.is_ok()) << kept.message();
  int64_t expected = 0;
  for (const LaterSequence& s : later) expected += int64_t(s.input.tokens.size()) - s.stored;
  EXPECT_EQ(backend->tokens_computed() - before, expected);
  expect_same_outputs(*alone, *kept);

  // No budget: nothing kept from the earlier call.
  const CacheBudgetScope none(0);
  auto fresh = make_cpu_backend(*model);
  ASSERT_TRUE(fresh->forward(earlier, options).is_ok());
  const int64_t fresh_before = fresh->tokens_computed();
  auto unkept = fresh->forward(inputs, options);
  ASSERT_TRUE(unkept.is_ok()) << unkept.message();
  EXPECT_EQ(fresh->tokens_computed() - fresh_before, plan_shared_prefixes(inputs).computed_tokens);
  expect_same_outputs(*alone, *unkept);
}

TEST_P(SharedPrefixForward, KeptRowsServeLaterCallsWithTheSameBytes) {
  in_each_arithmetic([this] { expect_kept_rows_serve_later_calls(GetParam()); });
}

// Greedy decoding starts its prompts after what the store holds, and keeps the prompts' rows (not the
// written tokens'): a later call's prompts extending earlier ones compute only what is new.
TEST(SharedPrefixForwardAcrossCalls, GenerationUsesAndKeepsPromptRows) {
  auto model = load_model(kShared + "/fixtures/hf/qwen3");
  ASSERT_TRUE(model.is_ok()) << model.message();
  const int32_t vocab = int32_t((*model)->config.vocab_size);
  const auto earlier = judge_like_batch(vocab);
  const auto later = later_batch(earlier, vocab);
  std::vector<SequenceInput> prompts = inputs_of(later);
  for (SequenceInput& p : prompts) p.read_positions.clear();  // generation reads where each prompt ends
  GenerateOptions options;
  options.max_new_tokens = 5;
  options.read = read_everything(**model, false);
  options.read.logits = LogitsMode::kSelected;
  options.read.final_norm = false;
  auto backend = make_cpu_backend(*model);
  Result<std::vector<Generation>> alone = error("not run");
  {
    const SharingScope off(false);
    alone = backend->generate(prompts, options);
    ASSERT_TRUE(alone.is_ok()) << alone.message();
  }
  // Kept from a forward call: the same prompts' rows as the later batch's first case says.
  ASSERT_TRUE(backend->forward(earlier, ForwardOptions{}).is_ok());
  int64_t before = backend->tokens_computed();
  auto kept = backend->generate(prompts, options);
  ASSERT_TRUE(kept.is_ok()) << kept.message();
  int64_t expected = 0;
  for (size_t i = 0; i < later.size(); ++i)
    expected += int64_t(prompts[i].tokens.size()) - (i == 2 ? int64_t(prompts[i].tokens.size()) - 1 : later[i].stored);
  // The third prompt is an earlier sequence whole: all but its last token are kept.
  EXPECT_EQ(backend->tokens_computed() - before, expected);
  for (size_t s = 0; s < prompts.size(); ++s) {
    EXPECT_EQ((*alone)[s].tokens, (*kept)[s].tokens) << "prompt " << s;
    EXPECT_EQ((*alone)[s].read.logits, (*kept)[s].read.logits) << "prompt " << s;
    EXPECT_EQ((*alone)[s].read.layer_logits, (*kept)[s].read.layer_logits) << "prompt " << s;
  }
  // The prompts are kept now (not what was written after them): the same call again computes each
  // prompt's last token only.
  before = backend->tokens_computed();
  auto again = backend->generate(prompts, options);
  ASSERT_TRUE(again.is_ok()) << again.message();
  EXPECT_EQ(backend->tokens_computed() - before, int64_t(prompts.size()));
  for (size_t s = 0; s < prompts.size(); ++s) EXPECT_EQ((*alone)[s].tokens, (*again)[s].tokens) << "prompt " << s;
}

// Rows computed in one arithmetic are not the bytes of another: switching drops them.
TEST(SharedPrefixForwardAcrossCalls, AnotherArithmeticDropsKeptRows) {
  if (!bf16_matmul_supported()) GTEST_SKIP() << "this CPU has no bf16 dot products";
  auto model = load_model(kShared + "/fixtures/hf/llama");
  ASSERT_TRUE(model.is_ok()) << model.message();
  const int32_t vocab = int32_t((*model)->config.vocab_size);
  const auto earlier = judge_like_batch(vocab);
  const auto inputs = inputs_of(later_batch(earlier, vocab));
  const ForwardOptions options = read_everything(**model, false);
  auto backend = make_cpu_backend(*model);
  set_matmul_precision(MatmulPrecision::kBf16);
  Result<std::vector<SequenceOutput>> alone = error("not run");
  {
    const SharingScope off(false);
    alone = backend->forward(inputs, options);
  }
  set_matmul_precision(MatmulPrecision::kF32);
  ASSERT_TRUE(backend->forward(earlier, options).is_ok());
  set_matmul_precision(MatmulPrecision::kBf16);
  const int64_t before = backend->tokens_computed();
  auto later = backend->forward(inputs, options);
  set_matmul_precision(MatmulPrecision::kAuto);
  ASSERT_TRUE(alone.is_ok() && later.is_ok());
  EXPECT_EQ(backend->tokens_computed() - before, plan_shared_prefixes(inputs).computed_tokens);
  expect_same_outputs(*alone, *later);
}

}  // namespace
}  // namespace arbiter
