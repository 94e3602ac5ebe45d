// The type table against GGUF's numbering and block geometry.
#include <gtest/gtest.h>

#include "quant/dtype.h"

namespace arbiter {
namespace {

TEST(DTypeTest, BlockGeometryMatchesGguf) {
  struct Expected {
    DType type;
    const char* name;
    int64_t block_elems;
    size_t block_bytes;
  };
  const Expected table[] = {
      {DType::F32, "F32", 1, 4},          {DType::F16, "F16", 1, 2},         {DType::BF16, "BF16", 1, 2},
      {DType::Q4_0, "Q4_0", 32, 18},      {DType::Q4_1, "Q4_1", 32, 20},     {DType::Q5_0, "Q5_0", 32, 22},
      {DType::Q5_1, "Q5_1", 32, 24},      {DType::Q8_0, "Q8_0", 32, 34},     {DType::Q8_1, "Q8_1", 32, 36},
      {DType::Q2_K, "Q2_K", 256, 84},     {DType::Q3_K, "Q3_K", 256, 110},   {DType::Q4_K, "Q4_K", 256, 144},
      {DType::Q5_K, "Q5_K", 256, 176},    {DType::Q6_K, "Q6_K", 256, 210},   {DType::Q8_K, "Q8_K", 256, 292},
      {DType::IQ2_XXS, "IQ2_XXS", 256, 66}, {DType::IQ2_XS, "IQ2_XS", 256, 74}, {DType::IQ3_XXS, "IQ3_XXS", 256, 98},
      {DType::IQ1_S, "IQ1_S", 256, 50},   {DType::IQ4_NL, "IQ4_NL", 32, 18}, {DType::IQ3_S, "IQ3_S", 256, 110},
      {DType::IQ2_S, "IQ2_S", 256, 82},   {DType::IQ4_XS, "IQ4_XS", 256, 136}, {DType::I8, "I8", 1, 1},
      {DType::I16, "I16", 1, 2},          {DType::I32, "I32", 1, 4},         {DType::I64, "I64", 1, 8},
      {DType::F64, "F64", 1, 8},          {DType::IQ1_M, "IQ1_M", 256, 56},
  };
  for (const Expected& e : table) {
    const DTypeInfo info = dtype_info(e.type);
    EXPECT_TRUE(info.known) << e.name;
    EXPECT_STREQ(info.name, e.name);
    EXPECT_EQ(info.block_elems, e.block_elems) << e.name;
    EXPECT_EQ(info.block_bytes, e.block_bytes) << e.name;
    Result<DType> parsed = dtype_from_name(e.name);
    ASSERT_TRUE(parsed.is_ok()) << parsed.message();
    EXPECT_EQ(*parsed, e.type);
  }
}

TEST(DTypeTest, UnknownNumbersAreReportedNotGuessed) {
  for (uint32_t number : {4u, 5u, 31u, 39u, 1000u, 0xffffffffu}) {
    const DTypeInfo info = dtype_info(static_cast<DType>(number));
    EXPECT_FALSE(info.known) << number;
    EXPECT_STREQ(info.name, "unknown");
    Result<size_t> bytes = row_bytes(static_cast<DType>(number), 32);
    ASSERT_FALSE(bytes.is_ok());
    EXPECT_NE(bytes.message().find(std::to_string(number)), std::string::npos) << bytes.message();
  }
}

TEST(DTypeTest, NamesParseCaseInsensitively) {
  EXPECT_EQ(*dtype_from_name("q8_0"), DType::Q8_0);
  EXPECT_EQ(*dtype_from_name("bf16"), DType::BF16);
  EXPECT_EQ(*dtype_from_name("iq4_xs"), DType::IQ4_XS);
  Result<DType> bad = dtype_from_name("Q8");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.message().find("'Q8'"), std::string::npos) << bad.message();
  EXPECT_FALSE(dtype_from_name("unknown").is_ok());
  EXPECT_FALSE(dtype_from_name("").is_ok());
}

TEST(DTypeTest, RowBytes) {
  EXPECT_EQ(*row_bytes(DType::F32, 64), 256u);
  EXPECT_EQ(*row_bytes(DType::BF16, 3), 6u);
  EXPECT_EQ(*row_bytes(DType::Q8_0, 4096), 4096u / 32 * 34);
  EXPECT_EQ(*row_bytes(DType::Q4_K, 4096), 4096u / 256 * 144);
  EXPECT_EQ(*row_bytes(DType::Q6_K, 0), 0u);
  Result<size_t> ragged = row_bytes(DType::Q4_K, 4000);
  ASSERT_FALSE(ragged.is_ok());
  EXPECT_NE(ragged.message().find("Q4_K"), std::string::npos) << ragged.message();
  EXPECT_NE(ragged.message().find("4000"), std::string::npos) << ragged.message();
  EXPECT_FALSE(row_bytes(DType::F16, -2).is_ok());
}

}  // namespace
}  // namespace arbiter
