// Tokenizer throughput (tokens/s) for the Llama 3 and Qwen3 tokenizer.json files at 1 KB, 64 KB and
// 1 MB of mixed text. Per-token cost should not grow with the input (no quadratic paths).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "text/tokenizer.h"

namespace {

// The shared reference data: ARBITER_SHARED_DIR when the build defines it, else the environment
// variable of that name, else ../shared (its place relative to the repository root).
std::string shared_dir() {
#ifdef ARBITER_SHARED_DIR
  return ARBITER_SHARED_DIR;
#else
  const char* env = std::getenv("ARBITER_SHARED_DIR");
  return env ? env : "../shared";
#endif
}

std::string fixture_dir(const std::string& name) { return shared_dir() + "/fixtures/tokenizers/" + name; }

std::shared_ptr<arbiter::Tokenizer> tokenizer(const std::string& name) {
  static std::map<std::string, std::shared_ptr<arbiter::Tokenizer>> cache;
  auto& slot = cache[name];
  if (!slot) {
    auto tok = arbiter::Tokenizer::from_tokenizer_json(fixture_dir(name) + "/tokenizer.json",
                                                       fixture_dir(name) + "/tokenizer_config.json");
    if (tok) slot = *tok;
  }
  return slot;
}

// The reference texts (prose, code, numbers, many scripts, emoji) repeated to `bytes`, cut at a
// character boundary.
std::string corpus(size_t bytes) {
  std::ifstream in(fixture_dir("llama3") + "/reference.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto ref = nlohmann::json::parse(ss.str());
  std::string unit;
  for (const auto& t : ref["texts"]) unit += t.get<std::string>() + "\n";
  std::string text;
  while (text.size() < bytes) text += unit;
  size_t cut = bytes;
  while (cut > 0 && (static_cast<uint8_t>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text;
}

void BM_Encode(benchmark::State& state, const std::string& name) {
  auto tok = tokenizer(name);
  if (!tok) {
    state.SkipWithError("tokenizer fixture not found");
    return;
  }
  std::string text = corpus(static_cast<size_t>(state.range(0)));
  size_t tokens = 0;
  for (auto _ : state) {
    auto ids = tok->encode(text, false, true);
    if (!ids) {
      state.SkipWithError(ids.message().c_str());
      return;
    }
    tokens += ids->size();
    benchmark::DoNotOptimize(ids->data());
  }
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
}

BENCHMARK_CAPTURE(BM_Encode, llama3, std::string("llama3"))->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, qwen3, std::string("qwen3"))->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

}  // namespace
