// Quantize -> dequantize error of every output format, on random Gaussian data and on the real trained
// weights of stories260K. Prints the table BENCHMARKS.md carries and checks the formats keep their
// expected order and stay under loose bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "io/gguf.h"
#include "quant/quantize.h"

namespace arbiter {
namespace {

const DType kFormats[] = {DType::F16, DType::BF16, DType::Q8_0, DType::Q6_K, DType::Q5_K, DType::Q5_1,
                          DType::Q5_0, DType::Q4_K, DType::Q4_1, DType::Q4_0, DType::IQ4_NL, DType::IQ4_XS, DType::Q3_K, DType::Q2_K};

struct Error {
  double rmse = 0;
  double relative = 0;  // rmse / rms of the data
};

// Rows of 256 values (every format's block divides 256).
Error round_trip_error(DType type, const std::vector<float>& values) {
  const int64_t n = 256;
  const size_t bytes = *row_bytes(type, n);
  std::vector<uint8_t> q(bytes);
  std::vector<float> back(n);
  double sum_sq = 0, sum_ref = 0;
  for (size_t start = 0; start + n <= values.size(); start += n) {
    quantize_row(type, values.data() + start, q.data(), n);
    dequantize_row(type, q.data(), back.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double e = double(back[i]) - double(values[start + i]);
      sum_sq += e * e;
      sum_ref += double(values[start + i]) * double(values[start + i]);
    }
  }
  const double count = double(values.size() / n * n);
  Error err;
  err.rmse = std::sqrt(sum_sq / count);
  err.relative = err.rmse / std::sqrt(sum_ref / count);
  return err;
}

std::vector<float> gaussian(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// Every 2-D weight of stories260K as f32, concatenated: its rows are 64 wide, so 256-value rows
// here span four of them (the same values a K-quant would see in a model with wider rows).
std::vector<float> stories_weights() {
  auto gguf = GgufFile::open(std::string(ARBITER_SHARED_DIR) + "/models/stories260K/stories260K.gguf");
  EXPECT_TRUE(gguf.is_ok()) << gguf.message();
  std::vector<float> all;
  if (!gguf.is_ok()) return all;
  for (const TensorView& t : (*gguf)->tensors()) {
    if (t.shape.size() != 2 || !can_dequantize(t.dtype)) continue;
    const size_t at = all.size();
    all.resize(at + size_t(t.numel()));
    dequantize_row(t.dtype, t.data, all.data() + at, t.numel());
  }
  return all;
}

TEST(QuantRmse, TableAndOrdering) {
  const std::vector<float> random = gaussian(size_t(1) << 20, 1234);
  const std::vector<float> real = stories_weights();
  ASSERT_GT(real.size(), size_t(100000));
  std::printf("| format | bits/weight | RMSE N(0,1) | relative | RMSE stories260K | relative |\n");
  std::printf("| --- | --- | --- | --- | --- | --- |\n");
  std::vector<Error> random_errors, real_errors;
  for (DType type : kFormats) {
    const Error r = round_trip_error(type, random);
    const Error s = round_trip_error(type, real);
    const double bits = 8.0 * double(dtype_info(type).block_bytes) / double(dtype_info(type).block_elems);
    std::printf("| %s | %.4g | %.3e | %.3e | %.3e | %.3e |\n", dtype_name(type), bits, r.rmse, r.relative, s.rmse,
                s.relative);
    random_errors.push_back(r);
    real_errors.push_back(s);
  }
  // Ceilings on the relative error about 1.25x what these formats measure on both data sets, then the
  // order of precision the bits per weight promise.
  const double ceilings[] = {2.6e-4, 2.2e-3, 7e-3,    2.2e-2,  4.6e-2, 4.8e-2,
                             5.4e-2, 9.4e-2, 1.05e-1, 1.08e-1, 9.6e-2, 9.6e-2, 0.19, 0.38};
  for (size_t i = 0; i < std::size(kFormats); ++i) {
    EXPECT_LT(random_errors[i].relative, ceilings[i]) << dtype_name(kFormats[i]) << " on random data";
    EXPECT_LT(real_errors[i].relative, ceilings[i]) << dtype_name(kFormats[i]) << " on stories260K";
  }
  auto at = [&](DType t) {
    for (size_t i = 0; i < std::size(kFormats); ++i)
      if (kFormats[i] == t) return random_errors[i].relative;
    return 0.0;
  };
  EXPECT_LT(at(DType::F16), at(DType::BF16));
  EXPECT_LT(at(DType::Q8_0), at(DType::Q6_K));
  EXPECT_LT(at(DType::Q6_K), at(DType::Q5_K));
  EXPECT_LT(at(DType::Q5_K), at(DType::Q4_K));
  EXPECT_LT(at(DType::Q5_1), at(DType::Q4_1));
  EXPECT_LT(at(DType::Q5_0), at(DType::Q4_0));
  EXPECT_LT(at(DType::Q4_K), at(DType::Q4_0));
  EXPECT_LT(at(DType::IQ4_NL), at(DType::Q4_0));
  EXPECT_LT(at(DType::IQ4_XS), at(DType::Q4_0));
  EXPECT_LT(at(DType::Q4_K), at(DType::Q3_K));
  EXPECT_LT(at(DType::Q3_K), at(DType::Q2_K));
}

}  // namespace
}  // namespace arbiter
