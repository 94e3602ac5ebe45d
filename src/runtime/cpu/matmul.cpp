#include "runtime/cpu/matmul.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <string>

#include "core/thread_pool.h"
#include "runtime/cpu/gemm_bf16.h"
#include "runtime/cpu/gemm_kernel.h"
#include "runtime/cpu/gemm_pack.h"
#include "runtime/cpu/gemm_vector.h"

namespace arbiter {
namespace {

// F32 weights use this GEMM too, not OpenBLAS sgemm. Measured one thread, n = 512, Zen 3 with other
// work on the machine (thread CPU time): ours 79-85 GFLOP/s, OpenBLAS 88-90 (quiet machine: 89-90 vs 93).
// The 5-7% is not worth a second thread pool fighting ours for the cores, results that change with the
// thread count, and a separate path for the one type models rarely store.
//
// Cache blocking (Zen 3: 32 KiB L1d, 512 KiB L2 per core; Zen 4: 1 MiB L2). A kc x NR weight
// micro-panel (32 KiB f32, 16 KiB bf16) stays in L1 while the tile loop streams mc tokens' kc-deep
// panel slices (L2) past it; the kc x nc weight block is decoded once per call and reused by every
// token block, and the tokens are packed once per call for every weight block. KC is a multiple of
// every block size (32, 256), so a block boundary never splits a quantization block.
constexpr int64_t kKC = 256;
constexpr int64_t kMC = 96;   // multiple of MR
constexpr int64_t kNC = 512;  // multiple of NR

// The row-dot path (each weight row dotted with the tokens directly) is faster for up to 5 tokens
// (measured on [4864, 896] F32 / BF16 / Q8_0 / Q4_K, one thread: at n = 5 it takes 1.1-1.6 ms, the
// blocked GEMM 1.7-1.8 ms), but it sums in another order than the GEMM, which would make a sequence's
// results depend on what else shares its batch (a resumed run would then differ in the last bits).
// Batch invariance wins: prefills always take the GEMM; decoding steps ask for the row path
// (MatmulPath::kRows), which is batch invariant by itself.

// A 64-byte aligned buffer that keeps its memory between calls. Not zero-filled: every byte read is
// written first.
class AlignedScratch {
 public:
  template <class T>
  T* get(size_t count) {
    const size_t need = count * sizeof(T) + 64;
    if (need > capacity_) {
      storage_ = std::make_unique_for_overwrite<std::byte[]>(need);
      capacity_ = need;
    }
    const size_t misalign = reinterpret_cast<uintptr_t>(storage_.get()) % 64;
    return reinterpret_cast<T*>(storage_.get() + (misalign ? 64 - misalign : 0));
  }

  // Frees the memory when it holds more than `limit` bytes.
  void trim(size_t limit) {
    if (capacity_ <= limit) return;
    storage_.reset();
    capacity_ = 0;
  }

 private:
  std::unique_ptr<std::byte[]> storage_;
  size_t capacity_ = 0;
};

// Per-thread packing buffers, kept between calls so that a forward pass does not allocate per layer:
// one packed weight block, then the decoding scratch, each starting on a cache line.
struct GemmBuffers {
  AlignedScratch storage;
  void* weights = nullptr;
  float* scratch = nullptr;

  void reserve(size_t weight_bytes, size_t scratch_floats) {
    const size_t weight_lines = (weight_bytes + 63) / 64 * 64;
    std::byte* base = storage.get<std::byte>(weight_lines + scratch_floats * sizeof(float));
    weights = base;
    scratch = reinterpret_cast<float*>(base + weight_lines);
  }
};

GemmBuffers& thread_buffers() {
  static thread_local GemmBuffers buffers;
  return buffers;
}

// The tokens of one matmul call packed once, whole depth, as MR-token micro-panels:
//   panels: [ceil(n / MR), depth, MR]  (depth: elements per token, or bf16 pairs per token)
// The tile of tokens [t, t + MR) over elements [k0, k0 + kc) is then one contiguous slice, shared by
// every weight block and every thread (each block used to repack its tokens: 2% of a prefill).
template <class Elem>
struct TokenPanels {
  const Elem* panels = nullptr;
  int64_t depth = 0;
  int mr = 0;
  const Elem* tile(int64_t t, int64_t offset) const { return panels + (t / mr) * depth * mr + offset * mr; }
};

// The panels live on the calling thread until its next call: a forward pass packs into the same memory
// layer after layer.
AlignedScratch& call_token_buffer() {
  static thread_local AlignedScratch buffer;
  return buffer;
}

// The two kernels the blocked GEMM runs, described alike: tile size, packed element types, how many
// packed elements one token or one output feature takes in a kc-deep panel, the packing and the tile.
struct F32Kernel {
  static constexpr int kMR = kGemmMR, kNR = kGemmNR;
  using TokenElem = float;
  using WeightElem = float;
  using Tokens = TokenPanels<float>;
  static Tokens prepare_tokens(const float* x, int64_t n, int64_t ldx, int64_t in) {
    const int64_t tiles = (n + kMR - 1) / kMR;
    float* panels = call_token_buffer().get<float>(size_t(tiles * in * kMR));
    global_thread_pool().parallel_for(size_t(tiles), 1, [&](int, size_t begin, size_t end) {
      for (int64_t t = int64_t(begin); t < int64_t(end); ++t) {
        pack_token_block(x + t * kMR * ldx, ldx, std::min<int64_t>(kMR, n - t * kMR), in, panels + t * in * kMR);
      }
    });
    return {panels, in, kMR};
  }
  static int64_t token_offset(int64_t k0) { return k0; }
  static int64_t weight_stride(int64_t kc) { return kc; }
  static int64_t scratch_floats(int64_t kc) { return kNR * kc; }
  static void pack_weights(const WeightRows& w, int64_t o0, int64_t nc, int64_t k0, int64_t kc, float* dst,
                           float* scratch) {
    pack_weight_block(w, o0, nc, k0, kc, dst, scratch);
  }
  static void tile(int64_t kc, const float* x_panel, const float* w_panel, float* c, int64_t ldc, bool add) {
    gemm_micro_kernel(kc, x_panel, w_panel, c, ldc, add);
  }
};

struct Bf16Kernel {
  static constexpr int kMR = kBf16MR, kNR = kBf16NR;
  using TokenElem = uint32_t;  // a pair of bf16
  using WeightElem = uint16_t;
  using Tokens = TokenPanels<uint32_t>;
  // Each tile of tokens is rounded to bf16 pairs (per thread, in L1) and then transposed into its panel.
  static Tokens prepare_tokens(const float* x, int64_t n, int64_t ldx, int64_t in) {
    const int64_t tiles = (n + kMR - 1) / kMR, pairs = (in + 1) / 2;
    uint32_t* panels = call_token_buffer().get<uint32_t>(size_t(tiles * pairs * kMR));
    global_thread_pool().parallel_for(size_t(tiles), 1, [&](int, size_t begin, size_t end) {
      static thread_local AlignedScratch rounded;
      uint32_t* rows = rounded.get<uint32_t>(size_t(kMR * pairs));
      for (int64_t t = int64_t(begin); t < int64_t(end); ++t) {
        const int64_t live = std::min<int64_t>(kMR, n - t * kMR);
        convert_tokens_bf16(x + t * kMR * ldx, ldx, live, in, rows);
        pack_token_block_bf16(rows, pairs, live, in, panels + t * pairs * kMR);
      }
    });
    return {panels, pairs, kMR};
  }
  static int64_t token_offset(int64_t k0) { return k0 / 2; }  // k0 is even: a multiple of kKC
  static int64_t weight_stride(int64_t kc) { return (kc + 1) / 2 * 2; }
  static int64_t scratch_floats(int64_t kc) { return kc + 2 + kNR * (kc / 2 + 2); }
  static void pack_weights(const WeightRows& w, int64_t o0, int64_t nc, int64_t k0, int64_t kc, uint16_t* dst,
                           float* scratch) {
    pack_weight_block_bf16(w, o0, nc, k0, kc, dst, scratch);
  }
  static void tile(int64_t kc, const uint32_t* x_panel, const uint16_t* w_panel, float* c, int64_t ldc, bool add) {
    gemm_bf16_micro_kernel((kc + 1) / 2, x_panel, w_panel, c, ldc, add);
  }
};

// Brings the stored bytes of the next weight block into the caches a few lines per tile while the
// current block is multiplied, so that packing it does not wait on DRAM for 32 rows at once (the
// hardware prefetchers do not follow that many streams). Measured on Zen 4 (bf16 prefill, 0.5B shape):
// packing 5% -> 2% of the time. Only the T0 hint works there: T1 / T2 left packing as slow as none, and
// a burst of 48 lines per panel stalled on the miss queue, hence a few lines per tile.
class WeightBlockPrefetch {
 public:
  // Rows [o0, o0 + nc) x elements [k0, k0 + kc), spread over `steps` calls of step().
  WeightBlockPrefetch(const WeightRows& w, int64_t o0, int64_t nc, int64_t k0, int64_t kc, int64_t steps)
      : w_(w), o0_(o0), nc_(nc) {
    const size_t begin = size_t(k0 / w.block_elems) * w.block_bytes;
    const size_t end = std::min(w.row_bytes, size_t((k0 + kc + w.block_elems - 1) / w.block_elems) * w.block_bytes);
    offset_ = begin;
    lines_per_row_ = int64_t((end - begin + 63) / 64) + 1;  // + 1: the span need not start on a line
    per_step_ = steps > 0 ? (nc * lines_per_row_ + steps - 1) / steps : 0;
  }

  void step() {
    for (int64_t i = 0; i < per_step_ && row_ < nc_; ++i) {
      const uint8_t* line = w_.row(o0_ + row_) + offset_ + size_t(line_) * 64;
      __builtin_prefetch(line, 0, 3);
      if (++line_ == lines_per_row_) {
        line_ = 0;
        ++row_;
      }
    }
  }

 private:
  const WeightRows& w_;
  int64_t o0_, nc_;
  size_t offset_ = 0;
  int64_t lines_per_row_ = 0, per_step_ = 0;
  int64_t row_ = 0, line_ = 0;
};

// Tokens [t_begin, t_end) x output features [o_begin, o_end) of y, BLIS-style: for each weight block
// (nc features x kc elements, decoded and packed once), every token tile of the call's packed tokens is
// multiplied with it panel by panel. t_begin is a multiple of MR. Each y element sums its kc blocks in
// order, so the result does not depend on how the ranges were split between threads.
template <class Kernel>
void gemm_blocked(const WeightRows& w, const typename Kernel::Tokens& x, float* y, int64_t ldy, bool accumulate,
                  int64_t t_begin, int64_t t_end, int64_t o_begin, int64_t o_end) {
  constexpr int MR = Kernel::kMR, NR = Kernel::kNR;
  static_assert(kMC % MR == 0 && kNC % NR == 0, "blocks hold whole tiles");
  using WeightElem = typename Kernel::WeightElem;
  GemmBuffers& buffers = thread_buffers();
  buffers.reserve(size_t(kNC * Kernel::weight_stride(kKC)) * sizeof(WeightElem), size_t(Kernel::scratch_floats(kKC)));
  auto* packed_weights = static_cast<WeightElem*>(buffers.weights);
  alignas(64) float edge[MR * NR];
  for (int64_t jc = o_begin; jc < o_end; jc += kNC) {
    const int64_t nc = std::min(kNC, o_end - jc);
    for (int64_t pc = 0; pc < w.in; pc += kKC) {
      const int64_t kc = std::min(kKC, w.in - pc);
      const int64_t w_stride = Kernel::weight_stride(kc);
      const bool add = accumulate || pc > 0;
      Kernel::pack_weights(w, jc, nc, pc, kc, packed_weights, buffers.scratch);
      // The block after this one: the next kc elements, or the first ones of the next features.
      const bool next_in_row = pc + kKC < w.in;
      const int64_t next_o = next_in_row ? jc : jc + kNC;
      const int64_t next_k = next_in_row ? pc + kKC : 0;
      const int64_t next_nc = next_o < o_end ? std::min(kNC, o_end - next_o) : 0;
      WeightBlockPrefetch prefetch(w, next_o, next_nc, next_k, std::min(kKC, w.in - next_k),
                                   ((t_end - t_begin + MR - 1) / MR) * ((nc + NR - 1) / NR));
      for (int64_t ic = t_begin; ic < t_end; ic += kMC) {
        const int64_t mc = std::min(kMC, t_end - ic);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t nr = std::min<int64_t>(NR, nc - jr);
          const WeightElem* w_panel = packed_weights + jr * w_stride;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            prefetch.step();
            const int64_t mr = std::min<int64_t>(MR, mc - ir);
            const auto* x_panel = x.tile(ic + ir, Kernel::token_offset(pc));
            float* c = y + (ic + ir) * ldy + jc + jr;
            if (mr == MR && nr == NR) {
              Kernel::tile(kc, x_panel, w_panel, c, ldy, add);
              continue;
            }
            // A partial tile is computed whole into a local tile; only its live part reaches y.
            Kernel::tile(kc, x_panel, w_panel, edge, NR, false);
            for (int64_t r = 0; r < mr; ++r) {
              for (int64_t j = 0; j < nr; ++j) {
                float& out = c[r * ldy + j];
                out = add ? out + edge[r * NR + j] : edge[r * NR + j];
              }
            }
          }
        }
      }
    }
  }
}

// Checks the weight and the buffers, and describes the weight's rows for the kernels.
Result<WeightRows> weight_rows(const TensorView& weight, const char* op) {
  const std::string where = std::string(op) + ": weight '" + weight.name + "'";
  if (weight.shape.size() != 2) return error(where + " must be 2-D [out, in], got " + weight.shape_string());
  if (weight.shape[0] < 0 || weight.shape[1] < 0) return error(where + " has a negative dimension");
  const DType type = weight.dtype;
  const bool plain = type == DType::F32 || type == DType::F16 || type == DType::BF16;
  if (!plain && !can_dequantize(type)) {
    return error(where + " has type " + dtype_name(type) + ", which matmul does not support");
  }
  const Result<size_t> bytes = row_bytes(type, weight.shape[1]);
  if (!bytes) return error(where + ": " + bytes.message());
  if (weight.data == nullptr && weight.shape[0] > 0 && *bytes > 0) return error(where + " has no data");
  const size_t needed = size_t(weight.shape[0]) * *bytes;
  if (weight.nbytes != 0 && weight.nbytes < needed) {
    return error(where + " holds " + std::to_string(weight.nbytes) + " bytes, shape " + weight.shape_string() +
                 " needs " + std::to_string(needed));
  }
  const DTypeInfo info = dtype_info(type);
  WeightRows w;
  w.dtype = type;
  w.data = static_cast<const uint8_t*>(weight.data);
  w.row_bytes = *bytes;
  w.in = weight.shape[1];
  w.block_elems = info.block_elems;
  w.block_bytes = info.block_bytes;
  return w;
}

Status check_buffers(const char* op, const float* x, int64_t n, int64_t ldx, int64_t in, const float* y,
                     int64_t ldy, int64_t out) {
  const std::string where = std::string(op) + ": ";
  if (n < 0) return error(where + "negative token count " + std::to_string(n));
  if (ldx < in) return error(where + "x row stride " + std::to_string(ldx) + " < in " + std::to_string(in));
  if (ldy < out) return error(where + "y row stride " + std::to_string(ldy) + " < out " + std::to_string(out));
  if (n > 0 && out > 0 && y == nullptr) return error(where + "y is null");
  if (n > 0 && out > 0 && in > 0 && x == nullptr) return error(where + "x is null");
  return Status::ok();
}

std::atomic<MatmulPrecision> g_precision{MatmulPrecision::kAuto};

// The row path in bf16 arithmetic: the tokens rounded to bf16 pairs once per call, then each weight row
// read once and dotted with them by bf16 dot products (the same products the bf16 GEMM sums).
void rows_bf16(const WeightRows& w, int64_t out, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy,
               bool accumulate) {
  // The few tokens of a step are converted on this thread: handing that to the pool would cost a
  // second dispatch per product, which a decoding step (168 products for a 24-layer model) feels.
  const int64_t ld = (w.in + 1) / 2;
  std::vector<uint32_t> tokens(size_t(n * ld));
  convert_tokens_bf16(x, ldx, n, w.in, tokens.data());
  global_thread_pool().parallel_for(size_t(out), 16, [&](int, size_t begin, size_t end) {
    GemmBuffers& buffers = thread_buffers();
    buffers.reserve(0, size_t(2 * (w.in + 32)));
    dot_rows_bf16(w, tokens.data(), ld, n, y, ldy, accumulate, int64_t(begin), int64_t(end), buffers.scratch);
  });
}

// One product of a matmul call: a weight and where its outputs go.
struct GemmTarget {
  WeightRows w;
  int64_t out = 0;
  float* y = nullptr;
  int64_t ldy = 0;
};

// y_i[n, out_i] (+)= x @ w_i^T for every target, all reading the same tokens, by the blocked GEMM over the
// global pool: the tokens are packed once for all of them (q, k and v of a layer read the same normed
// rows), and one dispatch covers every target. Threads take whole NR-feature panels of the targets laid
// end to end, so each decodes only its own weights; when there are too few panels for that (a tiny
// out), they take token ranges instead. A y element sums its kc blocks in the same order however the
// work is split, so the bytes equal those of one call per target.
template <class Kernel>
void run_gemm(const std::vector<GemmTarget>& targets, const float* x, int64_t n, int64_t ldx, bool accumulate) {
  ThreadPool& pool = global_thread_pool();
  constexpr int MR = Kernel::kMR, NR = Kernel::kNR;
  const typename Kernel::Tokens tokens = Kernel::prepare_tokens(x, n, ldx, targets.front().w.in);
  // first_panel[i]: where target i's panels start in the concatenation; the last entry is the total.
  std::vector<int64_t> first_panel(targets.size() + 1, 0);
  for (size_t i = 0; i < targets.size(); ++i) first_panel[i + 1] = first_panel[i] + (targets[i].out + NR - 1) / NR;
  if (first_panel.back() >= pool.size()) {
    pool.parallel_for(size_t(first_panel.back()), 1, [&](int, size_t begin, size_t end) {
      for (size_t i = 0; i < targets.size(); ++i) {
        const GemmTarget& t = targets[i];
        const int64_t lo = std::max<int64_t>(int64_t(begin), first_panel[i]) - first_panel[i];
        const int64_t hi = std::min<int64_t>(int64_t(end), first_panel[i + 1]) - first_panel[i];
        if (lo >= hi) continue;
        gemm_blocked<Kernel>(t.w, tokens, t.y, t.ldy, accumulate, 0, n, lo * NR, std::min(t.out, hi * NR));
      }
    });
  } else {
    const int64_t token_tiles = (n + MR - 1) / MR;
    pool.parallel_for(size_t(token_tiles), 1, [&](int, size_t begin, size_t end) {
      for (const GemmTarget& t : targets) {
        gemm_blocked<Kernel>(t.w, tokens, t.y, t.ldy, accumulate, int64_t(begin) * MR, std::min(n, int64_t(end) * MR),
                             0, t.out);
      }
    });
  }
  // A forward pass reuses the panels' memory layer after layer; one unusually large call (a long batch
  // in a long-running server) should not keep its size for the life of the thread.
  constexpr size_t kKeptPanelBytes = size_t(64) << 20;
  call_token_buffer().trim(kKeptPanelBytes);
}

// Clears y for an empty sum (in = 0), which no kernel writes.
void zero_outputs(const GemmTarget& t, int64_t n) {
  for (int64_t r = 0; r < n; ++r) std::fill(t.y + r * t.ldy, t.y + r * t.ldy + t.out, 0.0f);
}

void run_rows(const GemmTarget& t, const float* x, int64_t n, int64_t ldx, bool accumulate) {
  const WeightRows& w = t.w;
  if (effective_matmul_precision(w.dtype) == MatmulPrecision::kBf16)
    return rows_bf16(w, t.out, x, n, ldx, t.y, t.ldy, accumulate);
  global_thread_pool().parallel_for(size_t(t.out), 16, [&](int, size_t begin, size_t end) {
    GemmBuffers& buffers = thread_buffers();
    buffers.reserve(0, size_t(w.in));
    gemm_vector_rows(w, x, n, ldx, t.y, t.ldy, accumulate, int64_t(begin), int64_t(end), buffers.scratch);
  });
}

// Every target reads x: [n, in]. Targets that share the GEMM's arithmetic share one call (and so their
// packed tokens); a decoding step's row path reads the tokens directly and takes them one by one.
void run_matmul(const std::vector<GemmTarget>& targets, const float* x, int64_t n, int64_t ldx, bool accumulate,
                MatmulPath path) {
  std::vector<GemmTarget> f32, bf16;
  for (const GemmTarget& t : targets) {
    if (n == 0 || t.out == 0) continue;
    if (t.w.in == 0) {  // an empty sum
      if (!accumulate) zero_outputs(t, n);
      continue;
    }
    if (path == MatmulPath::kRows) {
      run_rows(t, x, n, ldx, accumulate);
      continue;
    }
    (effective_matmul_precision(t.w.dtype) == MatmulPrecision::kBf16 ? bf16 : f32).push_back(t);
  }
  if (!bf16.empty()) run_gemm<Bf16Kernel>(bf16, x, n, ldx, accumulate);
  if (!f32.empty()) run_gemm<F32Kernel>(f32, x, n, ldx, accumulate);
}

}  // namespace

void set_matmul_precision(MatmulPrecision precision) { g_precision.store(precision); }
MatmulPrecision matmul_precision() { return g_precision.load(); }
bool bf16_matmul_supported() { return bf16_gemm_supported(); }

const char* matmul_precision_name(MatmulPrecision precision) {
  switch (precision) {
    case MatmulPrecision::kAuto: return "auto";
    case MatmulPrecision::kF32: return "f32";
    case MatmulPrecision::kBf16: return "bf16";
  }
  return "?";
}

MatmulPrecision effective_matmul_precision(DType dtype) {
  switch (g_precision.load()) {
    case MatmulPrecision::kF32: return MatmulPrecision::kF32;
    case MatmulPrecision::kBf16: return bf16_gemm_supported() ? MatmulPrecision::kBf16 : MatmulPrecision::kF32;
    case MatmulPrecision::kAuto: break;
  }
  return dtype != DType::F32 && bf16_gemm_supported() ? MatmulPrecision::kBf16 : MatmulPrecision::kF32;
}

Status matmul(const TensorView& weight, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy,
              bool accumulate, MatmulPath path) {
  ARB_ASSIGN(const WeightRows w, weight_rows(weight, "matmul"));
  const int64_t out = weight.shape[0];
  ARB_TRY(check_buffers("matmul", x, n, ldx, w.in, y, ldy, out));
  run_matmul({GemmTarget{w, out, y, ldy}}, x, n, ldx, accumulate, path);
  return Status::ok();
}

Status matmul_shared(const std::vector<MatmulOutput>& outputs, const float* x, int64_t n, int64_t ldx,
                     MatmulPath path) {
  std::vector<GemmTarget> targets;
  targets.reserve(outputs.size());
  for (const MatmulOutput& o : outputs) {
    if (o.weight == nullptr) return error("matmul_shared: an output has no weight");
    ARB_ASSIGN(const WeightRows w, weight_rows(*o.weight, "matmul_shared"));
    if (!targets.empty() && w.in != targets.front().w.in) {
      return error("matmul_shared: weight '" + o.weight->name + "' reads " + std::to_string(w.in) +
                   " inputs per token, weight '" + outputs.front().weight->name + "' " +
                   std::to_string(targets.front().w.in) + ": the outputs must read the same tokens");
    }
    const int64_t out = o.weight->shape[0];
    ARB_TRY(check_buffers("matmul_shared", x, n, ldx, w.in, o.y, o.ldy, out));
    targets.push_back({w, out, o.y, o.ldy});
  }
  run_matmul(targets, x, n, ldx, false, path);
  return Status::ok();
}

Status matmul_rows(const TensorView& weight, const std::vector<int32_t>& rows, const float* x, int64_t n,
                   int64_t ldx, float* y, int64_t ldy) {
  ARB_ASSIGN(WeightRows w, weight_rows(weight, "matmul_rows"));
  const int64_t out = weight.shape[0];
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= out) {
      return error("matmul_rows: row " + std::to_string(rows[i]) + " (entry " + std::to_string(i) +
                   ") is outside weight '" + weight.name + "' of shape " + weight.shape_string());
    }
  }
  const int64_t count = int64_t(rows.size());
  ARB_TRY(check_buffers("matmul_rows", x, n, ldx, w.in, y, ldy, count));
  w.index = rows.data();
  run_matmul({GemmTarget{w, count, y, ldy}}, x, n, ldx, false, MatmulPath::kGemm);
  return Status::ok();
}

}  // namespace arbiter
