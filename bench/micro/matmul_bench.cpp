// matmul throughput at prefill size (n = 512 tokens) for the linear layers of Qwen2.5-0.5B and
// Llama-3.2-1B, per weight type and thread count, with OpenBLAS sgemm on the same f32 data alongside.
// Counters: GFLOP_s = 2 * n * in * out / wall time, pct_peak against the peak of the arithmetic the
// matmul uses for the type (f32 FMAs at the kernel's width, or bf16 dot products: runtime/cpu/peak.h),
// measured on as many threads. The cores are often shared with other work, so the same two are also
// given per CPU-second of the process (cpu_GFLOP_s: FLOP per second of a busy core, summed over threads;
// cpu_pct_peak: against one thread's share of the peak), which such sharing disturbs much less.
#include <time.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif
#if defined(ARBITER_HAVE_OPENBLAS)
#include <cblas.h>
#endif

#include "core/half.h"
#include "core/thread_pool.h"
#include "io/tensor.h"
#include "runtime/cpu/matmul.h"
#include "runtime/cpu/peak.h"

namespace arbiter {
namespace {

constexpr int64_t kTokens = 512;

struct Shape {
  const char* name;
  int64_t out, in;
};

// W shapes [out, in]: attention q/o, k/v, ffn up/gate, ffn down.
constexpr Shape kShapes[] = {
    {"qwen05b_qo", 896, 896},     {"qwen05b_kv", 128, 896},     {"qwen05b_up", 4864, 896},
    {"qwen05b_down", 896, 4864},  {"llama1b_qo", 2048, 2048},   {"llama1b_kv", 512, 2048},
    {"llama1b_up", 8192, 2048},   {"llama1b_down", 2048, 8192},
};

constexpr DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1,
                            DType::Q5_0, DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q2_K,
                            DType::Q3_K, DType::IQ4_NL, DType::IQ4_XS};

double process_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// The arithmetic peak of `threads` pool threads running the instruction the matmul uses for `type` (f32
// FMAs at the kernel's vector width, or bf16 dot products), the median of five measurements (a virtual
// machine's clock now and then misreports a short run), once per pair.
double peak_flops(MatmulPrecision arithmetic, int threads) {
  static std::map<std::pair<MatmulPrecision, int>, double> peaks;
  const auto key = std::make_pair(arithmetic, threads);
  if (auto it = peaks.find(key); it != peaks.end()) return it->second;
  set_num_threads(threads);
  double runs[5];
  for (double& r : runs) r = measure_cpu_peak_flops(arithmetic);
  std::sort(runs, runs + 5);
  return peaks[key] = runs[2];
}

// Weight bytes for [out, in] of `type`: random values for plain types; random blocks for quantized ones,
// with every byte's exponent bits kept low so that any f16 scale in a block is finite and below 1.
std::vector<uint8_t> random_weight(DType type, int64_t out, int64_t in, std::mt19937& rng) {
  const size_t bytes = size_t(out) * *row_bytes(type, in);
  std::vector<uint8_t> data(bytes);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  if (type == DType::F32) {
    for (size_t i = 0; i < bytes / 4; ++i) {
      const float v = uniform(rng);
      std::memcpy(data.data() + 4 * i, &v, 4);
    }
  } else if (type == DType::F16 || type == DType::BF16) {
    for (size_t i = 0; i < bytes / 2; ++i) {
      const float v = uniform(rng);
      const uint16_t h = type == DType::F16 ? f32_to_f16(v) : f32_to_bf16(v);
      std::memcpy(data.data() + 2 * i, &h, 2);
    }
  } else {
    for (auto& b : data) b = uint8_t(rng() & 0xbb);
  }
  return data;
}

// Wall and CPU time of the measured loop, timed here so the counters are plain numbers, not rates.
struct LoopTimer {
  std::chrono::steady_clock::time_point wall_start = std::chrono::steady_clock::now();
  double cpu_start = process_cpu_seconds();
};

void set_flop_counters(benchmark::State& state, double flop_per_iteration, int threads, double peak,
                       const LoopTimer& timer) {
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - timer.wall_start).count();
  const double cpu = process_cpu_seconds() - timer.cpu_start;
  const double flop = flop_per_iteration * double(state.iterations());
  state.counters["GFLOP_s"] = flop / wall / 1e9;
  state.counters["cpu_GFLOP_s"] = flop / cpu * threads / 1e9;
  if (peak > 0) {
    state.counters["pct_peak"] = 100.0 * flop / wall / peak;
    state.counters["cpu_pct_peak"] = 100.0 * flop / cpu / (peak / threads);
  }
}

// K-quant rows are whole 256-element blocks; Qwen2.5-0.5B's 896 is not one (its GGUF files store such
// tensors in other types), so those pairs are skipped.
bool skip_if_unstorable(benchmark::State& state, DType type, const Shape& shape) {
  const Result<size_t> bytes = row_bytes(type, shape.in);
  if (bytes) return false;
  state.SkipWithError(bytes.message().c_str());
  return true;
}

void BM_matmul(benchmark::State& state) {
  const Shape shape = kShapes[state.range(0)];
  const DType type = kTypes[state.range(1)];
  const int threads = int(state.range(2));
  if (skip_if_unstorable(state, type, shape)) return;
  set_num_threads(threads);
  std::mt19937 rng(7);
  const std::vector<uint8_t> weight_bytes = random_weight(type, shape.out, shape.in, rng);
  TensorView weight;
  weight.name = shape.name;
  weight.dtype = type;
  weight.shape = {shape.out, shape.in};
  weight.data = weight_bytes.data();
  weight.nbytes = weight_bytes.size();
  std::vector<float> x(size_t(kTokens * shape.in)), y(size_t(kTokens * shape.out));
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (auto& v : x) v = uniform(rng);
  const double peak = peak_flops(effective_matmul_precision(type), threads);
  const LoopTimer timer;
  for (auto _ : state) {
    const Status status = matmul(weight, x.data(), kTokens, shape.in, y.data(), shape.out);
    if (!status) state.SkipWithError(status.message().c_str());
    benchmark::ClobberMemory();
  }
  set_flop_counters(state, 2.0 * double(kTokens) * double(shape.in) * double(shape.out), threads, peak, timer);
  state.SetLabel(std::string(shape.name) + " " + dtype_name(type) + " (" +
                 matmul_precision_name(effective_matmul_precision(type)) + " arithmetic)");
}

#if defined(ARBITER_HAVE_OPENBLAS)
void BM_openblas_sgemm(benchmark::State& state) {
  const Shape shape = kShapes[state.range(0)];
  const int threads = int(state.range(1));
  openblas_set_num_threads(threads);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> w(size_t(shape.out * shape.in)), x(size_t(kTokens * shape.in)), y(size_t(kTokens * shape.out));
  for (auto& v : w) v = uniform(rng);
  for (auto& v : x) v = uniform(rng);
  const double peak = peak_flops(MatmulPrecision::kF32, threads);
  openblas_set_num_threads(threads);
  const LoopTimer timer;
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(kTokens), int(shape.out), int(shape.in), 1.0f, x.data(),
                int(shape.in), w.data(), int(shape.in), 0.0f, y.data(), int(shape.out));
    benchmark::ClobberMemory();
  }
  set_flop_counters(state, 2.0 * double(kTokens) * double(shape.in) * double(shape.out), threads, peak, timer);
  state.SetLabel(std::string(shape.name) + " F32 openblas");
}
#endif

// Decoding steps' row path: one token (one sequence generating) or four (a batch of four generating
// together, each weight row read once for all four). Memory-bound, so reported as weight bytes read
// per second.
void BM_matvec(benchmark::State& state) {
  const int64_t tokens = state.range(3);
  const Shape shape = kShapes[state.range(0)];
  const DType type = kTypes[state.range(1)];
  if (skip_if_unstorable(state, type, shape)) return;
  set_num_threads(int(state.range(2)));
  std::mt19937 rng(7);
  const std::vector<uint8_t> weight_bytes = random_weight(type, shape.out, shape.in, rng);
  TensorView weight;
  weight.name = shape.name;
  weight.dtype = type;
  weight.shape = {shape.out, shape.in};
  weight.data = weight_bytes.data();
  weight.nbytes = weight_bytes.size();
  std::vector<float> x(size_t(tokens * shape.in)), y(size_t(tokens * shape.out));
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (auto& v : x) v = uniform(rng);
  for (auto _ : state) {
    const Status status = matmul(weight, x.data(), tokens, shape.in, y.data(), shape.out, false, MatmulPath::kRows);
    if (!status) state.SkipWithError(status.message().c_str());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(weight_bytes.size()));
  state.SetLabel(std::string(shape.name) + " " + dtype_name(type));
}

void matmul_args(benchmark::internal::Benchmark* b) {
  for (int64_t s = 0; s < int64_t(std::size(kShapes)); ++s)
    for (int64_t t = 0; t < int64_t(std::size(kTypes)); ++t)
      for (int64_t threads : {1, 2}) b->Args({s, t, threads});
}

void matvec_args(benchmark::internal::Benchmark* b) {
  for (int64_t s = 0; s < int64_t(std::size(kShapes)); ++s)
    for (int64_t t = 0; t < int64_t(std::size(kTypes)); ++t)
      for (int64_t threads : {1, 2})
        for (int64_t tokens : {1, 4}) b->Args({s, t, threads, tokens});
}

void openblas_args(benchmark::internal::Benchmark* b) {
  for (int64_t s = 0; s < int64_t(std::size(kShapes)); ++s)
    for (int64_t threads : {1, 2}) b->Args({s, threads});
}

BENCHMARK(BM_matmul)->Apply(matmul_args)->ArgNames({"shape", "type", "threads"})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_matvec)->Apply(matvec_args)->ArgNames({"shape", "type", "threads", "tokens"})->UseRealTime()->Unit(benchmark::kMicrosecond);
#if defined(ARBITER_HAVE_OPENBLAS)
BENCHMARK(BM_openblas_sgemm)->Apply(openblas_args)->ArgNames({"shape", "threads"})->UseRealTime()->Unit(benchmark::kMillisecond);
#endif

}  // namespace
}  // namespace arbiter
