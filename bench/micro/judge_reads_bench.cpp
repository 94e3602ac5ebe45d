// What LAGER adds to a judge's prefill: the same 512-token Qwen2.5-0.5B-shaped batch read two ways,
// alternating within each iteration so that both see the same machine load:
//   final  - the final layer's score-token logits only (vanilla and expected scores),
//   lager  - plus every layer's residual row at the read position and its score-token lens logits.
// Counters: CPU seconds of the process per forward for each (CPU time is much less disturbed than wall
// time when the cores are shared) and lager_extra_pct = 100 * (lager / final - 1).
// BM_GreedyDecode: `judge --generate`'s decoding (f32, bf16, q8_0 and q4_0 weights at the 0.5B shape, q8_0
// and q4_K at Llama-3.2-1B's), 4 prompts of 128 tokens written on by 32 tokens each through the KV cache with the judge's reads at every step; decode_tok_s counts the written tokens per
// second of wall time once the prefill (timed alone, alternating) is taken off.
#include <time.h>

#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "model/random_model.h"
#include "runtime/backend.h"
#include "runtime/shared_prefix.h"

namespace arbiter {
namespace {

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// The judge's reads on a random Qwen2.5-0.5B-shaped f32 model: five score tokens, and (lager) every
// layer's state and lens logits.
struct JudgeSetup {
  ModelConfig config;
  std::unique_ptr<Backend> backend;
  ForwardOptions final_only, lager;
};

Result<JudgeSetup> judge_setup(DType weights = DType::F32, const char* shape = "qwen2.5-0.5b") {
  JudgeSetup setup;
  ARB_ASSIGN(setup.config, shape_preset(shape));
  ARB_ASSIGN(auto model, make_random_model(setup.config, weights, 1));
  setup.backend = make_cpu_backend(model);
  // Every iteration computes its batch again: nothing kept from the one before.
  set_prefix_cache_bytes(0);
  setup.final_only.logits = LogitsMode::kSelected;
  setup.final_only.logit_token_ids = {10, 11, 12, 13, 14};
  setup.lager = setup.final_only;
  for (int32_t l = 0; l <= setup.config.num_layers; ++l) setup.lager.capture_layers.push_back(l);
  setup.lager.layer_logits = true;
  return setup;
}

void BM_JudgeReads(benchmark::State& state) {
  auto setup = judge_setup();
  if (!setup.is_ok()) return state.SkipWithError(setup.message().c_str());
  const ModelConfig* config = &setup->config;
  Backend* backend = setup->backend.get();
  const int64_t tokens = state.range(0);
  SequenceInput seq;
  for (int64_t i = 0; i < tokens; ++i) seq.tokens.push_back(int32_t((i * 7919) % config->vocab_size));
  const ForwardOptions& final_only = setup->final_only;
  const ForwardOptions& lager = setup->lager;

  double final_cpu = 0, lager_cpu = 0;
  int64_t runs = 0;
  for (auto _ : state) {
    // Alternate the order too, so neither variant always runs second.
    for (int pass = 0; pass < 2; ++pass) {
      const bool lager_first = (runs + pass) % 2 == 0;
      for (int which = 0; which < 2; ++which) {
        const bool is_lager = (which == 0) == lager_first;
        const double start = process_cpu_seconds();
        auto out = backend->forward({seq}, is_lager ? lager : final_only);
        const double spent = process_cpu_seconds() - start;
        if (!out.is_ok()) return state.SkipWithError(out.message().c_str());
        benchmark::DoNotOptimize(out->front().logits.data());
        (is_lager ? lager_cpu : final_cpu) += spent;
      }
    }
    runs += 2;
  }
  state.counters["final_cpu_s"] = final_cpu / double(runs);
  state.counters["lager_cpu_s"] = lager_cpu / double(runs);
  state.counters["lager_extra_pct"] = 100.0 * (lager_cpu / final_cpu - 1.0);
}
BENCHMARK(BM_JudgeReads)->Arg(512)->Unit(benchmark::kSecond)->Iterations(4)->UseRealTime();

struct DecodeCase {
  const char* shape;
  DType weights;
};
// K-quant blocks hold 256 elements, which the 0.5B shape's 896 is not a multiple of: they run at the 1B
// shape, next to q8_0 at the same shape.
constexpr DecodeCase kDecodeCases[] = {
    {"qwen2.5-0.5b", DType::F32}, {"qwen2.5-0.5b", DType::BF16}, {"qwen2.5-0.5b", DType::Q8_0},
    {"qwen2.5-0.5b", DType::Q4_0}, {"llama-3.2-1b", DType::Q8_0}, {"llama-3.2-1b", DType::Q4_K},
};

void BM_GreedyDecode(benchmark::State& state) {
  const DecodeCase& c = kDecodeCases[state.range(1)];
  state.SetLabel(std::string(c.shape) + " " + dtype_name(c.weights));
  auto setup = judge_setup(c.weights, c.shape);
  if (!setup.is_ok()) return state.SkipWithError(setup.message().c_str());
  const ModelConfig* config = &setup->config;
  Backend* backend = setup->backend.get();
  std::vector<SequenceInput> prompts(4);
  for (size_t s = 0; s < prompts.size(); ++s)
    for (int64_t i = 0; i < 128; ++i) prompts[s].tokens.push_back(int32_t((i * 7919 + int64_t(s) * 31) % config->vocab_size));
  GenerateOptions options;
  options.max_new_tokens = state.range(0);
  options.read = setup->lager;
  double prefill_wall = 0, generate_wall = 0;
  int64_t written = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    auto prefill = backend->forward(prompts, options.read);
    auto t1 = std::chrono::steady_clock::now();
    auto generated = backend->generate(prompts, options);
    auto t2 = std::chrono::steady_clock::now();
    if (!prefill.is_ok() || !generated.is_ok()) return state.SkipWithError("forward or generate failed");
    for (const Generation& g : *generated) written += int64_t(g.tokens.size()) - 1;  // the first comes from the prefill
    prefill_wall += std::chrono::duration<double>(t1 - t0).count();
    generate_wall += std::chrono::duration<double>(t2 - t1).count();
  }
  state.counters["decode_tok_s"] = double(written) / (generate_wall - prefill_wall);
  state.counters["prefill_s"] = prefill_wall / double(state.iterations());
  state.counters["generate_s"] = generate_wall / double(state.iterations());
}
BENCHMARK(BM_GreedyDecode)
    ->ArgsProduct({{33}, {0, 1, 2, 3, 4, 5}})
    ->ArgNames({"written", "weights"})
    ->Unit(benchmark::kSecond)
    ->Iterations(2)
    ->UseRealTime();

}  // namespace
}  // namespace arbiter
