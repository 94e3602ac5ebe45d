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
  int64_t seq_begin, seq_len, head, query_begin, query_end;
};

}  // namespace

void causal_attention(const float* q, const float* k, const float* v, float* out,
                      const std::vector<int64_t>& offsets, const AttentionShape& shape) {
  const int64_t hd = shape.head_dim;
  const int64_t q_stride = shape.num_heads * hd, kv_stride = shape.num_kv_heads * hd;
  const int64_t group = shape.num_heads / shape.num_kv_heads;
  std::vector<WorkItem> items;
  int64_t max_len = 0;
  for (size_t s = 0; s + 1 < offsets.size(); ++s) {
    const int64_t len = offsets[s + 1] - offsets[s];
    max_len = std::max(max_len, len);
    for (int64_t h = 0; h < shape.num_heads; ++h)
      for (int64_t qb = 0; qb < len; qb += kQueryBlock)
        items.push_back({offsets[s], len, h, qb, std::min(len, qb + kQueryBlock)});
  }
  // Longest rows first balances the threads: later query blocks see more keys.
  std::stable_sort(items.begin(), items.end(), [](const WorkItem& a, const WorkItem& b) { return a.query_end > b.query_end; });

  ThreadPool& pool = global_thread_pool();
  std::vector<std::vector<float>> scores_per_thread(size_t(pool.size()), std::vector<float>(size_t(max_len)));
  pool.parallel_for(items.size(), 1, [&](int thread, size_t begin, size_t end) {
    float* scores = scores_per_thread[size_t(thread)].data();
    for (size_t w = begin; w < end; ++w) {
      const WorkItem& it = items[w];
      const int64_t kv_head = it.head / group;
      for (int64_t i = it.query_begin; i < it.query_end; ++i) {
        const float* qi = q + (it.seq_begin + i) * q_stride + it.head * hd;
        const int64_t first = shape.sliding_window > 0 ? std::max<int64_t>(0, i - shape.sliding_window + 1) : 0;
        float max_score = -INFINITY;
        for (int64_t j = first; j <= i; ++j) {
          float s = dot(qi, k + (it.seq_begin + j) * kv_stride + kv_head * hd, hd) * shape.scale;
          if (shape.softcap > 0) s = shape.softcap * std::tanh(s / shape.softcap);
          scores[j - first] = s;
          max_score = std::max(max_score, s);
        }
        float denom = 0;
        for (int64_t j = first; j <= i; ++j) {
          const float e = std::exp(scores[j - first] - max_score);
          scores[j - first] = e;
          denom += e;
        }
        float* oi = out + (it.seq_begin + i) * q_stride + it.head * hd;
        std::memset(oi, 0, sizeof(float) * size_t(hd));
        const float inv = 1.0f / denom;
        for (int64_t j = first; j <= i; ++j) axpy(scores[j - first] * inv, v + (it.seq_begin + j) * kv_stride + kv_head * hd, oi, hd);
      }
    }
  });
}

}  // namespace arbiter::cpu
