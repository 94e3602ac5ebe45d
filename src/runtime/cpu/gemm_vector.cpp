#include "runtime/cpu/gemm_vector.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace arbiter {
namespace {

// Four independent accumulators hide the FMA latency; the order of the sums is fixed, so results do not
// depend on the thread count.
float dot_f32(const float* a, const float* b, int64_t count) {
  int64_t k = 0;
  float sum = 0.0f;
#if defined(__AVX2__) && defined(__FMA__)
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  for (; k + 32 <= count; k += 32) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), acc1);
    acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 16), _mm256_loadu_ps(b + k + 16), acc2);
    acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 24), _mm256_loadu_ps(b + k + 24), acc3);
  }
  for (; k + 8 <= count; k += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), acc0);
  const __m256 acc = _mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3));
  const __m128 half = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  const __m128 quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
  sum = _mm_cvtss_f32(_mm_add_ss(quarter, _mm_movehdup_ps(quarter)));
#else
  float lanes[8] = {};
  for (; k + 8 <= count; k += 8)
    for (int j = 0; j < 8; ++j) lanes[j] += a[k + j] * b[k + j];
  for (int j = 0; j < 8; ++j) sum += lanes[j];
#endif
  for (; k < count; ++k) sum += a[k] * b[k];
  return sum;
}

}  // namespace

void gemm_vector_rows(const WeightRows& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy,
                      bool accumulate, int64_t o_begin, int64_t o_end, float* scratch) {
  for (int64_t o = o_begin; o < o_end; ++o) {
    const uint8_t* stored = w.row(o);
    const float* row = reinterpret_cast<const float*>(stored);
    if (w.dtype != DType::F32) {
      decode_row_span(w, stored, 0, w.in, scratch);
      row = scratch;
    }
    for (int64_t t = 0; t < n; ++t) {
      const float d = dot_f32(row, x + t * ldx, w.in);
      float& out = y[t * ldy + o];
      out = accumulate ? out + d : d;
    }
  }
}

}  // namespace arbiter
