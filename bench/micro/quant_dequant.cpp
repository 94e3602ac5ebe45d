// Throughput of dequantize_row per weight type: bytes/s counts the quantized input (what the matmul
// streams from memory), items/s the floats produced. The *_scalar variants are the reference loops,
// to show what the vectorised paths buy.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "quant/dequantize_scalar.h"
#include "quant/dtype.h"
#include "quant/quantize.h"

namespace arbiter {
namespace {

// 16384 elements: the f32 output (64 KiB) stays in L2, so the loop measures decoding, not DRAM.
constexpr int64_t kElements = 16384;

// A row of `type`: normal values quantized where arbiter has a quantizer; otherwise random blocks with
// every byte's exponent bits kept low, so that any f16 scale in a block is finite and below 1.
std::vector<uint8_t> quantized_normal_row(DType type) {
  std::mt19937 rng(42);
  std::vector<uint8_t> bytes(*row_bytes(type, kElements));
  if (!can_quantize(type)) {
    for (uint8_t& byte : bytes) byte = uint8_t(rng() & 0xbb);
    return bytes;
  }
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> x(kElements);
  for (float& v : x) v = normal(rng);
  quantize_row(type, x.data(), bytes.data(), kElements);
  return bytes;
}

using DequantizeFn = void (*)(DType, const void*, float*, int64_t);

void run_dequantize(benchmark::State& state, DType type, DequantizeFn dequantize) {
  const std::vector<uint8_t> bytes = quantized_normal_row(type);
  std::vector<float> out(kElements);
  for (auto _ : state) {
    dequantize(type, bytes.data(), out.data(), kElements);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes.size()));
  state.SetItemsProcessed(int64_t(state.iterations()) * kElements);
}

void BM_Dequantize(benchmark::State& state, DType type) { run_dequantize(state, type, dequantize_row); }
void BM_DequantizeScalar(benchmark::State& state, DType type) { run_dequantize(state, type, dequantize_row_scalar); }

// Quantizing normal values (what `arbiter quantize` and `convert` do per row): items/s counts the
// floats consumed.
void BM_Quantize(benchmark::State& state, DType type) {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> x(kElements);
  for (float& v : x) v = normal(rng);
  std::vector<uint8_t> bytes(*row_bytes(type, kElements));
  for (auto _ : state) {
    quantize_row(type, x.data(), bytes.data(), kElements);
    benchmark::DoNotOptimize(bytes.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * kElements);
}

BENCHMARK_CAPTURE(BM_Quantize, Q8_0, DType::Q8_0);
BENCHMARK_CAPTURE(BM_Quantize, Q4_0, DType::Q4_0);
BENCHMARK_CAPTURE(BM_Quantize, Q2_K, DType::Q2_K);
BENCHMARK_CAPTURE(BM_Quantize, Q3_K, DType::Q3_K);
BENCHMARK_CAPTURE(BM_Quantize, Q4_K, DType::Q4_K);
BENCHMARK_CAPTURE(BM_Quantize, Q5_K, DType::Q5_K);
BENCHMARK_CAPTURE(BM_Quantize, Q6_K, DType::Q6_K);
BENCHMARK_CAPTURE(BM_Quantize, IQ4_NL, DType::IQ4_NL);
BENCHMARK_CAPTURE(BM_Quantize, IQ4_XS, DType::IQ4_XS);

#define ARBITER_DEQUANT_BENCH(TYPE)                               \
  BENCHMARK_CAPTURE(BM_Dequantize, TYPE, DType::TYPE);            \
  BENCHMARK_CAPTURE(BM_DequantizeScalar, TYPE, DType::TYPE)

ARBITER_DEQUANT_BENCH(F16);
ARBITER_DEQUANT_BENCH(BF16);
ARBITER_DEQUANT_BENCH(Q8_0);
ARBITER_DEQUANT_BENCH(Q4_0);
ARBITER_DEQUANT_BENCH(Q4_1);
ARBITER_DEQUANT_BENCH(Q5_0);
ARBITER_DEQUANT_BENCH(Q5_1);
ARBITER_DEQUANT_BENCH(Q2_K);
ARBITER_DEQUANT_BENCH(Q3_K);
ARBITER_DEQUANT_BENCH(Q4_K);
ARBITER_DEQUANT_BENCH(Q5_K);
ARBITER_DEQUANT_BENCH(Q6_K);
ARBITER_DEQUANT_BENCH(IQ4_NL);
ARBITER_DEQUANT_BENCH(IQ4_XS);

}  // namespace
}  // namespace arbiter
