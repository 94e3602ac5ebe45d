#include "runtime/cpu/peak.h"

#include <time.h>

#include <atomic>
#include <cstdint>

#include "core/thread_pool.h"
#include "runtime/cpu/gemm_bf16.h"
#include "runtime/cpu/simd.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace arbiter {
namespace {

double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

constexpr int64_t kIterations = 4'000'000;
constexpr int kChains = 12;  // more independent chains than FMA latency x pipes

// FLOP per second of one thread's CPU time (so a core shared with other work does not lower it), with the
// vector width the f32 kernels are compiled for (simd.h, and gemm_kernel.h's tiles): zmm where AVX-512 is
// on. Cores with full 512-bit FMA units (Zen 5, Intel server parts) do twice the ymm rate with zmm, so
// measuring ymm there would report half the peak, and kernels above 100% of it.
double f32_rate() {
#if defined(__AVX2__) && defined(__FMA__)
  using namespace cpu::simd;
  Vec acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = set1(float(j));
  const Vec mul = set1(0.999999f), bias = set1(1e-7f);
  const double start = thread_seconds();
  for (int64_t i = 0; i < kIterations; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kChains; ++j) acc[j] = fma(acc[j], mul, bias);
  }
  const double seconds = thread_seconds() - start;
  float sink[kLanes];
  Vec sum = acc[0];
  for (int j = 1; j < kChains; ++j) sum = add(sum, acc[j]);
  store(sink, sum);
  static std::atomic<float> keep{0};
  keep.store(sink[0], std::memory_order_relaxed);
  return double(kIterations) * kChains * 2 * kLanes / seconds;
#else
  return 0;
#endif
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) double bf16_rate() {
  __m512 acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = _mm512_set1_ps(float(j));
  __m512bh a = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3f80));
  const __m512bh b = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3f7f));
  const double start = thread_seconds();
  for (int64_t i = 0; i < kIterations; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kChains; ++j) acc[j] = _mm512_dpbf16_ps(acc[j], a, b);
    __asm__ volatile("" : "+v"(a));  // keeps the loop from being folded
  }
  const double seconds = thread_seconds() - start;
  alignas(64) float sink[16];
  __m512 sum = acc[0];
  for (int j = 1; j < kChains; ++j) sum = _mm512_add_ps(sum, acc[j]);
  _mm512_store_ps(sink, sum);
  static std::atomic<float> keep{0};
  keep.store(sink[0], std::memory_order_relaxed);
  return double(kIterations) * kChains * 64 / seconds;
}
#endif

}  // namespace

double measure_cpu_peak_flops(MatmulPrecision arithmetic) {
  const bool bf16 = arithmetic == MatmulPrecision::kBf16;
  if (bf16 && !bf16_gemm_supported()) return 0;
  ThreadPool& pool = global_thread_pool();
  std::atomic<double> total{0};
  pool.run_on_all([&](int) {
#if defined(__x86_64__)
    const double rate = bf16 ? bf16_rate() : f32_rate();
#else
    const double rate = f32_rate();
#endif
    double seen = total.load();
    while (!total.compare_exchange_weak(seen, seen + rate)) {
    }
  });
  return total.load();
}

}  // namespace arbiter
