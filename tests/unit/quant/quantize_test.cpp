// Quantizers: byte identity with the canonical converter's Q8_0 files, the reference rounding rules
// on hand-made blocks, and round-trip error on Gaussian data for every format.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "core/half.h"
#include "io/gguf.h"
#include "quant/dtype.h"
#include "quant/quantize.h"
#include "quant/quantize_impl.h"

namespace arbiter {
namespace {

// For every Q8_0 tensor of <model>.q8_0.gguf, quantizing the same tensor of <model>.f32.gguf must give
// the same bytes.
class Q8_0ConverterIdentityTest : public ::testing::TestWithParam<const char*> {};

TEST_P(Q8_0ConverterIdentityTest, QuantizedBytesMatchTheConverter) {
  const std::string dir = ARBITER_SHARED_DIR "/fixtures/gguf/";
  const std::string model = GetParam();
  Result<std::shared_ptr<GgufFile>> f32_file = GgufFile::open(dir + model + ".f32.gguf");
  Result<std::shared_ptr<GgufFile>> q8_file = GgufFile::open(dir + model + ".q8_0.gguf");
  ASSERT_TRUE(f32_file.is_ok()) << f32_file.message();
  ASSERT_TRUE(q8_file.is_ok()) << q8_file.message();
  int compared = 0;
  for (const TensorView& quantized : (*q8_file)->tensors()) {
    if (quantized.dtype != DType::Q8_0) continue;
    const TensorView* original = (*f32_file)->tensor(quantized.name);
    ASSERT_NE(original, nullptr) << quantized.name;
    ASSERT_EQ(original->dtype, DType::F32) << quantized.name;
    ASSERT_EQ(original->shape, quantized.shape) << quantized.name;
    const int64_t cols = quantized.cols();
    const size_t bytes_per_row = *row_bytes(DType::Q8_0, cols);
    std::vector<uint8_t> ours(bytes_per_row * quantized.rows());
    for (int64_t row = 0; row < quantized.rows(); ++row) {
      quantize_row(DType::Q8_0, static_cast<const float*>(original->data) + row * cols,
                   ours.data() + row * bytes_per_row, cols);
    }
    ASSERT_EQ(quantized.nbytes, ours.size()) << quantized.name;
    const auto* theirs = static_cast<const uint8_t*>(quantized.data);
    size_t differing = 0;
    for (size_t i = 0; i < ours.size(); ++i) differing += ours[i] != theirs[i];
    EXPECT_EQ(differing, 0u) << model << " " << quantized.name << ": " << differing << " of " << ours.size()
                             << " bytes differ";
    ++compared;
  }
  EXPECT_GE(compared, 7) << model << ": expected the projection matrices of 3 layers to be Q8_0";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Q8_0ConverterIdentityTest,
                         ::testing::Values("llama", "llama-bf16", "mistral", "qwen2", "gemma2"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

TEST(QuantizeTest, Q8_0RoundsHalvesAwayFromZero) {
  // amax 127 makes d = 1 exactly, so x * id is x and the rounding rule shows directly.
  float x[32] = {127.0f, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 0.49f, -126.5f};
  uint8_t block[34];
  quantize_row(DType::Q8_0, x, block, 32);
  EXPECT_EQ(block[0] | block[1] << 8, 0x3c00);  // d = 1
  const auto* q = reinterpret_cast<const int8_t*>(block + 2);
  EXPECT_EQ(q[0], 127);
  EXPECT_EQ(q[1], 1);
  EXPECT_EQ(q[2], -1);
  EXPECT_EQ(q[3], 2);
  EXPECT_EQ(q[4], 3);
  EXPECT_EQ(q[5], -3);
  EXPECT_EQ(q[6], 0);
  EXPECT_EQ(q[7], -127);
  EXPECT_EQ(q[8], 0);
}

TEST(QuantizeTest, Q4_0ScaleComesFromTheSignedMaximum) {
  // The largest magnitude is -8, so d = -8 / -8 = 1 and codes are trunc(x + 8.5) clamped to 15.
  float x[32] = {-8.0f, 7.0f, 0.5f, -0.5f, 7.9f, 2.0f};
  uint8_t block[18];
  quantize_row(DType::Q4_0, x, block, 32);
  EXPECT_EQ(block[0] | block[1] << 8, 0x3c00);
  const uint8_t* qs = block + 2;
  EXPECT_EQ(qs[0] & 0x0f, 0);   // -8
  EXPECT_EQ(qs[1] & 0x0f, 15);  // 7
  EXPECT_EQ(qs[2] & 0x0f, 9);   // 0.5 + 8.5 = 9
  EXPECT_EQ(qs[3] & 0x0f, 8);   // -0.5 + 8.5 = 8
  EXPECT_EQ(qs[4] & 0x0f, 15);  // 16.4 clamps to 15
  EXPECT_EQ(qs[5] & 0x0f, 10);
  EXPECT_EQ(qs[0] >> 4, 8);     // element 16 is 0
}

TEST(QuantizeTest, ZeroBlocksStayZero) {
  const std::vector<float> zeros(256, 0.0f);
  std::vector<float> back(256);
  for (DType type : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q4_K, DType::Q5_K,
                     DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS, DType::Q2_K, DType::Q3_K}) {
    std::vector<uint8_t> bytes(*row_bytes(type, 256), 0xff);
    quantize_row(type, zeros.data(), bytes.data(), 256);
    dequantize_row(type, bytes.data(), back.data(), 256);
    for (float v : back) ASSERT_EQ(v, 0.0f) << dtype_name(type);
  }
}

TEST(QuantizeTest, NonFiniteInputDoesNotCrash) {
  std::vector<float> x(256, 1.0f);
  x[3] = NAN;
  x[70] = INFINITY;
  x[200] = -INFINITY;
  for (DType type : {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q4_K, DType::Q5_K,
                     DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS, DType::Q2_K, DType::Q3_K}) {
    std::vector<uint8_t> bytes(*row_bytes(type, 256));
    quantize_row(type, x.data(), bytes.data(), 256);
  }
}

TEST(QuantizeTest, SupportedTypes) {
  for (DType type : {DType::F32, DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                     DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS, DType::Q2_K, DType::Q3_K}) {
    EXPECT_TRUE(can_quantize(type)) << dtype_name(type);
  }
  for (DType type : {DType::Q8_1, DType::Q8_K, DType::I32}) {
    EXPECT_FALSE(can_quantize(type)) << dtype_name(type);
  }
}

TEST(QuantizeTest, HalfAndBfloatUseNearestEven) {
  const float x[3] = {1.0f + 0x1p-11f, 65520.0f, 1.00390625f};  // f16 tie, f16 overflow, bf16 tie
  uint16_t out[3];
  quantize_row(DType::F16, x, out, 3);
  EXPECT_EQ(out[0], 0x3c00);
  EXPECT_EQ(out[1], 0x7c00);
  quantize_row(DType::BF16, x, out, 3);
  EXPECT_EQ(out[2], 0x3f80);
}

// Relative RMS error of quantize -> dequantize on N(0, 1) rows. Bounds: the uniform-rounding estimate
// step / sqrt(12) per format plus about 15%; e.g. Q8_0's step is amax / 127 with amax of 32 Gaussians
// about 2.3, so 0.0051 is its floor, and 4-bit formats sit near 0.07-0.09. Q2_K's is tighter (0.297
// measured): its scale search is worth only 10% (0.328 with the plain range fit alone).
struct RoundTripCase {
  DType type;
  double max_relative_rmse;
};

void PrintTo(const RoundTripCase& c, std::ostream* os) { *os << dtype_name(c.type) << " < " << c.max_relative_rmse; }

double round_trip_relative_rmse(DType type) {
  const int64_t n = 4096 * 16;
  std::mt19937 rng(1234);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n), back(n);
  for (float& v : x) v = normal(rng);
  std::vector<uint8_t> bytes(*row_bytes(type, n));
  quantize_row(type, x.data(), bytes.data(), n);
  dequantize_row(type, bytes.data(), back.data(), n);
  double err2 = 0, ref2 = 0;
  for (int64_t i = 0; i < n; ++i) {
    err2 += double(x[i] - back[i]) * double(x[i] - back[i]);
    ref2 += double(x[i]) * double(x[i]);
  }
  return std::sqrt(err2 / ref2);
}

class RoundTripTest : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(RoundTripTest, RelativeRmseWithinBound) {
  const DType type = GetParam().type;
  const double relative_rmse = round_trip_relative_rmse(type);
  RecordProperty("relative_rmse", std::to_string(relative_rmse));
  EXPECT_LT(relative_rmse, GetParam().max_relative_rmse) << dtype_name(type);
}

INSTANTIATE_TEST_SUITE_P(Formats, RoundTripTest,
                         ::testing::Values(RoundTripCase{DType::F16, 3e-4}, RoundTripCase{DType::BF16, 2e-3},
                                           RoundTripCase{DType::Q8_0, 6e-3}, RoundTripCase{DType::Q6_K, 2e-2},
                                           RoundTripCase{DType::Q5_K, 4e-2}, RoundTripCase{DType::Q5_1, 4.3e-2},
                                           RoundTripCase{DType::Q5_0, 4.8e-2}, RoundTripCase{DType::Q4_K, 8e-2},
                                           RoundTripCase{DType::Q4_1, 9e-2}, RoundTripCase{DType::Q4_0, 9.8e-2},
                                           RoundTripCase{DType::IQ4_NL, 8.8e-2}, RoundTripCase{DType::IQ4_XS, 8.8e-2},
                                           RoundTripCase{DType::Q3_K, 0.175}, RoundTripCase{DType::Q2_K, 0.31}),
                         [](const ::testing::TestParamInfo<RoundTripCase>& info) {
                           return std::string(dtype_name(info.param.type));
                         });

// The K-quants' scale searches must beat the plain min/max formats of the same width; a search that
// silently fell back to its first guess would not.
TEST(RoundTripTest, SearchedScalesBeatPlainOnes) {
  EXPECT_LT(round_trip_relative_rmse(DType::Q4_K), round_trip_relative_rmse(DType::Q4_1));
  EXPECT_LT(round_trip_relative_rmse(DType::Q4_1), round_trip_relative_rmse(DType::Q4_0));
  EXPECT_LT(round_trip_relative_rmse(DType::Q5_K), round_trip_relative_rmse(DType::Q5_1));
  EXPECT_LT(round_trip_relative_rmse(DType::Q5_1), round_trip_relative_rmse(DType::Q5_0));
  EXPECT_LT(round_trip_relative_rmse(DType::Q6_K), round_trip_relative_rmse(DType::Q5_K));
  // Non-linear levels placed for bell-shaped weights, with a searched scale, beat Q4_0's uniform ones.
  EXPECT_LT(round_trip_relative_rmse(DType::IQ4_NL), round_trip_relative_rmse(DType::Q4_0));
  EXPECT_LT(round_trip_relative_rmse(DType::IQ4_XS), round_trip_relative_rmse(DType::Q4_0));
  EXPECT_LT(round_trip_relative_rmse(DType::Q4_K), round_trip_relative_rmse(DType::Q3_K));
  EXPECT_LT(round_trip_relative_rmse(DType::Q3_K), round_trip_relative_rmse(DType::Q2_K));
}

// The level search IQ4 quantization runs 16 times per weight counts instead of bisecting; it must pick
// what the reference's bisection picks, including at every midpoint between two levels (where the float
// comparison of the two distances decides), next to each level, beyond the ends, and for NaN.
TEST(QuantizeTest, Iq4NearestLevelAgreesWithBisection) {
  constexpr int8_t kLevels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
  auto bisection = [&](float x) {
    if (x <= kLevels[0]) return 0;
    if (x >= kLevels[15]) return 15;
    int below = 0, above = 15;
    while (above - below > 1) {
      const int middle = (below + above) / 2;
      if (x < kLevels[middle]) {
        above = middle;
      } else {
        below = middle;
      }
    }
    return x - kLevels[above - 1] < kLevels[above] - x ? above - 1 : above;
  };
  std::vector<float> probes = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e30f, -1e30f};
  for (int i = 0; i < 16; ++i) {
    for (int j = i; j < 16; ++j) {
      for (float start : {float(kLevels[i]), 0.5f * float(kLevels[i] + kLevels[j])}) {
        float up = start, down = start;
        for (int k = 0; k < 64; ++k, up = std::nextafter(up, INFINITY), down = std::nextafter(down, -INFINITY)) {
          probes.push_back(up);
          probes.push_back(down);
        }
      }
    }
  }
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-140.0f, 130.0f);
  for (int k = 0; k < 100000; ++k) probes.push_back(uniform(rng));
  int64_t differing = 0;
  for (float x : probes) differing += quant::iq4_nearest_level(x) != bisection(x);
  EXPECT_EQ(differing, 0) << "of " << probes.size();
}

// Q3_K: groups of 16 whose values are k_g * u * c, c in -4..3 with -4 present (the plain fit's anchor),
// k_g in 1..32: every group scale is a 6-bit multiple of the largest / 32, so the block holds them
// exactly and the values come back exactly.
TEST(QuantizeTest, Q3_KCodesAtTheirOwnScalesComeBackExactly) {
  const float unit = 0x1p-6f;
  std::vector<float> x(256);
  for (int g = 0; g < 16; ++g) {
    const int multiple = g == 0 ? 32 : 1 + (g * 7) % 31;
    for (int l = 0; l < 16; ++l) x[16 * g + l] = unit * float(multiple) * float(l == 0 ? -4 : (l * 5 + g) % 8 - 4);
  }
  std::vector<uint8_t> bytes(*row_bytes(DType::Q3_K, 256));
  std::vector<float> back(256);
  quantize_row(DType::Q3_K, x.data(), bytes.data(), 256);
  dequantize_row(DType::Q3_K, bytes.data(), back.data(), 256);
  for (int i = 0; i < 256; ++i) ASSERT_EQ(back[i], x[i]) << "element " << i;
}

// Values that are exactly d * kIq4Values[i] come back exactly: the scale search reaches the plain scale
// 1 / d (its attempt 0), whose fit is perfect. Each IQ4_XS group has its own multiple of the
// super-block's scale (l in [-32, 31]), and the largest group's negative maximum fixes the sign of d.
TEST(QuantizeTest, Iq4LevelsAtTheirOwnScaleComeBackExactly) {
  constexpr int8_t kLevels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
  std::vector<float> x(256);
  for (int g = 0; g < 8; ++g) {
    const float group_scale = 0.0625f * float(32 - 3 * g);  // multiples 32, 29, ..., 11 of 1/16
    for (int j = 0; j < 32; ++j) x[32 * g + j] = group_scale * float(kLevels[(j * 7 + g) % 16]);
  }
  for (DType type : {DType::IQ4_NL, DType::IQ4_XS}) {
    std::vector<uint8_t> bytes(*row_bytes(type, 256));
    std::vector<float> back(256);
    quantize_row(type, x.data(), bytes.data(), 256);
    dequantize_row(type, bytes.data(), back.data(), 256);
    for (int i = 0; i < 256; ++i) ASSERT_NEAR(back[i], x[i], 1e-5f * std::fabs(x[i])) << dtype_name(type) << " element " << i;
  }
}

}  // namespace
}  // namespace arbiter
