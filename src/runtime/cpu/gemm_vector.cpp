#include "runtime/cpu/gemm_vector.h"

#include <algorithm>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace arbiter {
namespace {

constexpr int kTokenGroup = 4;

// sums[t] = dot(row, x[t]) for T tokens at once, so each load of the row serves T FMAs (a lone dot
// product is bound by its two loads per FMA). A = 2 accumulators per token, one per 8-element step,
// whatever T is: a token's sum must not depend on how many tokens share the call (batch invariance;
// 4 chains for one or two tokens summed in another order). Two chains already outrun the memory a
// decoding step waits on.
template <int T>
void dot_tokens(const float* row, const float* x, int64_t ldx, int64_t count, float* sums) {
  int64_t k = 0;
  float tail[T] = {};
#if defined(__AVX2__) && defined(__FMA__)
  constexpr int A = 2;
  __m256 acc[T][A];
#pragma GCC unroll 16
  for (int i = 0; i < T * A; ++i) acc[i / A][i % A] = _mm256_setzero_ps();
  for (; k + 8 * A <= count; k += 8 * A) {
#pragma GCC unroll 4
    for (int a = 0; a < A; ++a) {
      const __m256 r = _mm256_loadu_ps(row + k + 8 * a);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[t][a] = _mm256_fmadd_ps(r, _mm256_loadu_ps(x + t * ldx + k + 8 * a), acc[t][a]);
    }
  }
  for (; k + 8 <= count; k += 8) {
    const __m256 r = _mm256_loadu_ps(row + k);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[t][0] = _mm256_fmadd_ps(r, _mm256_loadu_ps(x + t * ldx + k), acc[t][0]);
  }
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) {
    __m256 all = acc[t][0];
#pragma GCC unroll 4
    for (int a = 1; a < A; ++a) all = _mm256_add_ps(all, acc[t][a]);
    const __m128 half = _mm_add_ps(_mm256_castps256_ps128(all), _mm256_extractf128_ps(all, 1));
    const __m128 quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
    tail[t] = _mm_cvtss_f32(_mm_add_ss(quarter, _mm_movehdup_ps(quarter)));
  }
#else
  for (int t = 0; t < T; ++t) {
    float lanes[8] = {};
    const float* xt = x + t * ldx;
    for (int64_t j = 0; j + 8 <= count; j += 8)
      for (int l = 0; l < 8; ++l) lanes[l] += row[j + l] * xt[j + l];
    for (int l = 0; l < 8; ++l) tail[t] += lanes[l];
  }
  k = count / 8 * 8;
#endif
  for (int t = 0; t < T; ++t) {
    float sum = tail[t];
    for (int64_t j = k; j < count; ++j) sum += row[j] * x[t * ldx + j];
    sums[t] = sum;
  }
}

void dot_group(const float* row, const float* x, int64_t ldx, int64_t tokens, int64_t count, float* sums) {
  switch (tokens) {
    case 1: return dot_tokens<1>(row, x, ldx, count, sums);
    case 2: return dot_tokens<2>(row, x, ldx, count, sums);
    case 3: return dot_tokens<3>(row, x, ldx, count, sums);
    default: return dot_tokens<kTokenGroup>(row, x, ldx, count, sums);
  }
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
    for (int64_t t0 = 0; t0 < n; t0 += kTokenGroup) {
      const int64_t tokens = std::min<int64_t>(kTokenGroup, n - t0);
      float sums[kTokenGroup];
      dot_group(row, x + t0 * ldx, ldx, tokens, w.in, sums);
      for (int64_t t = 0; t < tokens; ++t) {
        float& out = y[(t0 + t) * ldy + o];
        out = accumulate ? out + sums[t] : sums[t];
      }
    }
  }
}

}  // namespace arbiter
