// The two-layer reward head (Linear(d, d) + ReLU + Linear(d, labels)) alone, as a process reward model
// applies it at every step separator: d = 3584 (Qwen2.5-Math-PRM-7B) and 8192 (the 72B models), 2
// labels, 1 to 64 read rows, per thread count. Counter: GB_s = the d x d layer's f32 bytes per second (the
// layer is read once per call, so this is the share of memory bandwidth the head takes).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "runtime/score_head.h"

namespace arbiter {
namespace {

void BM_score_head(benchmark::State& state) {
  const int64_t d = state.range(0), reads = state.range(1);
  set_num_threads(int(state.range(2)));
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  auto fill = [&](size_t n) {
    std::vector<float> v(n);
    for (float& f : v) f = normal(rng);
    return v;
  };
  Model m;
  m.config.hidden_size = d;
  m.config.num_labels = 2;
  m.config.score_mlp = true;
  m.score_hidden = fill(size_t(d * d));
  m.score_hidden_bias = fill(size_t(d));
  m.score_head = fill(size_t(2 * d));
  const std::vector<float> rows = fill(size_t(reads * d));
  std::vector<float> out(size_t(reads * 2));
  for (auto _ : state) {
    if (Status applied = apply_score_head(m, rows.data(), reads, out.data()); !applied) {
      state.SkipWithError(applied.message().c_str());
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GB_s"] = benchmark::Counter(double(d * d) * 4.0 * double(state.iterations()) / 1e9,
                                              benchmark::Counter::kIsRate);
}

BENCHMARK(BM_score_head)
    ->ArgsProduct({{3584, 8192}, {1, 16, 64}, {1, 2}})
    ->ArgNames({"d", "reads", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace arbiter
