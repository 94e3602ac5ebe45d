// The CPU attention kernel alone at prefill size: one packed sequence of T tokens with Qwen2.5-0.5B's
// heads (14 query / 2 kv heads of 64) and Llama-3.2-1B's (32 / 8 of 64), with the weights x values
// product in f32 (bf16_values:0) or bf16 (1, skipped without AVX512-BF16). Counters: GFLOP_s counts the
// causal work 2 x (T(T+1)/2) x head_dim x heads x 2 (scores and values) per second of wall time, and
// pct_of_f32_peak compares it with the pool's measured f32 FMA peak.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "runtime/cpu/attention.h"
#include "runtime/cpu/matmul.h"
#include "runtime/cpu/peak.h"

namespace arbiter {
namespace {

struct Heads {
  int64_t heads, kv_heads, head_dim;
};
constexpr Heads kHeads[] = {{14, 2, 64}, {32, 8, 64}};

void BM_attention(benchmark::State& state) {
  const Heads h = kHeads[state.range(0)];
  const int64_t tokens = state.range(1);
  const bool bf16_values = state.range(3) != 0;
  if (bf16_values && !bf16_matmul_supported()) {
    state.SkipWithError("this CPU has no AVX512-BF16");
    return;
  }
  set_num_threads(int(state.range(2)));
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto fill = [&](size_t n) {
    std::vector<float> v(n);
    for (float& f : v) f = normal(rng);
    return v;
  };
  const std::vector<float> q = fill(size_t(tokens * h.heads * h.head_dim));
  const std::vector<float> k = fill(size_t(tokens * h.kv_heads * h.head_dim));
  const std::vector<float> v = fill(size_t(tokens * h.kv_heads * h.head_dim));
  std::vector<float> out(q.size());
  cpu::AttentionShape shape;
  shape.num_heads = h.heads;
  shape.num_kv_heads = h.kv_heads;
  shape.head_dim = h.head_dim;
  shape.scale = 0.125f;
  shape.bf16_values = bf16_values;
  for (auto _ : state) {
    cpu::causal_attention(q.data(), k.data(), v.data(), out.data(), {0, tokens}, shape);
    benchmark::DoNotOptimize(out.data());
  }
  const double flops = 2.0 * 2.0 * double(tokens) * double(tokens + 1) / 2.0 * double(h.head_dim * h.heads);
  state.counters["GFLOP_s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  const double peak = measure_cpu_peak_flops(MatmulPrecision::kF32);
  state.counters["pct_of_f32_peak"] =
      benchmark::Counter(100.0 * flops / peak, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(h.heads == 14 ? "qwen2.5-0.5b heads" : "llama-3.2-1b heads");
  set_num_threads(0);
}
BENCHMARK(BM_attention)
    ->ArgsProduct({{0, 1}, {512, 1024}, {1, 2}, {0, 1}})
    ->ArgNames({"heads", "tokens", "threads", "bf16_values"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace arbiter
