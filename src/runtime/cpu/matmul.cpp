#include "runtime/cpu/matmul.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "core/thread_pool.h"
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
// Cache blocking (Zen 3: 32 KiB L1d, 512 KiB L2 per core). A kc x NR weight micro-panel (16 KiB) stays
// in L1 while the tile loop streams the mc x kc token block (L2) past it; the kc x nc weight block is
// decoded once per call and reused by every token block. KC is a multiple of every block size (32, 256),
// so a block boundary never splits a quantization block.
constexpr int64_t kKC = 256;
constexpr int64_t kMC = 96;   // multiple of MR
constexpr int64_t kNC = 512;  // multiple of NR
static_assert(kMC % kGemmMR == 0 && kNC % kGemmNR == 0, "blocks hold whole tiles");

// The row-dot path (each weight row dotted with the tokens directly) is faster for up to 5 tokens
// (measured on [4864, 896] F32 / BF16 / Q8_0 / Q4_K, one thread: at n = 5 it takes 1.1-1.6 ms, the
// blocked GEMM 1.7-1.8 ms), but it sums in another order than the GEMM, which would make a sequence's
// results depend on what else shares its batch (a resumed run would then differ in the last bits).
// Batch invariance wins: prefills always take the GEMM; decoding steps ask for the row path
// (MatmulPath::kRows), which is batch invariant by itself.

// Per-thread packing buffers, kept between calls so that a forward pass does not allocate per layer.
struct GemmBuffers {
  std::unique_ptr<float[]> storage;
  size_t capacity = 0;  // floats
  float* weights = nullptr;
  float* tokens = nullptr;
  float* scratch = nullptr;

  void reserve(size_t weight_floats, size_t token_floats, size_t scratch_floats) {
    constexpr size_t kAlign = 16;  // floats: 64 bytes, a cache line
    auto up = [](size_t v) { return (v + kAlign - 1) / kAlign * kAlign; };
    const size_t need = up(weight_floats) + up(token_floats) + up(scratch_floats) + kAlign;
    if (need > capacity) {
      storage = std::make_unique<float[]>(need);
      capacity = need;
    }
    const size_t misalign = reinterpret_cast<uintptr_t>(storage.get()) % (kAlign * 4);
    weights = storage.get() + (misalign ? (kAlign * 4 - misalign) / 4 : 0);
    tokens = weights + up(weight_floats);
    scratch = tokens + up(token_floats);
  }
};

GemmBuffers& thread_buffers() {
  static thread_local GemmBuffers buffers;
  return buffers;
}

// Tokens [t_begin, t_end) x output features [o_begin, o_end) of y, BLIS-style: for each weight block
// (nc features x kc elements, decoded and packed once), every token block is packed and multiplied tile
// by tile. Each y element sums its kc blocks in order, so the result does not depend on how the
// ranges were split between threads.
void gemm_blocked(const WeightRows& w, const float* x, int64_t ldx, float* y, int64_t ldy, bool accumulate,
                  int64_t t_begin, int64_t t_end, int64_t o_begin, int64_t o_end) {
  GemmBuffers& buffers = thread_buffers();
  buffers.reserve(kNC * kKC, kMC * kKC, kGemmNR * kKC);
  alignas(64) float edge[kGemmMR * kGemmNR];
  for (int64_t jc = o_begin; jc < o_end; jc += kNC) {
    const int64_t nc = std::min(kNC, o_end - jc);
    for (int64_t pc = 0; pc < w.in; pc += kKC) {
      const int64_t kc = std::min(kKC, w.in - pc);
      const bool add = accumulate || pc > 0;
      pack_weight_block(w, jc, nc, pc, kc, buffers.weights, buffers.scratch);
      for (int64_t ic = t_begin; ic < t_end; ic += kMC) {
        const int64_t mc = std::min(kMC, t_end - ic);
        pack_token_block(x + ic * ldx + pc, ldx, mc, kc, buffers.tokens);
        for (int64_t jr = 0; jr < nc; jr += kGemmNR) {
          const int64_t nr = std::min<int64_t>(kGemmNR, nc - jr);
          const float* w_panel = buffers.weights + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += kGemmMR) {
            const int64_t mr = std::min<int64_t>(kGemmMR, mc - ir);
            const float* x_panel = buffers.tokens + ir * kc;
            float* c = y + (ic + ir) * ldy + jc + jr;
            if (mr == kGemmMR && nr == kGemmNR) {
              gemm_micro_kernel(kc, x_panel, w_panel, c, ldy, add);
              continue;
            }
            // A partial tile is computed whole into a local tile; only its live part reaches y.
            gemm_micro_kernel(kc, x_panel, w_panel, edge, kGemmNR, false);
            for (int64_t r = 0; r < mr; ++r) {
              for (int64_t j = 0; j < nr; ++j) {
                float& out = c[r * ldy + j];
                out = add ? out + edge[r * kGemmNR + j] : edge[r * kGemmNR + j];
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

// y[n, out] (+)= x @ w^T over the global pool. Few tokens: rows of w split between threads. Otherwise
// threads take whole NR-feature panels, so each decodes only its own weights; when there are too few
// panels for that (a tiny out), they take token ranges instead.
void run_matmul(const WeightRows& w, int64_t out, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy,
                bool accumulate, MatmulPath path) {
  if (n == 0 || out == 0) return;
  if (w.in == 0) {  // an empty sum
    if (!accumulate)
      for (int64_t t = 0; t < n; ++t) std::fill(y + t * ldy, y + t * ldy + out, 0.0f);
    return;
  }
  ThreadPool& pool = global_thread_pool();
  if (path == MatmulPath::kRows) {
    pool.parallel_for(size_t(out), 16, [&](int, size_t begin, size_t end) {
      GemmBuffers& buffers = thread_buffers();
      buffers.reserve(0, 0, size_t(w.in));
      gemm_vector_rows(w, x, n, ldx, y, ldy, accumulate, int64_t(begin), int64_t(end), buffers.scratch);
    });
    return;
  }
  const int64_t panels = (out + kGemmNR - 1) / kGemmNR;
  if (panels >= pool.size()) {
    pool.parallel_for(size_t(panels), 1, [&](int, size_t begin, size_t end) {
      gemm_blocked(w, x, ldx, y, ldy, accumulate, 0, n, int64_t(begin) * kGemmNR,
                   std::min(out, int64_t(end) * kGemmNR));
    });
    return;
  }
  const int64_t token_tiles = (n + kGemmMR - 1) / kGemmMR;
  pool.parallel_for(size_t(token_tiles), 1, [&](int, size_t begin, size_t end) {
    gemm_blocked(w, x, ldx, y, ldy, accumulate, int64_t(begin) * kGemmMR, std::min(n, int64_t(end) * kGemmMR), 0,
                 out);
  });
}

}  // namespace

Status matmul(const TensorView& weight, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy,
              bool accumulate, MatmulPath path) {
  ARB_ASSIGN(const WeightRows w, weight_rows(weight, "matmul"));
  const int64_t out = weight.shape[0];
  ARB_TRY(check_buffers("matmul", x, n, ldx, w.in, y, ldy, out));
  run_matmul(w, out, x, n, ldx, y, ldy, accumulate, path);
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
  run_matmul(w, count, x, n, ldx, y, ldy, false, MatmulPath::kGemm);
  return Status::ok();
}

}  // namespace arbiter
