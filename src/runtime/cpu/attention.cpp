#include "runtime/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/thread_pool.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define ARBITER_ATTENTION_AVX2 1
#endif

namespace arbiter::cpu {

namespace {

constexpr int64_t kQueryBlock = 16;
constexpr int64_t kKeyChunk = 8;  // keys whose scores one vector holds

struct WorkItem {
  size_t span;
  int64_t head, query_begin, query_end;
};

// scores[i][j] = q_i . k_j for `queries` rows of q (stride q_stride) and `keys` rows of k (stride
// kv_stride), each a sum over the head dimensions in ascending order, one chain per (i, j): a score does
// not depend on which other queries or keys share the call. The keys are transposed eight at a time so
// that one vector holds eight keys' scores (no horizontal sums). scores: [queries, ld], ld >= keys
// rounded up to 8; kt: scratch of head_dim * 8 floats.
void query_key_scores(const float* q, int64_t q_stride, int64_t queries, const float* k, int64_t kv_stride,
                      int64_t keys, int64_t hd, float* scores, int64_t ld, float* kt) {
  for (int64_t j0 = 0; j0 < keys; j0 += kKeyChunk) {
    const int64_t chunk = std::min(kKeyChunk, keys - j0);
    // kt: [hd, 8], missing keys zero
    for (int64_t c = 0; c < kKeyChunk; ++c)
      for (int64_t d = 0; d < hd; ++d) kt[d * kKeyChunk + c] = c < chunk ? k[(j0 + c) * kv_stride + d] : 0.0f;
    int64_t i = 0;
#ifdef ARBITER_ATTENTION_AVX2
    for (; i + 4 <= queries; i += 4) {
      const float* q0 = q + i * q_stride;
      __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
      for (int64_t d = 0; d < hd; ++d) {
        const __m256 kd = _mm256_loadu_ps(kt + d * kKeyChunk);
        a0 = _mm256_fmadd_ps(_mm256_set1_ps(q0[d]), kd, a0);
        a1 = _mm256_fmadd_ps(_mm256_set1_ps(q0[q_stride + d]), kd, a1);
        a2 = _mm256_fmadd_ps(_mm256_set1_ps(q0[2 * q_stride + d]), kd, a2);
        a3 = _mm256_fmadd_ps(_mm256_set1_ps(q0[3 * q_stride + d]), kd, a3);
      }
      _mm256_storeu_ps(scores + i * ld + j0, a0);
      _mm256_storeu_ps(scores + (i + 1) * ld + j0, a1);
      _mm256_storeu_ps(scores + (i + 2) * ld + j0, a2);
      _mm256_storeu_ps(scores + (i + 3) * ld + j0, a3);
    }
    for (; i < queries; ++i) {
      const float* qi = q + i * q_stride;
      __m256 a = _mm256_setzero_ps();
      for (int64_t d = 0; d < hd; ++d) a = _mm256_fmadd_ps(_mm256_set1_ps(qi[d]), _mm256_loadu_ps(kt + d * kKeyChunk), a);
      _mm256_storeu_ps(scores + i * ld + j0, a);
    }
#else
    for (; i < queries; ++i) {
      const float* qi = q + i * q_stride;
      for (int64_t c = 0; c < kKeyChunk; ++c) {
        float s = 0.0f;
        for (int64_t d = 0; d < hd; ++d) s = std::fma(qi[d], kt[d * kKeyChunk + c], s);
        scores[i * ld + j0 + c] = s;
      }
    }
#endif
  }
}

// out[d] = inv * sum_j weights[j] * v_j[d], j ascending for every d (v rows of stride kv_stride).
void weighted_values(const float* weights, const float* v, int64_t kv_stride, int64_t keys, int64_t hd, float inv,
                     float* out) {
  int64_t d0 = 0;
#ifdef ARBITER_ATTENTION_AVX2
  // 32 dimensions at a time in four registers.
  for (; d0 + 32 <= hd; d0 += 32) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (int64_t j = 0; j < keys; ++j) {
      const __m256 w = _mm256_set1_ps(weights[j]);
      const float* vj = v + j * kv_stride + d0;
      a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj), a0);
      a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj + 8), a1);
      a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj + 16), a2);
      a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(vj + 24), a3);
    }
    const __m256 s = _mm256_set1_ps(inv);
    _mm256_storeu_ps(out + d0, _mm256_mul_ps(a0, s));
    _mm256_storeu_ps(out + d0 + 8, _mm256_mul_ps(a1, s));
    _mm256_storeu_ps(out + d0 + 16, _mm256_mul_ps(a2, s));
    _mm256_storeu_ps(out + d0 + 24, _mm256_mul_ps(a3, s));
  }
  for (; d0 + 8 <= hd; d0 += 8) {
    __m256 a = _mm256_setzero_ps();
    for (int64_t j = 0; j < keys; ++j) a = _mm256_fmadd_ps(_mm256_set1_ps(weights[j]), _mm256_loadu_ps(v + j * kv_stride + d0), a);
    _mm256_storeu_ps(out + d0, _mm256_mul_ps(a, _mm256_set1_ps(inv)));
  }
#endif
  for (; d0 < hd; ++d0) {
    float a = 0.0f;
    for (int64_t j = 0; j < keys; ++j) a = std::fma(weights[j], v[j * kv_stride + d0], a);
    out[d0] = a * inv;
  }
}

}  // namespace

void causal_attention(const float* q, float* out, const std::vector<AttentionSpan>& spans, const AttentionShape& shape) {
  const int64_t hd = shape.head_dim;
  const int64_t q_stride = shape.num_heads * hd, kv_stride = shape.num_kv_heads * hd;
  const int64_t group = shape.num_heads / shape.num_kv_heads;
  std::vector<WorkItem> items;
  int64_t max_keys = 0;
  for (size_t s = 0; s < spans.size(); ++s) {
    const AttentionSpan& span = spans[s];
    max_keys = std::max(max_keys, span.past + span.num_queries);
    for (int64_t h = 0; h < shape.num_heads; ++h)
      for (int64_t qb = 0; qb < span.num_queries; qb += kQueryBlock)
        items.push_back({s, h, qb, std::min(span.num_queries, qb + kQueryBlock)});
  }
  // Longest rows first balances the threads: later positions see more keys.
  std::stable_sort(items.begin(), items.end(), [&](const WorkItem& a, const WorkItem& b) {
    return spans[a.span].past + a.query_end > spans[b.span].past + b.query_end;
  });

  // Per thread: scores [kQueryBlock, ld] and the transposed key chunk [hd, 8].
  const int64_t ld = (max_keys + kKeyChunk - 1) / kKeyChunk * kKeyChunk;
  ThreadPool& pool = global_thread_pool();
  std::vector<std::vector<float>> scratch_per_thread(size_t(pool.size()),
                                                     std::vector<float>(size_t(kQueryBlock * ld + hd * kKeyChunk)));
  pool.parallel_for(items.size(), 1, [&](int thread, size_t begin, size_t end) {
    float* scores = scratch_per_thread[size_t(thread)].data();
    float* kt = scores + kQueryBlock * ld;
    for (size_t w = begin; w < end; ++w) {
      const WorkItem& it = items[w];
      const AttentionSpan& span = spans[it.span];
      const int64_t kv_head = it.head / group;
      const float* keys = span.k + kv_head * hd;
      const float* values = span.v + kv_head * hd;
      // The keys any query of the block sees: [key_lo, key_hi]; scores[i][j - key_lo].
      const int64_t p_lo = span.past + it.query_begin, p_hi = span.past + it.query_end - 1;
      const int64_t key_lo = shape.sliding_window > 0 ? std::max<int64_t>(0, p_lo - shape.sliding_window + 1) : 0;
      const int64_t queries = it.query_end - it.query_begin;
      const float* q_block = q + (span.query_row + it.query_begin) * q_stride + it.head * hd;
      query_key_scores(q_block, q_stride, queries, keys + key_lo * kv_stride, kv_stride, p_hi - key_lo + 1, hd, scores,
                       ld, kt);
      for (int64_t i = 0; i < queries; ++i) {
        const int64_t p = p_lo + i;  // this query's position
        const int64_t first = shape.sliding_window > 0 ? std::max<int64_t>(0, p - shape.sliding_window + 1) : 0;
        float* row = scores + i * ld + (first - key_lo);  // row[j - first] for j in [first, p]
        const int64_t count = p - first + 1;
        float max_score = -INFINITY;
        for (int64_t j = 0; j < count; ++j) {
          float s = row[j] * shape.scale;
          if (shape.softcap > 0) s = shape.softcap * std::tanh(s / shape.softcap);
          row[j] = s;
          max_score = std::max(max_score, s);
        }
        float denom = 0;
        for (int64_t j = 0; j < count; ++j) {
          const float e = std::exp(row[j] - max_score);
          row[j] = e;
          denom += e;
        }
        weighted_values(row, values + first * kv_stride, kv_stride, count, hd, 1.0f / denom,
                        out + (span.query_row + it.query_begin + i) * q_stride + it.head * hd);
      }
    }
  });
}

void causal_attention(const float* q, const float* k, const float* v, float* out,
                      const std::vector<int64_t>& offsets, const AttentionShape& shape) {
  const int64_t kv_stride = shape.num_kv_heads * shape.head_dim;
  std::vector<AttentionSpan> spans;
  for (size_t s = 0; s + 1 < offsets.size(); ++s)
    spans.push_back({offsets[s], offsets[s + 1] - offsets[s], 0, k + offsets[s] * kv_stride, v + offsets[s] * kv_stride});
  causal_attention(q, out, spans, shape);
}

}  // namespace arbiter::cpu
