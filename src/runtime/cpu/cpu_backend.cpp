// The CPU forward pass: every sequence of the batch packed into one [N, d] residual stream, each layer
// applied to all N rows at once (GEMMs see the whole batch), attention per sequence.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/thread_pool.h"
#include "runtime/backend.h"
#include "runtime/greedy.h"
#include "runtime/packed_batch.h"
#include "runtime/score_head.h"
#include "runtime/shared_prefix.h"
#include "runtime/cpu/attention.h"
#include "runtime/cpu/kv_cache.h"
#include "runtime/cpu/matmul.h"
#include "runtime/cpu/ops.h"
#include "runtime/cpu/prefix_store.h"
#include "runtime/cpu/vec.h"

namespace arbiter {

namespace {

using cpu::AttentionShape;

using cpu::KvCache;
using cpu::make_cache;
using cpu::PrefixStore;

// What one sequence of a batch attends to before its own rows (the batch's `past` positions of them).
struct PastKv {
  KvCache* cache = nullptr;         // rows [0, past) there, and this pass's rows appended after them
  const KvCache* prefix = nullptr;  // or rows [0, past) there, read only: this pass's rows are not kept
};

// A decoding step (one new token per sequence, after cached ones) reads every weight for a few rows: the
// row path. Prefills take the GEMM.
MatmulPath matmul_path(const PackedBatch& b) {
  for (size_t s = 0; s < b.past.size(); ++s)
    if (b.past[s] == 0 || b.offsets[s + 1] - b.offsets[s] != 1) return MatmulPath::kGemm;
  return MatmulPath::kRows;
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(std::shared_ptr<const Model> model)
      : model_(std::move(model)), store_(model_->config.num_layers, model_->config.kv_dim()) {}
  std::string name() const override { return "cpu"; }
  const Model& model() const override { return *model_; }

  Result<std::vector<SequenceOutput>> forward(const std::vector<SequenceInput>& sequences,
                                              const ForwardOptions& options) override;
  Result<std::vector<Generation>> generate(const std::vector<SequenceInput>& prompts,
                                           const GenerateOptions& options) override;
  bool shares_prefixes() const override { return prefix_sharing(); }
  int64_t tokens_computed() const override { return tokens_computed_; }
  size_t kept_prefix_bytes() const override { return store_.bytes(); }
  int64_t kept_prefix_tokens(const SequenceInput& sequence) const override {
    // The next forward drops the kept rows when sharing is off or the arithmetic changed (prepare_store).
    if (!prefix_sharing() || matmul_precision() != store_precision_) return 0;
    return store_.longest_kept(sequence.tokens, shareable_prefix(sequence));
  }

 private:
  // The model over a packed batch; with `past` ([S], one per sequence of the batch) attention also sees
  // each sequence's earlier positions, and the new keys and values are appended where it says so.
  Result<std::vector<SequenceOutput>> run(const PackedBatch& b, const ForwardOptions& options,
                                          const std::vector<PastKv>* past, MatmulPath path);
  // The shared prefixes of `sequences` once each (plan_shared_prefixes), then every sequence after its own
  // or after what the store holds of it, whichever is longer; what was computed is then kept in the store.
  Result<std::vector<SequenceOutput>> run_sharing_prefixes(const std::vector<SequenceInput>& sequences,
                                                           const SharedPrefixPlan& plan, const ForwardOptions& options);
  // The keys and values of every node of `plan`, computed level by level, each after its parent's rows
  // or the store's, whichever reach further.
  Result<std::vector<KvCache>> run_prefix_nodes(const std::vector<SequenceInput>& sequences, const SharedPrefixPlan& plan);
  // Where a planned sequence starts and whose keys and values precede it: its node's, or the store's
  // where they reach further (nothing before it at 0).
  struct Start {
    const KvCache* before = nullptr;
    int64_t position = 0;
  };
  Start start_of(const SequenceInput& sequence, size_t s, const SharedPrefixPlan& plan,
                 const std::vector<KvCache>& node_kv);
  // Empties the store where its rows are not what a pass would compute now (another arithmetic) or
  // sharing is off, and sets its budget.
  void prepare_store();
  // Offers the store each node's rows, then the kept sequences' (kept[s] empty: not kept).
  void keep_in_store(const std::vector<SequenceInput>& sequences, const SharedPrefixPlan& plan,
                     std::vector<KvCache>& node_kv, std::vector<KvCache>& kept);
  Status run_layer(const LayerWeights& w, int64_t layer, const PackedBatch& b, const std::vector<float>& rope,
                   const std::vector<PastKv>* past, MatmulPath path, std::vector<float>& x);
  Status compute_layer_logits(const ForwardOptions& options, std::vector<SequenceOutput>& outputs) const;
  void capture(const std::vector<float>& x, const PackedBatch& b, size_t capture_index, size_t num_captures,
               std::vector<SequenceOutput>& outputs) const;

  std::shared_ptr<const Model> model_;
  PrefixStore store_;            // keys and values of earlier passes (prefix_cache_bytes())
  MatmulPrecision store_precision_ = matmul_precision();  // the arithmetic they were computed in
  int64_t tokens_computed_ = 0;  // tokens every prefill so far has run through the layers
  // Scratch reused across layers and calls.
  std::vector<float> normed_, q_, k_, v_, attn_, proj_, gate_, up_;
};

void CpuBackend::capture(const std::vector<float>& x, const PackedBatch& b, size_t capture_index, size_t num_captures,
                         std::vector<SequenceOutput>& outputs) const {
  const int64_t d = model_->config.hidden_size;
  for (size_t s = 0; s < outputs.size(); ++s) {
    SequenceOutput& out = outputs[s];
    const int64_t reads = out.num_reads;
    if (out.layer_states.empty()) out.layer_states.assign(num_captures * size_t(reads * d), 0.0f);
    for (int64_t r = 0; r < reads; ++r) {
      const int64_t row = b.read_rows[size_t(b.read_offsets[s] + r)];
      std::memcpy(out.layer_states.data() + (int64_t(capture_index) * reads + r) * d, x.data() + row * d,
                  sizeof(float) * size_t(d));
    }
  }
}

Status CpuBackend::run_layer(const LayerWeights& w, int64_t layer, const PackedBatch& b, const std::vector<float>& rope,
                             const std::vector<PastKv>* past, MatmulPath path, std::vector<float>& x) {
  const ModelConfig& c = model_->config;
  const int64_t n = int64_t(b.tokens.size()), d = c.hidden_size, ffn = c.intermediate_size;
  const int64_t q_dim = c.q_dim(), kv_dim = c.kv_dim();
  const float eps = float(c.rms_norm_eps);

  // Attention block. normed_: [N, d]; q_: [N, q_dim]; k_, v_: [N, kv_dim]
  cpu::rms_norm_rows(x.data(), w.attn_norm.data(), normed_.data(), n, d, eps);
  ARB_TRY(matmul_shared({{&w.wq, q_.data(), q_dim}, {&w.wk, k_.data(), kv_dim}, {&w.wv, v_.data(), kv_dim}},
                        normed_.data(), n, d, path));
  if (c.qkv_bias) {
    for (int64_t r = 0; r < n; ++r) {
      cpu::add(w.bq.data(), q_.data() + r * q_dim, q_dim);
      cpu::add(w.bk.data(), k_.data() + r * kv_dim, kv_dim);
      cpu::add(w.bv.data(), v_.data() + r * kv_dim, kv_dim);
    }
  }
  if (c.qk_norm) {
    cpu::rms_norm_heads(q_.data(), w.q_norm.data(), n, c.num_heads, c.head_dim, eps);
    cpu::rms_norm_heads(k_.data(), w.k_norm.data(), n, c.num_kv_heads, c.head_dim, eps);
  }
  cpu::apply_rope(q_.data(), b.positions.data(), n, c.num_heads, c.head_dim, c.rope_dim, c.rope_pairing, rope);
  cpu::apply_rope(k_.data(), b.positions.data(), n, c.num_kv_heads, c.head_dim, c.rope_dim, c.rope_pairing, rope);

  AttentionShape shape;
  shape.num_heads = c.num_heads;
  shape.num_kv_heads = c.num_kv_heads;
  shape.head_dim = c.head_dim;
  shape.scale = float(c.effective_attention_scale());
  shape.softcap = float(c.attn_logit_softcap);
  shape.sliding_window = c.layer_sliding[size_t(layer)] ? c.sliding_window : 0;
  // Attention's weights x values product takes the arithmetic of the layer's own products.
  shape.bf16_values = effective_matmul_precision(w.wq.dtype) == MatmulPrecision::kBf16;
  if (past == nullptr) {
    cpu::causal_attention(q_.data(), k_.data(), v_.data(), attn_.data(), b.offsets, shape);
  } else {
    // Each sequence attends over its earlier positions and its new rows, laid end to end: in its cache
    // (the new rows appended there), in a copy of a shared prefix followed by the new rows, or, with
    // nothing before them, in the new rows where they are.
    std::vector<cpu::AttentionSpan> spans;
    std::vector<std::vector<float>> joined;  // [2 per prefixed sequence][(past + count) * kv_dim]
    joined.reserve(2 * past->size());
    for (size_t s = 0; s + 1 < b.offsets.size(); ++s) {
      const PastKv& before = (*past)[s];
      const int64_t first = b.offsets[s], count = b.offsets[s + 1] - first, p = b.past[s];
      const float* new_k = k_.data() + first * kv_dim;
      const float* new_v = v_.data() + first * kv_dim;
      const size_t new_floats = size_t(count * kv_dim);
      if (before.cache != nullptr) {
        KvCache& cache = *before.cache;
        std::memcpy(cache.k[size_t(layer)].data() + p * kv_dim, new_k, sizeof(float) * new_floats);
        std::memcpy(cache.v[size_t(layer)].data() + p * kv_dim, new_v, sizeof(float) * new_floats);
        spans.push_back({first, count, p, cache.k[size_t(layer)].data(), cache.v[size_t(layer)].data()});
      } else if (before.prefix != nullptr && p > 0) {
        const float* rows[2][2] = {{before.prefix->k[size_t(layer)].data(), new_k},
                                   {before.prefix->v[size_t(layer)].data(), new_v}};
        for (const auto& [old_rows, fresh] : rows) {
          std::vector<float>& all = joined.emplace_back(size_t((p + count) * kv_dim));
          std::memcpy(all.data(), old_rows, sizeof(float) * size_t(p * kv_dim));
          std::memcpy(all.data() + p * kv_dim, fresh, sizeof(float) * new_floats);
        }
        spans.push_back({first, count, p, joined[joined.size() - 2].data(), joined.back().data()});
      } else {
        spans.push_back({first, count, 0, new_k, new_v});
      }
    }
    cpu::causal_attention(q_.data(), attn_.data(), spans, shape);
  }

  // proj_: [N, d]
  ARB_TRY(matmul(w.wo, attn_.data(), n, q_dim, proj_.data(), d, false, path));
  if (c.post_norms) cpu::rms_norm_rows(proj_.data(), w.post_attn_norm.data(), proj_.data(), n, d, eps);
  cpu::add(proj_.data(), x.data(), n * d);

  // MLP block. gate_, up_: [N, ffn]
  cpu::rms_norm_rows(x.data(), w.ffn_norm.data(), normed_.data(), n, d, eps);
  ARB_TRY(matmul_shared({{&w.w_gate, gate_.data(), ffn}, {&w.w_up, up_.data(), ffn}}, normed_.data(), n, d, path));
  cpu::gated_activation(gate_.data(), up_.data(), n * ffn, c.activation);
  ARB_TRY(matmul(w.w_down, gate_.data(), n, ffn, proj_.data(), d, false, path));
  if (c.post_norms) cpu::rms_norm_rows(proj_.data(), w.post_ffn_norm.data(), proj_.data(), n, d, eps);
  cpu::add(proj_.data(), x.data(), n * d);
  return Status::ok();
}

Status CpuBackend::compute_layer_logits(const ForwardOptions& options, std::vector<SequenceOutput>& outputs) const {
  const Model& m = *model_;
  const int64_t d = m.config.hidden_size, k = int64_t(options.logit_token_ids.size());
  const float eps = float(m.config.rms_norm_eps);
  for (SequenceOutput& out : outputs) {
    const int64_t reads = out.num_reads;
    // states: [C * reads, d], one row per (captured layer, read), normed as the lens says.
    std::vector<float> states = out.layer_states;
    for (size_t i = 0; i < options.capture_layers.size(); ++i) {
      const bool last = options.capture_layers[i] == m.config.num_layers;
      if (options.lens == Lens::kNormed || last) {
        float* rows = states.data() + int64_t(i) * reads * d;
        cpu::rms_norm_rows(rows, m.final_norm.data(), rows, reads, d, eps);
      }
    }
    const int64_t total_rows = int64_t(options.capture_layers.size()) * reads;
    out.layer_logits.assign(size_t(total_rows * k), 0.0f);
    if (total_rows > 0)
      ARB_TRY(matmul_rows(m.lm_head, options.logit_token_ids, states.data(), total_rows, d, out.layer_logits.data(), k));
  }
  return Status::ok();
}

Result<std::vector<SequenceOutput>> CpuBackend::forward(const std::vector<SequenceInput>& sequences,
                                                        const ForwardOptions& options) {
  ARB_ASSIGN(PackedBatch b, pack_batch(sequences, model_->config));
  ARB_TRY(check_forward_options(options, model_->config));
  prepare_store();
  if (!prefix_sharing()) return run(b, options, nullptr, MatmulPath::kGemm);
  const SharedPrefixPlan plan = plan_shared_prefixes(sequences);
  if (plan.nodes.empty() && store_.budget_rows() == 0) return run(b, options, nullptr, MatmulPath::kGemm);
  return run_sharing_prefixes(sequences, plan, options);
}

Result<std::vector<KvCache>> CpuBackend::run_prefix_nodes(const std::vector<SequenceInput>& sequences,
                                                           const SharedPrefixPlan& plan) {
  const ModelConfig& c = model_->config;
  const int64_t kv_dim = c.kv_dim();
  // The nodes level by level, each computing its tokens after a copy of its parent's keys and values.
  std::vector<KvCache> node_kv(plan.nodes.size());
  for (int level = 0; level < plan.levels; ++level) {
    std::vector<SequenceSegment> segments;
    std::vector<PastKv> past;
    for (size_t i = 0; i < plan.nodes.size(); ++i) {
      const SharedPrefixNode& node = plan.nodes[i];
      if (node.level != level) continue;
      node_kv[i] = make_cache(c, node.end);
      node_kv[i].length = node.end;
      int64_t from = node.begin;
      const PrefixStore::Match stored = store_.find(sequences[node.source].tokens, node.end);
      if (stored.length > node.begin) {
        cpu::copy_rows(*stored.kv, stored.length, kv_dim, node_kv[i]);
        from = stored.length;
      } else if (node.parent >= 0) {
        cpu::copy_rows(node_kv[size_t(node.parent)], node.begin, kv_dim, node_kv[i]);
      }
      if (from == node.end) continue;  // the store holds all of it
      segments.push_back({&sequences[node.source], from, node.end, false});
      past.push_back({&node_kv[i], nullptr});
    }
    if (!segments.empty()) ARB_TRY(run(pack_segments(segments), ForwardOptions{}, &past, MatmulPath::kGemm).status());
  }
  return node_kv;
}

// Every pass takes the GEMM (never the decoding steps' row path) and attention sums a query's keys in
// the same order wherever they come from, so each sequence gets the bytes of a forward pass of its own.
Result<std::vector<SequenceOutput>> CpuBackend::run_sharing_prefixes(const std::vector<SequenceInput>& sequences,
                                                                     const SharedPrefixPlan& plan,
                                                                     const ForwardOptions& options) {
  const int64_t kv_dim = model_->config.kv_dim();
  ARB_ASSIGN(std::vector<KvCache> node_kv, run_prefix_nodes(sequences, plan));
  // Then every sequence after its node or the store's rows, read as asked. Sequences the store's budget
  // holds write their rows into a cache of their own, to be kept; the others leave theirs in the pass.
  std::vector<SequenceSegment> segments;
  std::vector<PastKv> past;
  std::vector<KvCache> kept(sequences.size());
  std::vector<Start> starts;
  int64_t wanted = 0;
  for (size_t s = 0; s < sequences.size(); ++s) {
    starts.push_back(start_of(sequences[s], s, plan, node_kv));
    wanted += int64_t(sequences[s].tokens.size());
  }
  int64_t room = store_.make_room(wanted);
  for (size_t s = 0; s < sequences.size(); ++s) {
    const int64_t length = int64_t(sequences[s].tokens.size());
    const Start& start = starts[s];
    segments.push_back({&sequences[s], start.position, length, true});
    if (length <= room) {
      room -= length;
      kept[s] = make_cache(model_->config, length);
      if (start.before != nullptr) cpu::copy_rows(*start.before, start.position, kv_dim, kept[s]);
      past.push_back({&kept[s], nullptr});
    } else {
      past.push_back({nullptr, start.before});
    }
  }
  ARB_ASSIGN(auto outputs, run(pack_segments(segments), options, &past, MatmulPath::kGemm));
  keep_in_store(sequences, plan, node_kv, kept);
  return outputs;
}

CpuBackend::Start CpuBackend::start_of(const SequenceInput& sequence, size_t s, const SharedPrefixPlan& plan,
                                       const std::vector<KvCache>& node_kv) {
  Start start{plan.node_of[s] >= 0 ? &node_kv[size_t(plan.node_of[s])] : nullptr, plan.start[s]};
  const PrefixStore::Match stored = store_.find(sequence.tokens, shareable_prefix(sequence));
  if (stored.length > start.position) start = {stored.kv, stored.length};
  return start;
}

void CpuBackend::prepare_store() {
  if (!prefix_sharing() || matmul_precision() != store_precision_) store_.set_budget(0);
  store_precision_ = matmul_precision();
  if (prefix_sharing()) store_.set_budget(prefix_cache_bytes());
  store_.begin_pass();
}

void CpuBackend::keep_in_store(const std::vector<SequenceInput>& sequences, const SharedPrefixPlan& plan,
                               std::vector<KvCache>& node_kv, std::vector<KvCache>& kept) {
  // Nodes first: a kept sequence that continues one takes its place.
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    const SharedPrefixNode& node = plan.nodes[i];
    const std::vector<int32_t>& tokens = sequences[node.source].tokens;
    store_.keep(std::vector<int32_t>(tokens.begin(), tokens.begin() + node.end), std::move(node_kv[i]));
  }
  for (size_t s = 0; s < sequences.size(); ++s)
    if (!kept[s].k.empty()) store_.keep(sequences[s].tokens, std::move(kept[s]));
}

Result<std::vector<SequenceOutput>> CpuBackend::run(const PackedBatch& b, const ForwardOptions& options,
                                                    const std::vector<PastKv>* past, MatmulPath path) {
  const Model& m = *model_;
  const ModelConfig& c = m.config;
  const size_t num_sequences = b.offsets.size() - 1;
  const int64_t n = int64_t(b.tokens.size()), d = c.hidden_size;
  std::vector<SequenceOutput> outputs(num_sequences);
  for (size_t s = 0; s < num_sequences; ++s) outputs[s].num_reads = b.read_offsets[s + 1] - b.read_offsets[s];
  if (n == 0) return outputs;  // no sequences: nothing to run (and no largest position to size RoPE by)
  if (path == MatmulPath::kGemm) tokens_computed_ += n;  // decoding steps are not prefill

  // x: [N, d] the residual stream
  std::vector<float> x(size_t(n * d));
  ARB_ASSIGN(const size_t embd_row_bytes, row_bytes(m.token_embedding.dtype, d));
  for (int64_t r = 0; r < n; ++r) {
    const auto* row = static_cast<const uint8_t*>(m.token_embedding.data) + size_t(b.tokens[size_t(r)]) * embd_row_bytes;
    dequantize_row(m.token_embedding.dtype, row, x.data() + r * d, d);
  }
  if (c.embedding_scale != 1.0) cpu::scale(x.data(), float(c.embedding_scale), n * d);

  normed_.resize(size_t(n * d));
  q_.resize(size_t(n * c.q_dim()));
  attn_.resize(size_t(n * c.q_dim()));
  k_.resize(size_t(n * c.kv_dim()));
  v_.resize(size_t(n * c.kv_dim()));
  proj_.resize(size_t(n * d));
  gate_.resize(size_t(n * c.intermediate_size));
  up_.resize(size_t(n * c.intermediate_size));
  const int32_t max_position = *std::max_element(b.positions.begin(), b.positions.end());
  const std::vector<float> rope = cpu::rope_table(m.rope_inv_freq, max_position);

  auto capture_if_asked = [&](int32_t layer) {
    for (size_t i = 0; i < options.capture_layers.size(); ++i)
      if (options.capture_layers[i] == layer) capture(x, b, i, options.capture_layers.size(), outputs);
  };
  capture_if_asked(0);
  for (int64_t l = 0; l < c.num_layers; ++l) {
    ARB_TRY(run_layer(m.layers[size_t(l)], l, b, rope, past, path, x));
    capture_if_asked(int32_t(l + 1));
  }

  // Only the read rows go through the final norm and the heads. final_rows: [R, d]
  const int64_t reads = int64_t(b.read_rows.size());
  std::vector<float> final_rows(size_t(reads * d));
  for (int64_t r = 0; r < reads; ++r)
    std::memcpy(final_rows.data() + r * d, x.data() + b.read_rows[size_t(r)] * d, sizeof(float) * size_t(d));
  cpu::rms_norm_rows(final_rows.data(), m.final_norm.data(), final_rows.data(), reads, d, float(c.rms_norm_eps));

  std::vector<float> logits;  // [R, vocab or K]
  int64_t logit_cols = 0;
  if (options.logits == LogitsMode::kFull) {
    logit_cols = c.vocab_size;
    logits.resize(size_t(reads * logit_cols));
    ARB_TRY(matmul(m.lm_head, final_rows.data(), reads, d, logits.data(), logit_cols, false, path));
  } else if (options.logits == LogitsMode::kSelected) {
    logit_cols = int64_t(options.logit_token_ids.size());
    logits.resize(size_t(reads * logit_cols));
    ARB_TRY(matmul_rows(m.lm_head, options.logit_token_ids, final_rows.data(), reads, d, logits.data(), logit_cols));
  }
  if (c.final_logit_softcap > 0) cpu::softcap(logits.data(), int64_t(logits.size()), float(c.final_logit_softcap));

  if (options.layer_logits) ARB_TRY(compute_layer_logits(options, outputs));

  std::vector<float> scores;  // [R, num_labels]
  if (options.score_head) {
    scores.resize(size_t(reads * c.num_labels));
    ARB_TRY(apply_score_head(m, final_rows.data(), reads, scores.data()));
  }

  for (size_t s = 0; s < outputs.size(); ++s) {
    SequenceOutput& out = outputs[s];
    const int64_t first = b.read_offsets[s], count = out.num_reads;
    if (options.final_norm)
      out.final_norm.assign(final_rows.begin() + first * d, final_rows.begin() + (first + count) * d);
    if (!logits.empty())
      out.logits.assign(logits.begin() + first * logit_cols, logits.begin() + (first + count) * logit_cols);
    if (options.score_head)
      out.scores.assign(scores.begin() + first * c.num_labels, scores.begin() + (first + count) * c.num_labels);
  }
  return outputs;
}

Result<std::vector<Generation>> CpuBackend::generate(const std::vector<SequenceInput>& prompts,
                                                     const GenerateOptions& options) {
  const ModelConfig& c = model_->config;
  ARB_TRY(check_forward_options(options.read, c));
  // Each prompt's cache holds its prompt and everything it may write.
  std::vector<KvCache> caches(prompts.size());
  for (size_t s = 0; s < prompts.size(); ++s) {
    int64_t capacity = int64_t(prompts[s].tokens.size()) + options.max_new_tokens;
    if (c.max_position_embeddings > 0) capacity = std::min(capacity, c.max_position_embeddings);
    caches[s] = make_cache(c, capacity);
  }
  auto step = [&](const std::vector<size_t>& active, const std::vector<std::vector<int32_t>>& texts,
                  const ForwardOptions& step_options) -> Result<std::vector<SequenceOutput>> {
    std::vector<PastKv> batch_caches;
    for (size_t s : active) batch_caches.push_back({&caches[s], nullptr});
    PackedBatch b;
    MatmulPath path = MatmulPath::kGemm;
    const bool prefill = caches[active.front()].length == 0;
    std::vector<SequenceInput> inputs;
    SharedPrefixPlan plan;
    std::vector<KvCache> node_kv;
    if (prefill) {
      // The first step is the prompts' prefill, read at their last positions; the prefixes they share
      // are computed once, or taken from the store, and copied into each prompt's cache, which then
      // continues after them.
      for (size_t s : active) inputs.push_back(SequenceInput{texts[s], {}});
      ARB_ASSIGN(b, pack_batch(inputs, c));
      prepare_store();
      if (prefix_sharing()) {
        plan = plan_shared_prefixes(inputs);
        ARB_ASSIGN(node_kv, run_prefix_nodes(inputs, plan));
        std::vector<SequenceSegment> segments;
        for (size_t i = 0; i < active.size(); ++i) {
          const Start start = start_of(inputs[i], i, plan, node_kv);
          if (start.before != nullptr) cpu::copy_rows(*start.before, start.position, c.kv_dim(), caches[active[i]]);
          segments.push_back({&inputs[i], start.position, int64_t(inputs[i].tokens.size()), true});
        }
        b = pack_segments(segments);
      }
    } else {
      std::vector<int32_t> newest;
      std::vector<int64_t> past;
      for (size_t s : active) {
        newest.push_back(texts[s].back());
        past.push_back(caches[s].length);
      }
      b = pack_decode_step(newest, past);
      path = matmul_path(b);
    }
    ARB_ASSIGN(auto outputs, run(b, step_options, &batch_caches, path));
    // A cache now holds its sequence up to the end of this step (a shared prefix included).
    for (size_t i = 0; i < active.size(); ++i) caches[active[i]].length = b.past[i] + b.offsets[i + 1] - b.offsets[i];
    if (prefill && prefix_sharing()) {
      // The prompts' rows are the store's to keep (those of the tokens written later are not: decoding
      // steps take another arithmetic path, so their rows are not the bytes a prefill would give).
      std::vector<KvCache> kept(inputs.size());
      int64_t wanted = 0;
      for (const SequenceInput& input : inputs) wanted += int64_t(input.tokens.size());
      int64_t room = store_.make_room(wanted);
      for (size_t i = 0; i < inputs.size(); ++i) {
        const int64_t length = int64_t(inputs[i].tokens.size());
        if (length > room) continue;
        room -= length;
        kept[i] = make_cache(c, length);
        cpu::copy_rows(caches[active[i]], length, c.kv_dim(), kept[i]);
      }
      keep_in_store(inputs, plan, node_kv, kept);
    }
    return outputs;
  };
  return run_greedy(*model_, prompts, options, step);
}

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(std::shared_ptr<const Model> model) {
  return std::make_unique<CpuBackend>(std::move(model));
}

}  // namespace arbiter
