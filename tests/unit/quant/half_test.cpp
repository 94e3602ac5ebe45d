// core/half.h conversions: exhaustive round trips and the rounding cases IEEE 754 fixes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/half.h"

namespace arbiter {
namespace {

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(HalfTest, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = f16_to_f32(uint16_t(h));
    const bool is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x03ff) != 0;
    if (is_nan) {
      EXPECT_TRUE(std::isnan(f)) << h;
      EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(f)))) << h;
      continue;
    }
    EXPECT_EQ(f32_to_f16(f), h) << std::hex << h;
  }
}

TEST(HalfTest, HalfValuesAreExact) {
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x0400), 0x1p-14f);          // smallest normal
  EXPECT_EQ(f16_to_f32(0x03ff), 1023 * 0x1p-24f);   // largest subnormal
  EXPECT_EQ(f16_to_f32(0x0001), 0x1p-24f);          // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x7c00), INFINITY);
  EXPECT_EQ(f16_to_f32(0xfc00), -INFINITY);
  EXPECT_EQ(bits_of(f16_to_f32(0x8000)), 0x80000000u);
}

TEST(HalfTest, FloatToHalfRoundsToNearestEven) {
  // 1 + 2^-11 lies halfway between 1 and the next half (1 + 2^-10): ties go to the even mantissa.
  EXPECT_EQ(f32_to_f16(1.0f + 0x1p-11f), 0x3c00);
  EXPECT_EQ(f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);
  EXPECT_EQ(f32_to_f16(std::nextafter(1.0f + 0x1p-11f, 2.0f)), 0x3c01);
  // Overflow: 65520 is halfway between 65504 and 65536 (infinity's place) and rounds up.
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);
  EXPECT_EQ(f32_to_f16(-1e10f), 0xfc00);
  // Underflow: 2^-25 is halfway between 0 and the smallest subnormal; ties to even (zero).
  EXPECT_EQ(f32_to_f16(0x1p-25f), 0x0000);
  EXPECT_EQ(f32_to_f16(std::nextafter(0x1p-25f, 1.0f)), 0x0001);
  EXPECT_EQ(f32_to_f16(3 * 0x1p-25f), 0x0002);    // 1.5 subnormal steps: tie to even 2
  EXPECT_EQ(f32_to_f16(-0x1p-30f), 0x8000);
  // Subnormal to normal boundary: the largest subnormal plus half a step rounds to the smallest normal.
  EXPECT_EQ(f32_to_f16(1023.5f * 0x1p-24f), 0x0400);
  EXPECT_EQ(f32_to_f16(NAN) & 0x7c00, 0x7c00);
  EXPECT_NE(f32_to_f16(NAN) & 0x03ff, 0);
}

TEST(BfloatTest, EveryBfloatRoundTripsThroughFloat) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = bf16_to_f32(uint16_t(h));
    EXPECT_EQ(bits_of(f), h << 16);
    const bool is_nan = (h & 0x7f80) == 0x7f80 && (h & 0x007f) != 0;
    if (is_nan) {
      EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(f)))) << h;
    } else {
      EXPECT_EQ(f32_to_bf16(f), h) << std::hex << h;
    }
  }
}

TEST(BfloatTest, FloatToBfloatRoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(float_of(0x3f808000)), 0x3f80);  // tie, even stays
  EXPECT_EQ(f32_to_bf16(float_of(0x3f818000)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(f32_to_bf16(float_of(0x3f808001)), 0x3f81);  // above the tie
  EXPECT_EQ(f32_to_bf16(float_of(0x7f7fffff)), 0x7f80);  // the largest float rounds to infinity
  // A signalling NaN whose payload lives only in the low 16 bits must stay a NaN, not become infinity.
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(float_of(0x7f800001)))));
}

}  // namespace
}  // namespace arbiter
