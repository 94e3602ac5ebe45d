// What LAGER adds to a judge's prefill: the same 512-token Qwen2.5-0.5B-shaped batch read two ways,
// alternating within each iteration so that both see the same machine load:
//   final  - the final layer's score-token logits only (vanilla and expected scores),
//   lager  - plus every layer's residual row at the read position and its score-token lens logits.
// Counters: CPU seconds of the process per forward for each (CPU time is much less disturbed than wall
// time when the cores are shared) and lager_extra_pct = 100 * (lager / final - 1).
// BM_GreedyDecode: `judge --generate`'s decoding, 4 prompts of 128 tokens written on by 32 tokens each
// through the KV cache with the judge's reads at every step; decode_tok_s counts the written tokens per
// second of wall time once the prefill (timed alone, alternating) is taken off.
#include <time.h>

#include <benchmark/benchmark.h>

#include <chrono>

#include "model/random_model.h"
#include "runtime/backend.h"

namespace arbiter {
namespace {

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

void BM_JudgeReads(benchmark::State& state) {
  auto config = shape_preset("qwen2.5-0.5b");
  if (!config.is_ok()) return state.SkipWithError(config.message().c_str());
  auto model = make_random_model(*config, DType::F32, 1);
  if (!model.is_ok()) return state.SkipWithError(model.message().c_str());
  auto backend = make_cpu_backend(*model);
  const int64_t tokens = state.range(0);
  SequenceInput seq;
  for (int64_t i = 0; i < tokens; ++i) seq.tokens.push_back(int32_t((i * 7919) % config->vocab_size));
  ForwardOptions final_only;
  final_only.logits = LogitsMode::kSelected;
  final_only.logit_token_ids = {10, 11, 12, 13, 14};  // five score tokens
  ForwardOptions lager = final_only;
  for (int32_t l = 0; l <= config->num_layers; ++l) lager.capture_layers.push_back(l);
  lager.layer_logits = true;

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

void BM_GreedyDecode(benchmark::State& state) {
  auto config = shape_preset("qwen2.5-0.5b");
  if (!config.is_ok()) return state.SkipWithError(config.message().c_str());
  auto model = make_random_model(*config, DType::F32, 1);
  if (!model.is_ok()) return state.SkipWithError(model.message().c_str());
  auto backend = make_cpu_backend(*model);
  std::vector<SequenceInput> prompts(4);
  for (size_t s = 0; s < prompts.size(); ++s)
    for (int64_t i = 0; i < 128; ++i) prompts[s].tokens.push_back(int32_t((i * 7919 + int64_t(s) * 31) % config->vocab_size));
  GenerateOptions options;
  options.max_new_tokens = state.range(0);
  options.read.logits = LogitsMode::kSelected;
  options.read.logit_token_ids = {10, 11, 12, 13, 14};
  for (int32_t l = 0; l <= config->num_layers; ++l) options.read.capture_layers.push_back(l);
  options.read.layer_logits = true;
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
BENCHMARK(BM_GreedyDecode)->Arg(33)->Unit(benchmark::kSecond)->Iterations(2)->UseRealTime();

}  // namespace
}  // namespace arbiter
