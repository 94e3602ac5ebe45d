// Dequantization against the reference file: for every block format, random blocks and their
// dequantization by the canonical converter's quant code. Exact, bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/half.h"
#include "io/gguf.h"
#include "quant/dequantize_scalar.h"
#include "quant/dtype.h"

namespace arbiter {
namespace {

const char* const kFixture = ARBITER_SHARED_DIR "/fixtures/quants/random-blocks.gguf";

int64_t ulp_distance(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  // Map sign-magnitude to a monotonic integer line so that -0 and +0 are neighbours.
  const int64_t la = ia < 0 ? int64_t(INT32_MIN) - ia : ia;
  const int64_t lb = ib < 0 ? int64_t(INT32_MIN) - ib : ib;
  return la > lb ? la - lb : lb - la;
}

class DequantizeFixtureTest : public ::testing::TestWithParam<const char*> {};

TEST_P(DequantizeFixtureTest, MatchesReferenceBitForBit) {
  Result<std::shared_ptr<GgufFile>> file = GgufFile::open(kFixture);
  ASSERT_TRUE(file.is_ok()) << file.message();
  const std::string type_name = GetParam();
  const TensorView* quantized = (*file)->tensor("q." + type_name);
  const TensorView* reference = (*file)->tensor("ref." + type_name);
  ASSERT_NE(quantized, nullptr) << type_name;
  ASSERT_NE(reference, nullptr) << type_name;
  ASSERT_EQ(reference->dtype, DType::F32);
  ASSERT_EQ(quantized->shape, reference->shape);
  const DType type = *dtype_from_name(type_name);
  ASSERT_EQ(quantized->dtype, type);

  const int64_t cols = quantized->cols();
  const size_t bytes_per_row = *row_bytes(type, cols);
  const auto* reference_values = static_cast<const float*>(reference->data);
  std::vector<float> fast(cols), scalar(cols);
  int64_t max_ulp = 0, mismatches = 0;
  for (int64_t row = 0; row < quantized->rows(); ++row) {
    const auto* src = static_cast<const uint8_t*>(quantized->data) + row * bytes_per_row;
    dequantize_row(type, src, fast.data(), cols);
    dequantize_row_scalar(type, src, scalar.data(), cols);
    for (int64_t i = 0; i < cols; ++i) {
      const float expected = reference_values[row * cols + i];
      const int64_t ulp = std::max(ulp_distance(fast[i], expected), ulp_distance(scalar[i], expected));
      max_ulp = std::max(max_ulp, ulp);
      if (ulp != 0 && ++mismatches <= 5) {
        ADD_FAILURE() << type_name << " row " << row << " element " << i << ": got " << fast[i] << " / "
                      << scalar[i] << ", reference " << expected;
      }
    }
  }
  EXPECT_EQ(max_ulp, 0) << type_name << ": " << mismatches << " values differ";
}

INSTANTIATE_TEST_SUITE_P(AllBlockFormats, DequantizeFixtureTest,
                         ::testing::Values("Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K",
                                           "Q6_K", "IQ4_NL", "IQ4_XS"),
                         [](const ::testing::TestParamInfo<const char*>& info) { return std::string(info.param); });

// The vectorised paths against the scalar definitions on random bytes, many blocks per row. Scale
// fields are overwritten with finite halves so that every value is a number.
TEST(DequantizeFastPathTest, AgreesWithScalarOnRandomBlocks) {
  struct Case {
    DType type;
    std::vector<size_t> half_offsets;  // f16 scale fields within a block
  };
  const Case cases[] = {
      {DType::Q4_0, {0}}, {DType::Q4_1, {0, 2}}, {DType::Q5_0, {0}},   {DType::Q5_1, {0, 2}},
      {DType::Q8_0, {0}}, {DType::Q2_K, {80, 82}}, {DType::Q3_K, {108}}, {DType::Q4_K, {0, 2}},
      {DType::Q5_K, {0, 2}}, {DType::Q6_K, {208}}, {DType::IQ4_NL, {0}}, {DType::IQ4_XS, {0}},
  };
  std::mt19937 rng(7);
  std::normal_distribution<float> scale_dist(0.0f, 0.05f);
  for (const Case& c : cases) {
    const DTypeInfo info = dtype_info(c.type);
    const int64_t n = info.block_elems * 37;
    std::vector<uint8_t> bytes(*row_bytes(c.type, n));
    for (uint8_t& byte : bytes) byte = uint8_t(rng());
    for (int64_t block = 0; block < n / info.block_elems; ++block) {
      for (size_t offset : c.half_offsets) {
        const uint16_t scale = f32_to_f16(scale_dist(rng));
        std::memcpy(&bytes[block * info.block_bytes + offset], &scale, 2);
      }
    }
    std::vector<float> fast(n), scalar(n);
    dequantize_row(c.type, bytes.data(), fast.data(), n);
    dequantize_row_scalar(c.type, bytes.data(), scalar.data(), n);
    EXPECT_EQ(std::memcmp(fast.data(), scalar.data(), n * sizeof(float)), 0) << info.name;
  }
}

// Every half and bfloat16 bit pattern (NaNs included, compared by being NaN), at an odd length so the
// vector loop's tail runs too.
TEST(DequantizeFastPathTest, HalfAndBfloatAllBitPatterns) {
  std::vector<uint16_t> patterns(65536 + 3);
  for (size_t i = 0; i < patterns.size(); ++i) patterns[i] = uint16_t(i * 40503u);
  const int64_t n = int64_t(patterns.size());
  for (DType type : {DType::F16, DType::BF16}) {
    std::vector<float> fast(n), scalar(n);
    dequantize_row(type, patterns.data(), fast.data(), n);
    dequantize_row_scalar(type, patterns.data(), scalar.data(), n);
    int64_t differing = 0;
    for (int64_t i = 0; i < n; ++i) {
      const bool same = std::isnan(scalar[i]) ? std::isnan(fast[i])
                                              : std::memcmp(&fast[i], &scalar[i], sizeof(float)) == 0;
      differing += !same;
    }
    EXPECT_EQ(differing, 0) << dtype_name(type);
  }
}

}  // namespace
}  // namespace arbiter
