#include "runtime/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/thread_pool.h"
#include "runtime/cpu/vec.h"

namespace arbiter::cpu {

namespace {

constexpr int64_t kQueryBlock = 16;

struct WorkItem {
  size_t span;
  int64_t head, query_begin, query_end;
};

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

  ThreadPool& pool = global_thread_pool();
  std::vector<std::vector<float>> scores_per_thread(size_t(pool.size()), std::vector<float>(size_t(max_keys)));
  pool.parallel_for(items.size(), 1, [&](int thread, size_t begin, size_t end) {
    float* scores = scores_per_thread[size_t(thread)].data();
    for (size_t w = begin; w < end; ++w) {
      const WorkItem& it = items[w];
      const AttentionSpan& span = spans[it.span];
      const int64_t kv_head = it.head / group;
      const float* keys = span.k + kv_head * hd;
      const float* values = span.v + kv_head * hd;
      for (int64_t i = it.query_begin; i < it.query_end; ++i) {
        const int64_t p = span.past + i;  // this query's position
        const float* qi = q + (span.query_row + i) * q_stride + it.head * hd;
        const int64_t first = shape.sliding_window > 0 ? std::max<int64_t>(0, p - shape.sliding_window + 1) : 0;
        float max_score = -INFINITY;
        for (int64_t j = first; j <= p; ++j) {
          float s = dot(qi, keys + j * kv_stride, hd) * shape.scale;
          if (shape.softcap > 0) s = shape.softcap * std::tanh(s / shape.softcap);
          scores[j - first] = s;
          max_score = std::max(max_score, s);
        }
        float denom = 0;
        for (int64_t j = first; j <= p; ++j) {
          const float e = std::exp(scores[j - first] - max_score);
          scores[j - first] = e;
          denom += e;
        }
        float* oi = out + (span.query_row + i) * q_stride + it.head * hd;
        std::memset(oi, 0, sizeof(float) * size_t(hd));
        const float inv = 1.0f / denom;
        for (int64_t j = first; j <= p; ++j) axpy(scores[j - first] * inv, values + j * kv_stride, oi, hd);
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
