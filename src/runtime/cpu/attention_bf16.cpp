#include "runtime/cpu/attention_bf16.h"

#include <algorithm>
#include <vector>

#include "core/half.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ARB_BF16_ATTENTION_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,fma")))
#define ARB_HAVE_BF16_ATTENTION 1
#endif

namespace arbiter::cpu {
namespace {

uint32_t bf16_pair(float low, float high) { return uint32_t(f32_to_bf16(low)) | uint32_t(f32_to_bf16(high)) << 16; }

constexpr int kBf16QueryGroup = 4;  // queries sharing each load of values

}  // namespace

void pack_values_bf16(const float* v, int64_t kv_stride, int64_t keys, int64_t hd, uint32_t* dst) {
  for (int64_t j = 0; j < (keys + 1) / 2; ++j) {
    const float* even = v + 2 * j * kv_stride;
    const float* odd = 2 * j + 1 < keys ? even + kv_stride : nullptr;
    for (int64_t d = 0; d < hd; ++d) dst[j * hd + d] = bf16_pair(even[d], odd ? odd[d] : 0.0f);
  }
}

#if defined(ARB_HAVE_BF16_ATTENTION)
namespace {

// Holds a vector in a register for the FMAs that share it (see simd.h's keep_in_register).
ARB_BF16_ATTENTION_TARGET inline void pin(__m512i& a) { __asm__("" : "+v"(a)); }

ARB_BF16_ATTENTION_TARGET inline __m512 dot_pairs(__m512 acc, __m512i a, __m512i b) {
  return _mm512_dpbf16_ps(acc, reinterpret_cast<__m512bh>(a), reinterpret_cast<__m512bh>(b));
}

// count (0..32) floats at src as 16 bf16 pairs, zero past count.
ARB_BF16_ATTENTION_TARGET inline __m512i pairs_of(const float* src, int64_t count) {
  const int64_t lo_n = std::clamp<int64_t>(count, 0, 16), hi_n = std::clamp<int64_t>(count - 16, 0, 16);
  const __m512 lo = _mm512_maskz_loadu_ps(__mmask16((1u << lo_n) - 1u), src);
  const __m512 hi = _mm512_maskz_loadu_ps(__mmask16((1u << hi_n) - 1u), src + 16);
  return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
}

// Q queries' weights (pairs wp[r], from pair `lo`) times the values of key pairs [lo, hi], for U vectors
// of 16 dimensions from d0 (the last one `tail` dimensions wide).
template <int Q, int U>
ARB_BF16_ATTENTION_TARGET void weighted_tile(const uint32_t* const* wp, int64_t lo, int64_t hi, const uint32_t* values, int64_t hd,
                                   int64_t d0, int tail, const float* inv, float* const* out) {
  const __mmask16 last_mask = __mmask16((1u << tail) - 1u);
  __m512 acc[Q][U];
#pragma GCC unroll 16
  for (int i = 0; i < Q * U; ++i) acc[i / U][i % U] = _mm512_setzero_ps();
  for (int64_t j = lo; j <= hi; ++j) {
    __m512i w[Q];
#pragma GCC unroll 4
    for (int r = 0; r < Q; ++r) {
      w[r] = _mm512_set1_epi32(int(wp[r][j - lo]));
      pin(w[r]);
    }
    const uint32_t* row = values + j * hd + d0;
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) {
      __m512i value = u + 1 < U ? _mm512_loadu_si512(row + u * 16) : _mm512_maskz_loadu_epi32(last_mask, row + u * 16);
      pin(value);
#pragma GCC unroll 4
      for (int r = 0; r < Q; ++r) acc[r][u] = dot_pairs(acc[r][u], w[r], value);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < Q; ++r) {
    const __m512 scale = _mm512_set1_ps(inv[r]);
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) {
      const __m512 result = _mm512_mul_ps(acc[r][u], scale);
      if (u + 1 < U) {
        _mm512_storeu_ps(out[r] + d0 + u * 16, result);
      } else {
        _mm512_mask_storeu_ps(out[r] + d0 + u * 16, last_mask, result);
      }
    }
  }
}

template <int Q>
ARB_BF16_ATTENTION_TARGET void weighted_values_group(const uint32_t* const* wp, int64_t lo, int64_t hi, const uint32_t* values,
                                           int64_t hd, const float* inv, float* const* out) {
  for (int64_t d0 = 0; d0 < hd; d0 += 64) {
    const int64_t width = std::min<int64_t>(64, hd - d0);
    const int tail = int((width - 1) % 16 + 1);
    switch ((width + 15) / 16) {
      case 1: weighted_tile<Q, 1>(wp, lo, hi, values, hd, d0, tail, inv, out); break;
      case 2: weighted_tile<Q, 2>(wp, lo, hi, values, hd, d0, tail, inv, out); break;
      case 3: weighted_tile<Q, 3>(wp, lo, hi, values, hd, d0, tail, inv, out); break;
      default: weighted_tile<Q, 4>(wp, lo, hi, values, hd, d0, tail, inv, out); break;
    }
  }
}

}  // namespace

ARB_BF16_ATTENTION_TARGET void weighted_values_bf16(const float* const* weights, const int64_t* first, const int64_t* last,
                                          int64_t queries, const uint32_t* values, int64_t hd, const float* inv,
                                          float* const* out) {
  // Per query, its weights as key pairs over its group's pair range (zero past its own last key).
  static thread_local std::vector<uint32_t> storage;
  int64_t i = 0;
  while (i < queries) {
    const int q_count = queries - i >= kBf16QueryGroup ? kBf16QueryGroup : 1;
    const int64_t lo = first[i] / 2, hi = last[i + q_count - 1] / 2, span = hi - lo + 1;
    const int64_t stride = (span + 15) / 16 * 16;
    if (storage.size() < size_t(q_count * stride)) storage.resize(size_t(q_count * stride));
    const uint32_t* wp[kBf16QueryGroup];
    for (int r = 0; r < q_count; ++r) {
      uint32_t* dst = storage.data() + r * stride;
      const float* row = weights[i + r];
      const int64_t end = last[i + r] + 1;  // columns [0, end) are this query's (zero before first)
      for (int64_t j = 0; j < span; j += 16) {
        const int64_t column = 2 * (lo + j);
        _mm512_storeu_si512(dst + j, pairs_of(row + column, std::clamp<int64_t>(end - column, 0, 32)));
      }
      wp[r] = dst;
    }
    if (q_count == kBf16QueryGroup) {
      weighted_values_group<kBf16QueryGroup>(wp, lo, hi, values, hd, inv + i, out + i);
    } else {
      weighted_values_group<1>(wp, lo, hi, values, hd, inv + i, out + i);
    }
    i += q_count;
  }
}

#else

// Not an x86-64 build: attention never calls these (bf16_gemm_supported() is false).
void weighted_values_bf16(const float* const*, const int64_t*, const int64_t*, int64_t, const uint32_t*, int64_t,
                          const float*, float* const*) {}

#endif

}  // namespace arbiter::cpu
