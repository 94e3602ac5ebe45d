// Dequantization of hand-built blocks whose values follow from the format definitions (ggml's block
// layouts), so that each test pins down one piece of a layout: nibble order, high-bit placement,
// packed scales and mins. The exhaustive check against the reference file is dequantize_fixture_test.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "quant/dtype.h"
#include "quant/dequantize_scalar.h"

namespace arbiter {
namespace {

// f16 bit patterns of the scales used below.
constexpr uint16_t kHalfQuarter = 0x3400;    // 0.25
constexpr uint16_t kHalfHalf = 0x3800;       // 0.5
constexpr uint16_t kHalfOne = 0x3c00;        // 1
constexpr uint16_t kHalfTwo = 0x4000;        // 2
constexpr uint16_t kHalfMinusThree = 0xc200; // -3

void put_u16(std::vector<uint8_t>& block, size_t offset, uint16_t value) {
  block[offset] = uint8_t(value & 0xff);
  block[offset + 1] = uint8_t(value >> 8);
}

// Dequantizes one block with both the vectorised and the scalar path; they must agree bitwise.
std::vector<float> dequantize_block(DType type, const std::vector<uint8_t>& block) {
  const DTypeInfo info = dtype_info(type);
  EXPECT_EQ(block.size(), info.block_bytes) << info.name;
  std::vector<float> fast(info.block_elems), scalar(info.block_elems);
  dequantize_row(type, block.data(), fast.data(), info.block_elems);
  dequantize_row_scalar(type, block.data(), scalar.data(), info.block_elems);
  EXPECT_EQ(std::memcmp(fast.data(), scalar.data(), fast.size() * sizeof(float)), 0) << info.name;
  return fast;
}

TEST(DequantizeBlocksTest, Q8_0IsScaleTimesSignedByte) {
  std::vector<uint8_t> block(34);
  put_u16(block, 0, kHalfHalf);
  for (int j = 0; j < 32; ++j) block[2 + j] = uint8_t(int8_t(8 * j - 128));
  const std::vector<float> x = dequantize_block(DType::Q8_0, block);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(x[j], 0.5f * float(8 * j - 128)) << j;
}

TEST(DequantizeBlocksTest, Q4_0LowNibblesFirstHalfHighNibblesSecond) {
  std::vector<uint8_t> block(18);
  put_u16(block, 0, kHalfTwo);
  for (int j = 0; j < 16; ++j) block[2 + j] = uint8_t(j | (15 - j) << 4);
  const std::vector<float> x = dequantize_block(DType::Q4_0, block);
  EXPECT_EQ(x[0], -16.0f);   // 2 * (0 - 8)
  EXPECT_EQ(x[15], 14.0f);   // 2 * (15 - 8)
  EXPECT_EQ(x[16], 14.0f);   // high nibble of byte 0 is 15
  EXPECT_EQ(x[31], -16.0f);  // high nibble of byte 15 is 0
  EXPECT_EQ(x[8], 0.0f);
}

TEST(DequantizeBlocksTest, Q4_1AddsTheMinimum) {
  std::vector<uint8_t> block(20);
  put_u16(block, 0, kHalfHalf);
  put_u16(block, 2, kHalfMinusThree);
  for (int j = 0; j < 16; ++j) block[4 + j] = uint8_t(j | (15 - j) << 4);
  const std::vector<float> x = dequantize_block(DType::Q4_1, block);
  EXPECT_EQ(x[0], -3.0f);
  EXPECT_EQ(x[15], 4.5f);   // 0.5 * 15 - 3
  EXPECT_EQ(x[16], 4.5f);
  EXPECT_EQ(x[17], 4.0f);   // 0.5 * 14 - 3
  EXPECT_EQ(x[31], -3.0f);
}

// Q5: bit j of the little-endian u32 qh is bit 4 of element j.
std::vector<uint8_t> q5_payload() {
  std::vector<uint8_t> payload(20, 0x88);  // qh[4], qs[16]
  payload[0] = 0x01;                       // element 0
  payload[1] = payload[2] = 0x00;
  payload[3] = 0x80;   // element 31
  payload[4] = 0x3f;   // qs[0]: element 0 low = 15, element 16 = 3
  payload[19] = 0xa5;  // qs[15]: element 15 = 5, element 31 low = 10
  return payload;
}

TEST(DequantizeBlocksTest, Q5_0HighBitsComeFromQh) {
  std::vector<uint8_t> block(2);
  put_u16(block, 0, kHalfHalf);
  const std::vector<uint8_t> payload = q5_payload();
  block.insert(block.end(), payload.begin(), payload.end());
  const std::vector<float> x = dequantize_block(DType::Q5_0, block);
  EXPECT_EQ(x[0], 7.5f);    // 0.5 * (31 - 16)
  EXPECT_EQ(x[16], -6.5f);  // 0.5 * (3 - 16)
  EXPECT_EQ(x[15], -5.5f);  // 0.5 * (5 - 16)
  EXPECT_EQ(x[31], 5.0f);   // 0.5 * (26 - 16)
  EXPECT_EQ(x[1], -4.0f);   // 0.5 * (8 - 16)
}

TEST(DequantizeBlocksTest, Q5_1HighBitsAndMinimum) {
  std::vector<uint8_t> block(4);
  put_u16(block, 0, kHalfHalf);
  put_u16(block, 2, kHalfOne);
  const std::vector<uint8_t> payload = q5_payload();
  block.insert(block.end(), payload.begin(), payload.end());
  const std::vector<float> x = dequantize_block(DType::Q5_1, block);
  EXPECT_EQ(x[0], 16.5f);  // 0.5 * 31 + 1
  EXPECT_EQ(x[16], 2.5f);
  EXPECT_EQ(x[15], 3.5f);
  EXPECT_EQ(x[31], 14.0f);
  EXPECT_EQ(x[1], 5.0f);
}

TEST(DequantizeBlocksTest, Q2_KTwoBitPlanesAndNibbleScales) {
  std::vector<uint8_t> block(84, 0);
  for (int g = 0; g < 16; ++g) block[g] = uint8_t(g | (15 - g) << 4);  // scale g, min 15 - g
  block[16 + 0] = 0xe4;   // qs[0]: elements 0, 32, 64, 96 get 0, 1, 2, 3
  block[16 + 63] = 0xc0;  // qs[63]: element 255 gets 3
  put_u16(block, 80, kHalfOne);
  put_u16(block, 82, kHalfQuarter);
  const std::vector<float> x = dequantize_block(DType::Q2_K, block);
  EXPECT_EQ(x[0], -3.75f);   // 0 * 0 - 0.25 * 15
  EXPECT_EQ(x[1], -3.75f);
  EXPECT_EQ(x[32], -1.25f);  // group 2: 2 * 1 - 0.25 * 13
  EXPECT_EQ(x[64], 5.25f);   // group 4: 4 * 2 - 0.25 * 11
  EXPECT_EQ(x[96], 15.75f);  // group 6: 6 * 3 - 0.25 * 9
  EXPECT_EQ(x[255], 45.0f);  // group 15: 15 * 3 - 0
}

TEST(DequantizeBlocksTest, Q3_KSignedScalesAndInvertedHighBit) {
  std::vector<uint8_t> block(110, 0);
  uint8_t* hmask = block.data();
  uint8_t* qs = block.data() + 32;
  uint8_t* scales = block.data() + 96;
  std::memset(hmask, 0xff, 32);  // high bit set: no -4 offset
  hmask[1] = 0xfe;               // element 1: offset -4
  hmask[31] = 0x7f;              // element 255: offset -4
  qs[0] = 0x03;                  // element 0: low bits 3
  qs[63] = 0x80;                 // element 255: low bits 2
  // Every scale 32 (= 0) except scale 0 = 33 (+1) and scale 15 = 27 (-5).
  std::memset(scales + 8, 0xaa, 4);
  scales[0] = 0x01;
  scales[7] = 0xb0;
  scales[11] = 0x6a;
  put_u16(block, 108, kHalfTwo);
  const std::vector<float> x = dequantize_block(DType::Q3_K, block);
  EXPECT_EQ(x[0], 6.0f);     // (2 * 1) * 3
  EXPECT_EQ(x[1], -8.0f);    // (2 * 1) * (0 - 4)
  EXPECT_EQ(x[255], 20.0f);  // (2 * -5) * (2 - 4)
  EXPECT_EQ(x[2], 0.0f);
  EXPECT_EQ(x[80], 0.0f);
}

// Q4_K / Q5_K scales: groups 0..3 = (1, 0) (2, 1) (3, 2) (4, 3); group 4 = (37, 58), which needs the
// packed high bits; groups 5..7 = (5, 0).
void put_k_scales(uint8_t* scales) {
  const uint8_t packed[12] = {0x81, 2, 3, 4, 0xc0, 1, 2, 3, 0xa5, 5, 5, 5};
  std::memcpy(scales, packed, 12);
}

TEST(DequantizeBlocksTest, Q4_KPackedScalesAndMins) {
  std::vector<uint8_t> block(144, 0);
  put_u16(block, 0, kHalfOne);
  put_u16(block, 2, kHalfHalf);
  put_k_scales(block.data() + 4);
  uint8_t* qs = block.data() + 16;
  qs[0] = 0x07;        // element 0 = 7, element 32 = 0
  qs[64 + 6] = 0x03;   // element 134 (group 4) = 3
  qs[64 + 5] = 0xf0;   // element 165 (group 5) = 15
  qs[127] = 0x21;      // element 223 = 1, element 255 = 2
  const std::vector<float> x = dequantize_block(DType::Q4_K, block);
  EXPECT_EQ(x[0], 7.0f);
  EXPECT_EQ(x[1], 0.0f);
  EXPECT_EQ(x[32], -0.5f);   // - 0.5 * 1
  EXPECT_EQ(x[96], -1.5f);   // - 0.5 * 3
  EXPECT_EQ(x[128], -29.0f); // - 0.5 * 58
  EXPECT_EQ(x[134], 82.0f);  // 37 * 3 - 29
  EXPECT_EQ(x[165], 75.0f);  // 5 * 15
  EXPECT_EQ(x[223], 5.0f);
  EXPECT_EQ(x[255], 10.0f);
}

TEST(DequantizeBlocksTest, Q5_KFifthBitPerGroup) {
  std::vector<uint8_t> block(176, 0);
  put_u16(block, 0, kHalfOne);
  put_u16(block, 2, kHalfHalf);
  put_k_scales(block.data() + 4);
  uint8_t* qh = block.data() + 16;
  uint8_t* qs = block.data() + 48;
  qs[0] = 0x07;
  qs[64 + 6] = 0x03;
  qs[127] = 0x21;
  qh[0] = 0x01;   // element 0
  qh[6] = 0x10;   // element 32 * 4 + 6 = 134
  qh[31] = 0x80;  // element 255
  const std::vector<float> x = dequantize_block(DType::Q5_K, block);
  EXPECT_EQ(x[0], 23.0f);    // 1 * (7 + 16)
  EXPECT_EQ(x[32], -0.5f);
  EXPECT_EQ(x[134], 674.0f); // 37 * (3 + 16) - 29
  EXPECT_EQ(x[223], 5.0f);
  EXPECT_EQ(x[255], 90.0f);  // 5 * (2 + 16)
}

TEST(DequantizeBlocksTest, Q6_KSplitLowAndHighBits) {
  std::vector<uint8_t> block(210, 0);
  uint8_t* ql = block.data();
  uint8_t* qh = block.data() + 128;
  auto* scales = reinterpret_cast<int8_t*>(block.data() + 192);
  for (int g = 0; g < 16; ++g) scales[g] = int8_t(g - 8);
  put_u16(block, 208, kHalfHalf);
  ql[0] = 0x95;   // element 0 low = 5, element 64 low = 9
  qh[0] = 0x12;   // element 0 high = 2, element 32 high = 0, element 64 high = 1
  ql[127] = 0xf0; // element 255 low = 15
  qh[63] = 0xc0;  // element 255 high = 3
  const std::vector<float> x = dequantize_block(DType::Q6_K, block);
  EXPECT_EQ(x[0], -20.0f);   // (0.5 * -8) * (37 - 32)
  EXPECT_EQ(x[1], 128.0f);   // (0.5 * -8) * (0 - 32)
  EXPECT_EQ(x[32], 96.0f);   // (0.5 * -6) * (0 - 32)
  EXPECT_EQ(x[64], 14.0f);   // (0.5 * -4) * (25 - 32)
  EXPECT_EQ(x[255], 108.5f); // (0.5 * 7) * (63 - 32)
}

TEST(DequantizeBlocksTest, IQ4_NLNonLinearLevels) {
  std::vector<uint8_t> block(18);
  put_u16(block, 0, kHalfHalf);
  for (int j = 0; j < 16; ++j) block[2 + j] = uint8_t(j | (15 - j) << 4);
  const std::vector<float> x = dequantize_block(DType::IQ4_NL, block);
  EXPECT_EQ(x[0], -63.5f);  // 0.5 * -127
  EXPECT_EQ(x[7], -5.0f);   // 0.5 * -10
  EXPECT_EQ(x[8], 0.5f);    // 0.5 * 1
  EXPECT_EQ(x[15], 56.5f);  // 0.5 * 113
  EXPECT_EQ(x[16], 56.5f);
  EXPECT_EQ(x[31], -63.5f);
}

TEST(DequantizeBlocksTest, IQ4_XSSixBitScales) {
  std::vector<uint8_t> block(136, 0);
  put_u16(block, 0, kHalfOne);
  put_u16(block, 2, 0xaaa6);  // high scale bits: group 0 -> 2, group 1 -> 1, others 2
  block[4] = 0xe1;            // low scale bits: group 0 -> 1, group 1 -> 14; scales 33 (+1) and 30 (-2)
  uint8_t* qs = block.data() + 8;
  qs[0] = 0xf0;       // element 0 = level 0, element 16 = level 15
  qs[16 + 3] = 0x08;  // element 35 = level 8, element 51 = level 0
  const std::vector<float> x = dequantize_block(DType::IQ4_XS, block);
  EXPECT_EQ(x[0], -127.0f);
  EXPECT_EQ(x[16], 113.0f);
  EXPECT_EQ(x[1], -127.0f);
  EXPECT_EQ(x[35], -2.0f);   // -2 * 1
  EXPECT_EQ(x[51], 254.0f);  // -2 * -127
  EXPECT_EQ(x[64], 0.0f);    // scale 0
}

TEST(DequantizeBlocksTest, PlainTypes) {
  float out[8];
  const uint16_t halves[6] = {0x3c00, 0xc000, 0x7c00, 0x0001, 0x8000, 0x7bff};
  dequantize_row(DType::F16, halves, out, 6);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(out[2], INFINITY);
  EXPECT_EQ(out[3], 0x1p-24f);
  EXPECT_TRUE(out[4] == 0.0f && std::signbit(out[4]));
  EXPECT_EQ(out[5], 65504.0f);

  const uint16_t bfloats[4] = {0x3f80, 0xc040, 0xff80, 0x0001};
  dequantize_row(DType::BF16, bfloats, out, 4);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -3.0f);
  EXPECT_EQ(out[2], -INFINITY);
  EXPECT_EQ(out[3], 0x1p-133f);

  const double doubles[3] = {1.5, -1e300, 0.1};
  dequantize_row(DType::F64, doubles, out, 3);
  EXPECT_EQ(out[0], 1.5f);
  EXPECT_EQ(out[1], -INFINITY);
  EXPECT_EQ(out[2], 0.1f);

  const int8_t i8[2] = {-128, 127};
  dequantize_row(DType::I8, i8, out, 2);
  EXPECT_EQ(out[0], -128.0f);
  EXPECT_EQ(out[1], 127.0f);
  const int16_t i16[2] = {-32768, 32767};
  dequantize_row(DType::I16, i16, out, 2);
  EXPECT_EQ(out[0], -32768.0f);
  EXPECT_EQ(out[1], 32767.0f);
  const int32_t i32[2] = {16777217, -7};
  dequantize_row(DType::I32, i32, out, 2);
  EXPECT_EQ(out[0], 16777216.0f);  // nearest float
  EXPECT_EQ(out[1], -7.0f);

  const float f32[2] = {3.25f, -0.0f};
  dequantize_row(DType::F32, f32, out, 2);
  EXPECT_EQ(std::memcmp(out, f32, sizeof(f32)), 0);
}

TEST(DequantizeBlocksTest, SupportedTypes) {
  for (DType type : {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I8, DType::I16, DType::I32,
                     DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
                     DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS}) {
    EXPECT_TRUE(can_dequantize(type)) << dtype_name(type);
  }
  for (DType type : {DType::Q8_1, DType::Q8_K, DType::IQ2_XXS, DType::IQ1_M, DType::I64, static_cast<DType>(4)}) {
    EXPECT_FALSE(can_dequantize(type)) << dtype_name(type);
  }
}

TEST(DequantizeBlocksTest, UnsupportedTypeGivesNaNNotGarbage) {
  std::vector<uint8_t> block(66, 0);
  std::vector<float> out(256, 1.0f);
  dequantize_row(DType::IQ2_XXS, block.data(), out.data(), 256);
  for (float v : out) EXPECT_TRUE(std::isnan(v));
}

}  // namespace
}  // namespace arbiter
