// The CPU attention kernel, in f32 and in bf16 arithmetic, against a float64 softmax-attention
// reference (GQA, sliding windows, softcaps, head sizes that do and do not fill whole vectors, packed
// sequences), and its promise that a query computed alone against cached keys (a decoding step) gives
// the bytes it gets in a prefill.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/half.h"
#include "core/thread_pool.h"
#include "runtime/cpu/attention.h"
#include "runtime/cpu/matmul.h"

namespace arbiter::cpu {
namespace {

struct Case {
  const char* name;
  int64_t heads, kv_heads, head_dim;
  float softcap;
  int64_t window;
};

const Case kCases[] = {
    {"mha_hd64", 4, 4, 64, 0, 0},         {"gqa_hd128", 8, 2, 128, 0, 0},  {"gqa7_hd64", 14, 2, 64, 0, 0},
    {"hd16", 2, 1, 16, 0, 0},             {"hd80", 2, 2, 80, 0, 0},        {"hd36_tail", 3, 1, 36, 0, 0},
    {"window5_hd32", 4, 2, 32, 0, 5},     {"softcap_hd256", 2, 1, 256, 50.0f, 0},
    {"gemma_window37", 4, 2, 64, 30.0f, 37},
};

std::vector<float> random_floats(size_t count, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(count);
  for (float& f : v) f = normal(rng);
  return v;
}

// out[i] for one sequence of `length` rows in float64: softmax over keys max(0, i - window + 1)..i.
std::vector<double> reference(const Case& c, const float* q, const float* k, const float* v, int64_t length,
                              float scale) {
  const int64_t q_stride = c.heads * c.head_dim, kv_stride = c.kv_heads * c.head_dim;
  std::vector<double> out(size_t(length * q_stride));
  for (int64_t h = 0; h < c.heads; ++h) {
    const int64_t kvh = h / (c.heads / c.kv_heads);
    for (int64_t i = 0; i < length; ++i) {
      const int64_t first = c.window > 0 ? std::max<int64_t>(0, i - c.window + 1) : 0;
      std::vector<double> s;
      for (int64_t j = first; j <= i; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < c.head_dim; ++d)
          dot += double(q[i * q_stride + h * c.head_dim + d]) * double(k[j * kv_stride + kvh * c.head_dim + d]);
        dot *= scale;
        if (c.softcap > 0) dot = c.softcap * std::tanh(dot / c.softcap);
        s.push_back(dot);
      }
      const double m = *std::max_element(s.begin(), s.end());
      double denom = 0;
      for (double& x : s) denom += (x = std::exp(x - m));
      for (int64_t d = 0; d < c.head_dim; ++d) {
        double acc = 0;
        for (int64_t j = first; j <= i; ++j) acc += s[size_t(j - first)] * double(v[j * kv_stride + kvh * c.head_dim + d]);
        out[size_t(i * q_stride + h * c.head_dim + d)] = acc / denom;
      }
    }
  }
  return out;
}

std::vector<float> rounded_to_bf16(std::vector<float> v) {
  for (float& f : v) f = bf16_to_f32(f32_to_bf16(f));
  return v;
}

AttentionShape shape_of(const Case& c, bool bf16) {
  AttentionShape s;
  s.num_heads = c.heads;
  s.num_kv_heads = c.kv_heads;
  s.head_dim = c.head_dim;
  s.scale = 1.0f / std::sqrt(float(c.head_dim));
  s.softcap = c.softcap;
  s.sliding_window = c.window;
  s.bf16_values = bf16;
  return s;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// (shape, bf16 arithmetic)
class Attention : public ::testing::TestWithParam<std::tuple<Case, bool>> {
 protected:
  void SetUp() override {
    if (bf16() && !bf16_matmul_supported()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  }
  const Case& shape_case() const { return std::get<0>(GetParam()); }
  bool bf16() const { return std::get<1>(GetParam()); }
  AttentionShape shape() const { return shape_of(shape_case(), bf16()); }
};

TEST_P(Attention, PackedSequencesMatchTheFloat64Reference) {
  const Case& c = shape_case();
  const AttentionShape shape = this->shape();
  const std::vector<int64_t> lengths = {1, 5, 33, 70};
  std::vector<int64_t> offsets = {0};
  for (int64_t n : lengths) offsets.push_back(offsets.back() + n);
  const int64_t total = offsets.back(), q_stride = c.heads * c.head_dim, kv_stride = c.kv_heads * c.head_dim;
  const std::vector<float> q = random_floats(size_t(total * q_stride), 1, 1.5f);
  const std::vector<float> k = random_floats(size_t(total * kv_stride), 2, 1.5f);
  const std::vector<float> v = random_floats(size_t(total * kv_stride), 3, 1.0f);
  std::vector<float> out(q.size(), NAN);
  causal_attention(q.data(), k.data(), v.data(), out.data(), offsets, shape);
  if (bf16()) {  // the bound below would also hold for f32 arithmetic: check that bf16 was used
    AttentionShape f32_shape = shape;
    f32_shape.bf16_values = false;
    std::vector<float> f32_out(q.size());
    causal_attention(q.data(), k.data(), v.data(), f32_out.data(), offsets, f32_shape);
    EXPECT_NE(std::memcmp(out.data(), f32_out.data(), out.size() * sizeof(float)), 0) << c.name;
  }
  // In bf16 arithmetic the reference takes the rounded values; what remains is the rounding of each
  // softmax weight (2^-9 relative), which moves a weighted mean of values by at most 2^-9 x max |v|.
  const std::vector<float> v_in = bf16() ? rounded_to_bf16(v) : v;
  double max_value = 0;
  for (float f : v_in) max_value = std::max(max_value, std::fabs(double(f)));
  const double bound = 1e-5 + (bf16() ? std::ldexp(max_value, -9) : 0.0);
  for (size_t s = 0; s < lengths.size(); ++s) {
    const int64_t row = offsets[s];
    const std::vector<double> want = reference(c, q.data() + row * q_stride, k.data() + row * kv_stride,
                                               v_in.data() + row * kv_stride, lengths[s], shape.scale);
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      // Outputs are weighted means of values of size ~1, so the bound is absolute: a score's f32 error
      // (eps 6e-8 x scale x sum |q k|, about 30 here) passes into the weights as a relative error.
      worst = std::max(worst, std::fabs(double(out[size_t(row * q_stride) + i]) - want[i]));
    }
    EXPECT_LE(worst, bound) << c.name << " sequence " << s << " (" << lengths[s] << " tokens)";
  }
}

TEST_P(Attention, AQueryAloneGivesItsPrefillBytes) {
  const Case& c = shape_case();
  const AttentionShape shape = this->shape();
  const int64_t length = 45, q_stride = c.heads * c.head_dim, kv_stride = c.kv_heads * c.head_dim;
  const std::vector<float> q = random_floats(size_t(length * q_stride), 4, 1.5f);
  const std::vector<float> k = random_floats(size_t(length * kv_stride), 5, 1.5f);
  const std::vector<float> v = random_floats(size_t(length * kv_stride), 6, 1.0f);
  std::vector<float> prefill(q.size());
  causal_attention(q.data(), k.data(), v.data(), prefill.data(), {0, length}, shape);
  for (int64_t p = 0; p < length; ++p) {
    // Position p as a decoding step: one query, the keys of positions 0..p as the cache.
    std::vector<float> step(static_cast<size_t>(q_stride));
    const AttentionSpan span{0, 1, p, k.data(), v.data()};
    causal_attention(q.data() + p * q_stride, step.data(), {span}, shape);
    ASSERT_EQ(std::memcmp(step.data(), prefill.data() + p * q_stride, size_t(q_stride) * sizeof(float)), 0)
        << c.name << " position " << p;
  }
}

TEST_P(Attention, SameBytesForAnyThreadCount) {
  const Case& c = shape_case();
  const AttentionShape shape = this->shape();
  const std::vector<int64_t> offsets = {0, 17, 60, 61};
  const int64_t total = offsets.back(), q_stride = c.heads * c.head_dim, kv_stride = c.kv_heads * c.head_dim;
  const std::vector<float> q = random_floats(size_t(total * q_stride), 7, 1.5f);
  const std::vector<float> k = random_floats(size_t(total * kv_stride), 8, 1.5f);
  const std::vector<float> v = random_floats(size_t(total * kv_stride), 9, 1.0f);
  std::vector<float> one(q.size()), two(q.size());
  set_num_threads(1);
  causal_attention(q.data(), k.data(), v.data(), one.data(), offsets, shape);
  set_num_threads(2);
  causal_attention(q.data(), k.data(), v.data(), two.data(), offsets, shape);
  set_num_threads(0);
  EXPECT_EQ(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)), 0) << c.name;
}

INSTANTIATE_TEST_SUITE_P(Shapes, Attention, ::testing::Combine(::testing::ValuesIn(kCases), ::testing::Bool()),
                         [](const ::testing::TestParamInfo<std::tuple<Case, bool>>& info) {
                           return std::string(std::get<0>(info.param).name) + (std::get<1>(info.param) ? "_bf16" : "_f32");
                         });

}  // namespace
}  // namespace arbiter::cpu
