// matmul and matmul_rows against a double-precision reference built from the weight's own values
// (for block types: dequantize_row's output), over the shapes, strides and types the model uses, in
// both arithmetics: f32, and bf16 dot products (where the CPU has them), whose reference rounds every
// weight and activation to bf16 first and then sums exactly, so the kernel is held to f32 summation
// accuracy, not to a loosened bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/half.h"
#include "quant/quantize.h"
#include "core/thread_pool.h"
#include "io/tensor.h"
#include "quant/dtype.h"
#include "runtime/cpu/matmul.h"

namespace arbiter {
namespace {

// A stored weight [out, in] and its values as doubles.
struct TestWeight {
  DType type = DType::F32;
  int64_t out = 0, in = 0;
  std::vector<uint8_t> bytes;
  std::vector<double> values;  // [out, in]

  TensorView view() const {
    TensorView v;
    v.name = std::string("test.") + dtype_name(type);
    v.dtype = type;
    v.shape = {out, in};
    v.data = bytes.data();
    v.nbytes = bytes.size();
    return v;
  }
};

bool is_plain(DType type) { return type == DType::F32 || type == DType::F16 || type == DType::BF16; }

// Plain types hold uniform(-1, 1) values. Block types hold random bytes with each byte's f16 exponent bits
// kept low (mask 0xbb), so whatever field of a block is an f16 scale is finite and below 1; the values
// are whatever dequantize_row makes of the blocks.
TestWeight make_weight(DType type, int64_t out, int64_t in, uint32_t seed) {
  TestWeight w;
  w.type = type;
  w.out = out;
  w.in = in;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const size_t row = *row_bytes(type, in);
  w.bytes.resize(size_t(out) * row);
  w.values.resize(size_t(out * in));
  if (is_plain(type)) {
    for (int64_t i = 0; i < out * in; ++i) {
      const float v = uniform(rng);
      if (type == DType::F32) {
        std::memcpy(w.bytes.data() + 4 * i, &v, 4);
        w.values[i] = v;
      } else {
        const uint16_t h = type == DType::F16 ? f32_to_f16(v) : f32_to_bf16(v);
        std::memcpy(w.bytes.data() + 2 * i, &h, 2);
        w.values[i] = type == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
      }
    }
    return w;
  }
  for (auto& b : w.bytes) b = uint8_t(rng() & 0xbb);
  std::vector<float> decoded(static_cast<size_t>(in));
  for (int64_t o = 0; o < out; ++o) {
    dequantize_row(type, w.bytes.data() + size_t(o) * row, decoded.data(), in);
    for (int64_t k = 0; k < in; ++k) w.values[o * in + k] = decoded[k];
  }
  return w;
}

std::vector<float> random_floats(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> v(count);
  for (auto& f : v) f = uniform(rng);
  return v;
}

// The value a product reads under the current arithmetic: itself, or rounded to bf16.
double as_multiplied(DType type, double value) {
  if (effective_matmul_precision(type) != MatmulPrecision::kBf16) return value;
  return bf16_to_f32(f32_to_bf16(float(value)));
}

// A weight as the product reads it: in bf16 arithmetic the row path multiplies the integer values of
// every block type exactly (the scales applied to the sums); every other case as as_multiplied.
double weight_as_multiplied(DType type, MatmulPath path, double value) {
  const bool block_type = dtype_info(type).block_elems > 1;
  if (block_type && path == MatmulPath::kRows) return value;
  return as_multiplied(type, value);
}

// The arithmetics this CPU runs; the tests below run under each.
std::vector<MatmulPrecision> precisions() {
  std::vector<MatmulPrecision> v = {MatmulPrecision::kF32};
  if (bf16_matmul_supported()) v.push_back(MatmulPrecision::kBf16);
  return v;
}

// Sets the process-wide arithmetic for a scope.
struct PrecisionScope {
  explicit PrecisionScope(MatmulPrecision p) { set_matmul_precision(p); }
  ~PrecisionScope() { set_matmul_precision(MatmulPrecision::kAuto); }
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;
};

// Checks y[n, k] (row stride ldy) against base[t, j] + x[t] . w[rows[j]] in double. The tolerance scales
// with sum |w x|, the size that bounds float rounding of a dot product.
void expect_matches(const TestWeight& w, const std::vector<int32_t>& rows, const float* x, int64_t n, int64_t ldx,
                    const float* y, int64_t ldy, const float* base, const std::string& what,
                    MatmulPath path = MatmulPath::kGemm) {
  const int64_t k_count = int64_t(rows.size());
  int failures = 0;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t j = 0; j < k_count; ++j) {
      const double* wr = w.values.data() + int64_t(rows[j]) * w.in;
      double sum = 0.0, magnitude = 0.0;
      for (int64_t k = 0; k < w.in; ++k) {
        const double p = weight_as_multiplied(w.type, path, wr[k]) * as_multiplied(w.type, double(x[t * ldx + k]));
        sum += p;
        magnitude += std::fabs(p);
      }
      if (base) sum += base[t * ldy + j];
      const double got = y[t * ldy + j];
      const double tolerance = 1e-5 * magnitude + 1e-6 * std::fabs(sum) + 1e-30;
      if (!(std::fabs(got - sum) <= tolerance) && failures++ < 5) {
        ADD_FAILURE() << what << " (" << matmul_precision_name(matmul_precision()) << "): y[" << t << ", " << j << "] = " << got << ", reference " << sum
                      << " (tolerance " << tolerance << ")";
      }
    }
  }
  EXPECT_EQ(failures, 0) << what;
}

std::vector<int32_t> all_rows(int64_t out) {
  std::vector<int32_t> rows(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) rows[o] = int32_t(o);
  return rows;
}

std::string describe(DType type, int64_t n, int64_t in, int64_t out) {
  return std::string(dtype_name(type)) + " n=" + std::to_string(n) + " in=" + std::to_string(in) +
         " out=" + std::to_string(out);
}

// Every type matmul takes: the plain ones and every other type dequantize_row supports.
std::vector<DType> supported_types() {
  std::vector<DType> types = {DType::F32, DType::F16, DType::BF16};
  for (uint32_t number = 2; number <= 30; ++number) {
    const DType type = static_cast<DType>(number);
    if (!is_plain(type) && dtype_info(type).known && can_dequantize(type)) types.push_back(type);
  }
  return types;
}

TEST(Matmul, CoversTheModelTypes) {
  const std::vector<DType> types = supported_types();
  for (DType type : {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q4_K, DType::Q5_K,
                     DType::Q6_K}) {
    if (!can_dequantize(type)) continue;  // the quant module has not got to it: nothing to test yet
    EXPECT_NE(std::find(types.begin(), types.end(), type), types.end()) << dtype_name(type);
  }
}

// Both paths (the blocked GEMM and the decoding steps' row dots) against the double reference.
void check_matmul(const TestWeight& w, int64_t n, uint32_t seed) {
  const std::vector<float> x = random_floats(size_t(n * w.in), seed);
  for (MatmulPrecision precision : precisions()) {
    const PrecisionScope scope(precision);
    for (MatmulPath path : {MatmulPath::kGemm, MatmulPath::kRows}) {
      std::vector<float> y(size_t(n * w.out), NAN);
      ASSERT_TRUE(matmul(w.view(), x.data(), n, w.in, y.data(), w.out, false, path).is_ok());
      expect_matches(w, all_rows(w.out), x.data(), n, w.in, y.data(), w.out, nullptr,
                     describe(w.type, n, w.in, w.out) + (path == MatmulPath::kRows ? " rows" : " gemm"), path);
    }
  }
}

TEST(Matmul, F32AllShapes) {
  // Odd widths (33, 289: the last kc block odd) give the bf16 path a pair with a zero partner.
  for (int64_t out : {1, 7, 64, 4864}) {
    for (int64_t in : {33, 64, 96, 256, 289, 896}) {
      const TestWeight w = make_weight(DType::F32, out, in, uint32_t(out * 131 + in));
      for (int64_t n : {1, 3, 17, 64, 513}) {
        if (n * in * out > 100'000'000) continue;  // keeps the double reference quick
        check_matmul(w, n, uint32_t(n + in));
      }
    }
  }
}

TEST(Matmul, LargeInnerDimension) {
  // The FFN down projection of Qwen2.5-0.5B: in = 4864 spans many kc blocks, the last one partial.
  const TestWeight w = make_weight(DType::F32, 40, 4864, 11);
  check_matmul(w, 19, 12);
  check_matmul(w, 1, 13);
}

TEST(Matmul, EveryType) {
  for (DType type : supported_types()) {
    const int64_t block = dtype_info(type).block_elems;
    for (int64_t in : {64, 96, 256, 512, 896}) {
      if (in % block != 0) continue;
      for (int64_t out : {7, 64}) {
        const TestWeight w = make_weight(type, out, in, uint32_t(in * 7 + out + uint32_t(type)));
        for (int64_t n : {1, 3, 6, 17, 64}) check_matmul(w, n, uint32_t(n * 3 + in));
      }
    }
  }
}

void run_StridesAndAccumulate() {
  for (DType type : {DType::F32, DType::BF16, DType::Q8_0}) {
    if (!is_plain(type) && !can_dequantize(type)) continue;
    const TestWeight w = make_weight(type, 37, 96, 5);
    for (int64_t n : {1, 2, 3, 17, 100}) {
      const int64_t ldx = w.in + 5, ldy = w.out + 3;
      const std::vector<float> x = random_floats(size_t(n * ldx), 6);
      const std::vector<float> base = random_floats(size_t(n * ldy), 7);
      std::vector<float> y = base;
      ASSERT_TRUE(matmul(w.view(), x.data(), n, ldx, y.data(), ldy, /*accumulate=*/true).is_ok());
      expect_matches(w, all_rows(w.out), x.data(), n, ldx, y.data(), ldy, base.data(),
                     "accumulate " + describe(type, n, w.in, w.out));
      for (int64_t t = 0; t < n; ++t)
        for (int64_t j = w.out; j < ldy; ++j) EXPECT_EQ(y[t * ldy + j], base[t * ldy + j]) << "padding written";

      std::vector<float> overwritten = base;
      ASSERT_TRUE(matmul(w.view(), x.data(), n, ldx, overwritten.data(), ldy).is_ok());
      expect_matches(w, all_rows(w.out), x.data(), n, ldx, overwritten.data(), ldy, nullptr,
                     "strided " + describe(type, n, w.in, w.out));
    }
  }
}

TEST(Matmul, StridesAndAccumulate) {
  for (MatmulPrecision precision : precisions()) {
    const PrecisionScope scope(precision);
    run_StridesAndAccumulate();
  }
}

void run_SelectedRows() {
  const std::vector<int32_t> rows = {5, 0, 63, 5, 17, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 2};
  for (DType type : supported_types()) {
    const int64_t in = dtype_info(type).block_elems == 256 ? 256 : 96;
    const TestWeight w = make_weight(type, 64, in, 21);
    for (int64_t n : {1, 3, 17, 70}) {
      const int64_t ldy = int64_t(rows.size()) + 2;
      const std::vector<float> x = random_floats(size_t(n * in), 22);
      std::vector<float> y(size_t(n * ldy), NAN);
      ASSERT_TRUE(matmul_rows(w.view(), rows, x.data(), n, in, y.data(), ldy).is_ok());
      expect_matches(w, rows, x.data(), n, in, y.data(), ldy, nullptr, "rows " + describe(type, n, in, 64));
    }
  }
}

TEST(Matmul, SelectedRows) {
  for (MatmulPrecision precision : precisions()) {
    const PrecisionScope scope(precision);
    run_SelectedRows();
  }
}

std::vector<float> run_once(const TestWeight& w, const std::vector<float>& x, int64_t n) {
  std::vector<float> y(size_t(n * w.out));
  EXPECT_TRUE(matmul(w.view(), x.data(), n, w.in, y.data(), w.out).is_ok());
  return y;
}

void run_DeterministicPerThreadCount() {
  for (DType type : {DType::F32, DType::BF16, DType::Q4_K}) {
    if (!is_plain(type) && !can_dequantize(type)) continue;
    const TestWeight w = make_weight(type, 300, 512, 31);
    for (int64_t n : {1, 3, 13, 200}) {
      const std::vector<float> x = random_floats(size_t(n * w.in), 32);
      set_num_threads(1);
      const std::vector<float> one_a = run_once(w, x, n), one_b = run_once(w, x, n);
      set_num_threads(2);
      const std::vector<float> two_a = run_once(w, x, n), two_b = run_once(w, x, n);
      const size_t bytes = one_a.size() * sizeof(float);
      EXPECT_EQ(std::memcmp(one_a.data(), one_b.data(), bytes), 0) << describe(type, n, w.in, w.out);
      EXPECT_EQ(std::memcmp(two_a.data(), two_b.data(), bytes), 0) << describe(type, n, w.in, w.out);
      // Threads split whole tiles and every element sums its blocks in the same order, so the thread
      // count does not change the bytes either.
      EXPECT_EQ(std::memcmp(one_a.data(), two_a.data(), bytes), 0) << describe(type, n, w.in, w.out);
      expect_matches(w, all_rows(w.out), x.data(), n, w.in, two_a.data(), w.out, nullptr,
                     "threads " + describe(type, n, w.in, w.out));
    }
  }
  set_num_threads(0);
}

TEST(Matmul, DeterministicPerThreadCount) {
  for (MatmulPrecision precision : precisions()) {
    const PrecisionScope scope(precision);
    run_DeterministicPerThreadCount();
  }
}

TEST(Matmul, EmptyShapes) {
  const TestWeight w = make_weight(DType::F32, 4, 0, 1);
  std::vector<float> y(3 * 4, 7.0f);
  ASSERT_TRUE(matmul(w.view(), nullptr, 3, 0, y.data(), 4).is_ok());
  for (float v : y) EXPECT_EQ(v, 0.0f);
  const TestWeight some = make_weight(DType::F32, 4, 8, 1);
  EXPECT_TRUE(matmul(some.view(), nullptr, 0, 8, nullptr, 4).is_ok());
  EXPECT_TRUE(matmul_rows(some.view(), {}, nullptr, 5, 8, nullptr, 0).is_ok());
}

TEST(Matmul, RejectsBadInput) {
  const TestWeight w = make_weight(DType::F32, 8, 32, 1);
  std::vector<float> x(4 * 32), y(4 * 8);
  TensorView one_d = w.view();
  one_d.shape = {256};
  EXPECT_FALSE(matmul(one_d, x.data(), 4, 32, y.data(), 8).is_ok());
  EXPECT_FALSE(matmul(w.view(), x.data(), 4, 31, y.data(), 8).is_ok());
  EXPECT_FALSE(matmul(w.view(), x.data(), 4, 32, y.data(), 7).is_ok());
  EXPECT_FALSE(matmul(w.view(), x.data(), -1, 32, y.data(), 8).is_ok());
  EXPECT_FALSE(matmul(w.view(), nullptr, 4, 32, y.data(), 8).is_ok());

  TensorView short_data = w.view();
  short_data.nbytes = 100;
  const Status too_short = matmul(short_data, x.data(), 4, 32, y.data(), 8);
  ASSERT_FALSE(too_short.is_ok());
  EXPECT_NE(too_short.message().find("test.F32"), std::string::npos) << too_short.message();

  TensorView unknown_type = w.view();
  unknown_type.dtype = static_cast<DType>(4);  // a retired GGUF type number
  EXPECT_FALSE(matmul(unknown_type, x.data(), 4, 32, y.data(), 8).is_ok());

  TensorView partial_block = w.view();  // 40 is not a multiple of Q8_0's 32-element block
  partial_block.dtype = DType::Q8_0;
  partial_block.shape = {2, 40};
  EXPECT_FALSE(matmul(partial_block, x.data(), 1, 40, y.data(), 2).is_ok());

  const Status out_of_range = matmul_rows(w.view(), {0, 8}, x.data(), 4, 32, y.data(), 2);
  ASSERT_FALSE(out_of_range.is_ok());
  EXPECT_NE(out_of_range.message().find("row 8"), std::string::npos) << out_of_range.message();
  EXPECT_FALSE(matmul_rows(w.view(), {-1}, x.data(), 4, 32, y.data(), 1).is_ok());
}

}  // namespace
}  // namespace arbiter

namespace arbiter {
namespace {

// A token's output must not depend on the other tokens in the call (batch invariance): a sequence
// scored alone or packed with others, or resumed in a different batch, gives the same bytes.
void run_batch_invariance() {
  std::vector<DType> types = {DType::F32, DType::BF16};
  for (DType type : supported_types())
    if (dtype_info(type).block_elems > 1 && can_quantize(type)) types.push_back(type);
  ASSERT_GE(types.size(), 10u) << "the quant module writes every common block type";
  for (DType type : types) {
    const int64_t in = 256, out = 40;
    std::vector<float> values(size_t(in * out));
    uint32_t state = 12345;
    auto next = [&] {
      state = state * 1664525u + 1013904223u;
      return float(int32_t(state >> 8) % 2001 - 1000) / 1000.0f;
    };
    for (float& v : values) v = next();
    const size_t row_size = row_bytes(type, in).value();
    std::vector<uint8_t> bytes(row_size * size_t(out));
    for (int64_t r = 0; r < out; ++r) {
      const float* src = values.data() + r * in;
      uint8_t* dst = bytes.data() + size_t(r) * row_size;
      if (type == DType::F32) std::memcpy(dst, src, row_size);
      else if (type == DType::BF16)
        for (int64_t i = 0; i < in; ++i) reinterpret_cast<uint16_t*>(dst)[i] = f32_to_bf16(src[i]);
      else quantize_row(type, src, dst, in);
    }
    TensorView w;
    w.name = "w";
    w.dtype = type;
    w.shape = {out, in};
    w.data = bytes.data();
    w.nbytes = bytes.size();
    // Both paths: prefills take the GEMM, decoding steps the row path (up to four tokens per row read).
    for (MatmulPath path : {MatmulPath::kGemm, MatmulPath::kRows}) {
      for (int64_t n : {1, 2, 5, 6, 7, 13, 64}) {
        std::vector<float> x(size_t(n * in));
        for (float& v : x) v = next();
        std::vector<float> together(size_t(n * out));
        ASSERT_TRUE(matmul(w, x.data(), n, in, together.data(), out, false, path).is_ok());
        for (int64_t r = 0; r < n; ++r) {
          std::vector<float> alone(static_cast<size_t>(out));
          ASSERT_TRUE(matmul(w, x.data() + r * in, 1, in, alone.data(), out, false, path).is_ok());
          for (int64_t j = 0; j < out; ++j)
            ASSERT_EQ(together[size_t(r * out + j)], alone[size_t(j)])
                << dtype_name(type) << " n=" << n << " row " << r << " col " << j << " "
                << matmul_precision_name(matmul_precision()) << (path == MatmulPath::kRows ? " rows" : " gemm");
        }
      }
    }
  }
}

TEST(MatmulBatchInvariance, EachRowEqualsItsSingleRowProduct) {
  for (MatmulPrecision precision : precisions()) {
    const PrecisionScope scope(precision);
    run_batch_invariance();
  }
}

// Products sharing their tokens (q, k, v; gate, up) give the bytes of one call each, whatever the mix
// of types (both arithmetics in one call under kAuto), the split between threads, the path, and with an
// output too small to give every thread a panel; and each matches the double reference, so the equality
// is not two equal mistakes.
void run_shared_products() {
  const int64_t in = 512, ldx = in + 3;
  const std::vector<TestWeight> weights = {make_weight(DType::Q4_K, 96, in, 11), make_weight(DType::Q6_K, 32, in, 12),
                                           make_weight(DType::BF16, 17, in, 13), make_weight(DType::F32, 40, in, 14)};
  std::vector<TensorView> views;
  for (const TestWeight& w : weights) views.push_back(w.view());
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    for (const MatmulPath path : {MatmulPath::kGemm, MatmulPath::kRows}) {
      for (int64_t n : {1, 7, 40}) {
        const std::vector<float> x = random_floats(size_t(n * ldx), uint32_t(n));
        std::vector<std::vector<float>> shared(weights.size()), alone(weights.size());
        std::vector<MatmulOutput> outputs;
        for (size_t i = 0; i < weights.size(); ++i) {
          const int64_t out = weights[i].out;
          shared[i].assign(size_t(n * out), -3.0f);
          alone[i].assign(size_t(n * out), -3.0f);
          outputs.push_back({&views[i], shared[i].data(), out});
          ASSERT_TRUE(matmul(views[i], x.data(), n, ldx, alone[i].data(), out, false, path).is_ok());
        }
        ASSERT_TRUE(matmul_shared(outputs, x.data(), n, ldx, path).is_ok());
        for (size_t i = 0; i < weights.size(); ++i) {
          const std::string what = "shared " + describe(weights[i].type, n, in, weights[i].out) + " threads=" +
                                   std::to_string(threads) + (path == MatmulPath::kRows ? " rows" : " gemm");
          EXPECT_EQ(shared[i], alone[i]) << what << " " << matmul_precision_name(matmul_precision());
          expect_matches(weights[i], all_rows(weights[i].out), x.data(), n, ldx, shared[i].data(), weights[i].out,
                         nullptr, what, path);
        }
      }
    }
  }
  set_num_threads(0);
}

TEST(MatmulShared, EqualsOneCallPerOutput) {
  for (MatmulPrecision precision : {MatmulPrecision::kAuto, MatmulPrecision::kF32, MatmulPrecision::kBf16}) {
    if (precision == MatmulPrecision::kBf16 && !bf16_matmul_supported()) continue;
    const PrecisionScope scope(precision);
    run_shared_products();
  }
}

TEST(MatmulShared, RejectsOutputsThatReadDifferentTokens) {
  const TestWeight a = make_weight(DType::F32, 8, 32, 1), b = make_weight(DType::F32, 8, 48, 2);
  const TensorView va = a.view(), vb = b.view();
  std::vector<float> x(4 * 48), ya(4 * 8), yb(4 * 8);
  const Status mismatch = matmul_shared({{&va, ya.data(), 8}, {&vb, yb.data(), 8}}, x.data(), 4, 48);
  ASSERT_FALSE(mismatch.is_ok());
  EXPECT_NE(mismatch.message().find("'test.F32' reads 48 inputs"), std::string::npos) << mismatch.message();
  EXPECT_FALSE(matmul_shared({{nullptr, ya.data(), 8}}, x.data(), 4, 48).is_ok());
  EXPECT_FALSE(matmul_shared({{&va, ya.data(), 7}}, x.data(), 4, 32).is_ok());  // y stride below out
}

}  // namespace
}  // namespace arbiter
