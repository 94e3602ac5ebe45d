#include "runtime/cpu/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "core/thread_pool.h"
#include "runtime/cpu/attention_bf16.h"
#include "runtime/cpu/gemm_bf16.h"  // bf16_gemm_supported
#include "runtime/cpu/simd.h"

namespace arbiter::cpu {

namespace {

using namespace simd;

constexpr int64_t kQueryBlock = 16;
constexpr int64_t kChunk = kLanes;  // keys whose scores one vector holds
constexpr int kValueVecs = kLanes == 8 ? 2 : 4;  // vectors of head dimensions per query in weighted_values
constexpr int kQueryGroup = 4;      // queries sharing each load of a value row
// Queries sharing each load of a key chunk: a score tile holds kScoreQueries x 2 accumulators, 16 of the
// 32 zmm registers with AVX-512 (enough independent chains to cover FMA latency on cores with two full
// 512-bit pipes), 8 of the 16 ymm with AVX2.
constexpr int kScoreQueries = kLanes == 8 ? 4 : 8;

struct WorkItem {
  size_t span;
  int64_t head, query_begin, query_end;
};

// dst: [chunks, hd, kChunk], chunk c holding keys [c * kChunk, c * kChunk + kChunk) transposed (missing
// keys zero), so that one vector load gives one dimension of kChunk keys.
void transpose_keys(const float* k, int64_t kv_stride, int64_t keys, int64_t hd, float* dst) {
  const int64_t chunks = (keys + kChunk - 1) / kChunk;
  for (int64_t c = 0; c < chunks; ++c) {
    float* block = dst + c * hd * kChunk;
    for (int64_t l = 0; l < kChunk; ++l) {
      const int64_t key = c * kChunk + l;
      if (key >= keys) {
        for (int64_t d = 0; d < hd; ++d) block[d * kChunk + l] = 0.0f;
        continue;
      }
      const float* row = k + key * kv_stride;
      for (int64_t d = 0; d < hd; ++d) block[d * kChunk + l] = row[d];
    }
  }
}

// scores[r][c * kChunk + l] = q_r . key (c * kChunk + l) for Q queries (stride q_stride) and C chunks of
// transposed keys kt: one fused chain over the head dimensions in ascending order per score, whatever
// Q and C are, so a score does not depend on which queries or keys share the call.
template <int Q, int C>
void score_tile(const float* q, int64_t q_stride, const float* kt, int64_t hd, float* scores, int64_t ld) {
  Vec acc[Q][C];
#pragma GCC unroll 16
  for (int i = 0; i < Q * C; ++i) acc[i / C][i % C] = zero();
  for (int64_t d = 0; d < hd; ++d) {
    Vec keys[C];
#pragma GCC unroll 2
    for (int c = 0; c < C; ++c) {
      keys[c] = load(kt + (c * hd + d) * kChunk);
      keep_in_register(keys[c]);
    }
#pragma GCC unroll 8
    for (int r = 0; r < Q; ++r) {
      const Vec qv = set1(q[r * q_stride + d]);
#pragma GCC unroll 2
      for (int c = 0; c < C; ++c) acc[r][c] = fma(qv, keys[c], acc[r][c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < Q; ++r)
#pragma GCC unroll 2
    for (int c = 0; c < C; ++c) store(scores + r * ld + c * kChunk, acc[r][c]);
}

// Scores of `queries` queries against `chunks` chunks of transposed keys: scores [queries, ld].
void query_key_scores(const float* q, int64_t q_stride, int64_t queries, const float* kt, int64_t chunks, int64_t hd,
                      float* scores, int64_t ld) {
  int64_t c = 0;
  for (; c + 2 <= chunks; c += 2) {
    const float* k = kt + c * hd * kChunk;
    int64_t i = 0;
    for (; i + kScoreQueries <= queries; i += kScoreQueries)
      score_tile<kScoreQueries, 2>(q + i * q_stride, q_stride, k, hd, scores + i * ld + c * kChunk, ld);
    for (; i + kQueryGroup <= queries; i += kQueryGroup)
      score_tile<kQueryGroup, 2>(q + i * q_stride, q_stride, k, hd, scores + i * ld + c * kChunk, ld);
    for (; i < queries; ++i) score_tile<1, 2>(q + i * q_stride, q_stride, k, hd, scores + i * ld + c * kChunk, ld);
  }
  for (; c < chunks; ++c) {
    const float* k = kt + c * hd * kChunk;
    int64_t i = 0;
    for (; i + kScoreQueries <= queries; i += kScoreQueries)
      score_tile<kScoreQueries, 1>(q + i * q_stride, q_stride, k, hd, scores + i * ld + c * kChunk, ld);
    for (; i + kQueryGroup <= queries; i += kQueryGroup)
      score_tile<kQueryGroup, 1>(q + i * q_stride, q_stride, k, hd, scores + i * ld + c * kChunk, ld);
    for (; i < queries; ++i) score_tile<1, 1>(q + i * q_stride, q_stride, k, hd, scores + i * ld + c * kChunk, ld);
  }
}

// row[0..count): raw scores in, e^(scale * s - max) out (softcapped first when softcap > 0); returns
// their sum. Whole vectors from the row's start, then one partial vector: the arithmetic depends only
// on the row. With scale > 0 the largest raw score gives the largest scaled one, so the scaling rides
// in the exponent's fused multiply-add instead of a pass of its own.
float softmax_numerators(float* row, int64_t count, float scale, float softcap) {
  if (softcap > 0) {
    for (int64_t j = 0; j < count; ++j) row[j] = softcap * std::tanh(row[j] * scale / softcap);
    scale = 1.0f;
  } else if (!(scale > 0)) {  // no model has one, but the max below must be the scaled scores' max
    for (int64_t j = 0; j < count; ++j) row[j] *= scale;
    scale = 1.0f;
  }
  const int64_t whole = count / kLanes * kLanes;
  const int tail = int(count - whole);
  Vec max_v = set1(-INFINITY);
  for (int64_t j = 0; j < whole; j += kLanes) max_v = max(max_v, load(row + j));
  if (tail > 0) max_v = max(max_v, load_first(row + whole, tail, -INFINITY));
  const Vec scale_v = set1(scale), shift = set1(-reduce_max(max_v) * scale);
  Vec sum_v = zero();
  for (int64_t j = 0; j < whole; j += kLanes) {
    const Vec e = exp(fma(load(row + j), scale_v, shift));
    store(row + j, e);
    sum_v = add(sum_v, e);
  }
  if (tail > 0) {
    const Vec e = keep_first(exp(fma(load_first(row + whole, tail, 0.0f), scale_v, shift)), tail);
    store_first(row + whole, tail, e);
    sum_v = add(sum_v, e);
  }
  return reduce_add(sum_v);
}

// out_r[d] = inv_r * sum_j w_r[j] * v_j[d] for Q queries at once over keys j in [lo, hi], j ascending
// in one fused chain per (query, d). A query's weights are zero outside its own keys, and adding those
// zero products leaves its chain's value as it is, so the result equals the query computed alone.
template <int Q>
void weighted_values(const float* const* weights, int64_t lo, int64_t hi, const float* v, int64_t kv_stride,
                     int64_t hd, const float* inv, float* const* out) {
  int64_t d0 = 0;
  constexpr int64_t kWide = kValueVecs * kLanes;
  for (; d0 + kWide <= hd; d0 += kWide) {
    Vec acc[Q][kValueVecs];
#pragma GCC unroll 16
    for (int i = 0; i < Q * kValueVecs; ++i) acc[i / kValueVecs][i % kValueVecs] = zero();
    for (int64_t j = lo; j <= hi; ++j) {
      const float* vj = v + j * kv_stride + d0;
      // Each weight broadcast and each value vector is loaded once into a register and used by several
      // FMAs (left to itself the compiler re-reads them per FMA, which makes the loop load-bound).
      Vec w[Q];
#pragma GCC unroll 4
      for (int r = 0; r < Q; ++r) {
        w[r] = set1(weights[r][j]);
        keep_in_register(w[r]);
      }
#pragma GCC unroll 4
      for (int u = 0; u < kValueVecs; ++u) {
        Vec value = load(vj + u * kLanes);
        keep_in_register(value);
#pragma GCC unroll 4
        for (int r = 0; r < Q; ++r) acc[r][u] = fma(w[r], value, acc[r][u]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < Q; ++r)
#pragma GCC unroll 4
      for (int u = 0; u < kValueVecs; ++u) store(out[r] + d0 + u * kLanes, mul(acc[r][u], set1(inv[r])));
  }
  for (; d0 + kLanes <= hd; d0 += kLanes) {
    for (int r = 0; r < Q; ++r) {
      Vec acc = zero();
      for (int64_t j = lo; j <= hi; ++j) acc = fma(set1(weights[r][j]), load(v + j * kv_stride + d0), acc);
      store(out[r] + d0, mul(acc, set1(inv[r])));
    }
  }
  for (; d0 < hd; ++d0) {
    for (int r = 0; r < Q; ++r) {
      float acc = 0.0f;
      for (int64_t j = lo; j <= hi; ++j) acc = std::fma(weights[r][j], v[j * kv_stride + d0], acc);
      out[r][d0] = acc * inv[r];
    }
  }
}

}  // namespace

void causal_attention(const float* q, float* out, const std::vector<AttentionSpan>& spans, const AttentionShape& shape) {
  const int64_t hd = shape.head_dim;
  const int64_t q_stride = shape.num_heads * hd, kv_stride = shape.num_kv_heads * hd;
  const int64_t group = shape.num_heads / shape.num_kv_heads;
  // Key pairs start at even keys: a chunk of one key (a build without vectors) cannot hold that.
  const bool bf16 = shape.bf16_values && kChunk % 2 == 0 && bf16_gemm_supported();
  // Keys transposed (and, in bf16, values paired) once per (span, kv head) and shared by the heads of
  // its group: keys of kv head h of span s at key_offset[s] + h * key_size(s), values alike.
  auto key_size = [&](int64_t keys) { return size_t((keys + kChunk - 1) / kChunk * hd * kChunk); };
  auto value_size = [&](int64_t keys) { return size_t(bf16 ? packed_values_bf16_size(keys, hd) : 0); };
  std::vector<WorkItem> items;
  int64_t max_keys = 0;
  std::vector<size_t> key_offset(spans.size() + 1, 0), value_offset(spans.size() + 1, 0);
  for (size_t s = 0; s < spans.size(); ++s) {
    const AttentionSpan& span = spans[s];
    const int64_t keys = span.past + span.num_queries;
    max_keys = std::max(max_keys, keys);
    key_offset[s + 1] = key_offset[s] + key_size(keys) * size_t(shape.num_kv_heads);
    value_offset[s + 1] = value_offset[s] + value_size(keys) * size_t(shape.num_kv_heads);
    for (int64_t h = 0; h < shape.num_heads; ++h)
      for (int64_t qb = 0; qb < span.num_queries; qb += kQueryBlock)
        items.push_back({s, h, qb, std::min(span.num_queries, qb + kQueryBlock)});
  }
  ThreadPool& pool = global_thread_pool();
  std::vector<float> packed_keys(key_offset.back());
  std::vector<uint32_t> packed_values(value_offset.back());
  auto keys_of = [&](size_t s, int64_t kv_head) {
    return packed_keys.data() + key_offset[s] + size_t(kv_head) * key_size(spans[s].past + spans[s].num_queries);
  };
  auto values_of = [&](size_t s, int64_t kv_head) {
    return packed_values.data() + value_offset[s] + size_t(kv_head) * value_size(spans[s].past + spans[s].num_queries);
  };
  pool.parallel_for(spans.size() * size_t(shape.num_kv_heads), 1, [&](int, size_t begin, size_t end) {
    for (size_t w = begin; w < end; ++w) {
      const size_t s = w / size_t(shape.num_kv_heads);
      const int64_t kv_head = int64_t(w % size_t(shape.num_kv_heads));
      const int64_t keys = spans[s].past + spans[s].num_queries;
      transpose_keys(spans[s].k + kv_head * hd, kv_stride, keys, hd, keys_of(s, kv_head));
      if (bf16) pack_values_bf16(spans[s].v + kv_head * hd, kv_stride, keys, hd, values_of(s, kv_head));
    }
  });
  // Longest rows first, handed out one at a time as threads become free (later positions see more keys,
  // so equal shares of items would be far from equal work). Which thread takes an item does not change
  // its arithmetic.
  std::stable_sort(items.begin(), items.end(), [&](const WorkItem& a, const WorkItem& b) {
    return spans[a.span].past + a.query_end > spans[b.span].past + b.query_end;
  });

  // Per thread: scores [kQueryBlock, ld], ld covering every key chunk of the longest span.
  const int64_t ld = (max_keys + kChunk - 1) / kChunk * kChunk;
  std::vector<std::vector<float>> scratch_per_thread(size_t(pool.size()), std::vector<float>(size_t(kQueryBlock * ld)));
  std::atomic<size_t> next_item{0};
  pool.run_on_all([&](int thread) {
    float* scores = scratch_per_thread[size_t(thread)].data();
    for (size_t w = next_item.fetch_add(1); w < items.size(); w = next_item.fetch_add(1)) {
      const WorkItem& it = items[w];
      const AttentionSpan& span = spans[it.span];
      const int64_t kv_head = it.head / group;
      // The keys any query of the block sees lie in chunks [chunk_lo, chunk_hi]; scores[i][j - base].
      const int64_t p_lo = span.past + it.query_begin, p_hi = span.past + it.query_end - 1;
      const int64_t key_lo = shape.sliding_window > 0 ? std::max<int64_t>(0, p_lo - shape.sliding_window + 1) : 0;
      const int64_t chunk_lo = key_lo / kChunk, chunk_hi = p_hi / kChunk;
      const int64_t base = chunk_lo * kChunk;
      const int64_t queries = it.query_end - it.query_begin;
      const float* q_block = q + (span.query_row + it.query_begin) * q_stride + it.head * hd;
      query_key_scores(q_block, q_stride, queries, keys_of(it.span, kv_head) + chunk_lo * hd * kChunk,
                       chunk_hi - chunk_lo + 1, hd, scores, ld);
      // Softmax numerators in place; every other column of a row zero (see weighted_values).
      const int64_t columns = p_hi - base + 1;
      float inv[kQueryBlock];
      int64_t first_column[kQueryBlock], last_column[kQueryBlock];
      for (int64_t i = 0; i < queries; ++i) {
        const int64_t p = p_lo + i;  // this query's position
        const int64_t first = shape.sliding_window > 0 ? std::max<int64_t>(0, p - shape.sliding_window + 1) : 0;
        float* row = scores + i * ld;
        first_column[i] = first - base;
        last_column[i] = p - base;
        inv[i] = 1.0f / softmax_numerators(row + first_column[i], p - first + 1, shape.scale, shape.softcap);
        std::fill(row, row + first_column[i], 0.0f);
        std::fill(row + last_column[i] + 1, row + columns, 0.0f);
      }
      float* outs[kQueryBlock];
      const float* weights[kQueryBlock];
      for (int64_t i = 0; i < queries; ++i) {
        outs[i] = out + (span.query_row + it.query_begin + i) * q_stride + it.head * hd;
        weights[i] = scores + i * ld;
      }
      if (bf16) {  // base, a multiple of kChunk, is even: column 0 starts key pair base / 2
        weighted_values_bf16(weights, first_column, last_column, queries, values_of(it.span, kv_head) + base / 2 * hd,
                             hd, inv, outs);
        continue;
      }
      const float* v_base = span.v + kv_head * hd + base * kv_stride;
      int64_t i = 0;
      for (; i + kQueryGroup <= queries; i += kQueryGroup)
        weighted_values<kQueryGroup>(weights + i, first_column[i], last_column[i + kQueryGroup - 1], v_base, kv_stride,
                                     hd, inv + i, outs + i);
      for (; i < queries; ++i)
        weighted_values<1>(weights + i, first_column[i], last_column[i], v_base, kv_stride, hd, inv + i, outs + i);
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
