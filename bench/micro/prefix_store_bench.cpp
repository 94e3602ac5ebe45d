// What finding a kept prefix costs: PrefixStore::find over a full store (kMaxSequences sequences of
// 1,300 tokens that all begin with the same 1,200, a judge's rubric), for one new sequence that shares
// the rubric: the worst case for comparisons, since every kept sequence shares 1,200 tokens with the query.
// Against a forward pass of seconds, this is the store's whole overhead on the CPU besides copying rows;
// the server also pays it for every sequence it weighs for a batch, with its queue locked.
#include <benchmark/benchmark.h>

#include <random>

#include "runtime/cpu/prefix_store.h"

namespace arbiter::cpu {
namespace {

void BM_PrefixStoreFind(benchmark::State& state) {
  constexpr int64_t kLayers = 1, kKvDim = 1, kShared = 1200, kOwn = 100;
  PrefixStore store(kLayers, kKvDim);
  store.set_budget(size_t(1) << 30);
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> token(0, 150000);
  std::vector<int32_t> rubric(kShared);
  for (int32_t& t : rubric) t = token(rng);
  for (size_t s = 0; s < PrefixStore::kMaxSequences; ++s) {
    std::vector<int32_t> tokens = rubric;
    for (int64_t i = 0; i < kOwn; ++i) tokens.push_back(token(rng));
    KvCache kv;
    kv.k.assign(kLayers, std::vector<float>(tokens.size() * kKvDim));
    kv.v = kv.k;
    store.keep(std::move(tokens), std::move(kv));
  }
  std::vector<int32_t> query = rubric;
  for (int64_t i = 0; i < kOwn; ++i) query.push_back(token(rng));
  for (auto _ : state) {
    const PrefixStore::Match match = store.find(query, int64_t(query.size()) - 1);
    benchmark::DoNotOptimize(match.length);
  }
  state.counters["kept"] = double(store.sequences());
}
BENCHMARK(BM_PrefixStoreFind)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace arbiter::cpu
