// The output-type table and the per-tensor choices of the _M mixtures (llama.cpp's rules).
#include <gtest/gtest.h>

#include "convert/quant_plan.h"

namespace arbiter {
namespace {

OutputType type(const std::string& name) {
  auto t = parse_output_type(name);
  EXPECT_TRUE(t.is_ok()) << t.message();
  return *t;
}

TEST(QuantPlan, ParsesTypesCaseInsensitively) {
  EXPECT_EQ(type("Q4_K_M").base, DType::Q4_K);
  EXPECT_EQ(type("q4_k_m").mixture, OutputType::Mixture::kKQuant);
  EXPECT_EQ(type("IQ4_XS").mixture, OutputType::Mixture::kIq4);
  EXPECT_EQ(type("q4_K_M").file_type, 15u);
  EXPECT_EQ(type("q5_K_M").file_type, 17u);
  EXPECT_EQ(type("q6_K").file_type, 18u);
  EXPECT_EQ(type("q8_0").file_type, 7u);
  EXPECT_EQ(type("bf16").file_type, 32u);
  EXPECT_EQ(type("iq4_nl").file_type, 25u);
  EXPECT_EQ(type("iq4_xs").file_type, 30u);
  EXPECT_EQ(type("q2_K").file_type, 10u);
  EXPECT_EQ(type("q3_K_S").file_type, 11u);
  EXPECT_EQ(type("q3_K_M").file_type, 12u);
  EXPECT_EQ(type("q3_K_L").file_type, 13u);
  EXPECT_FALSE(parse_output_type("q3_K").is_ok());
  EXPECT_FALSE(parse_output_type("iq2_xs").is_ok());
}

// use_more_bits for 32 layers: the first and last 4, and every third from layer 6.
TEST(QuantPlan, UseMoreBitsLayersOf32) {
  std::vector<int64_t> picked;
  for (int64_t l = 0; l < 32; ++l)
    if (use_more_bits(l, 32)) picked.push_back(l);
  const std::vector<int64_t> expected = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
  EXPECT_EQ(picked, expected);
}

TEST(QuantPlan, Q4KMMixtureOnRealShapes) {
  const OutputType q4km = type("q4_K_M");
  const std::vector<int64_t> square = {4096, 4096}, down = {4096, 14336};
  EXPECT_EQ(choose_tensor_type(q4km, "blk.0.attn_v.weight", {1024, 4096}, 32, true, 1).dtype, DType::Q6_K);
  EXPECT_EQ(choose_tensor_type(q4km, "blk.4.attn_v.weight", {1024, 4096}, 32, true, 1).dtype, DType::Q4_K);
  EXPECT_EQ(choose_tensor_type(q4km, "blk.6.ffn_down.weight", down, 32, true, 1).dtype, DType::Q6_K);
  EXPECT_EQ(choose_tensor_type(q4km, "blk.7.ffn_down.weight", down, 32, true, 1).dtype, DType::Q4_K);
  EXPECT_EQ(choose_tensor_type(q4km, "blk.0.attn_q.weight", square, 32, true, 1).dtype, DType::Q4_K);
  EXPECT_EQ(choose_tensor_type(q4km, "output.weight", {128256, 4096}, 32, true, 1).dtype, DType::Q6_K);
  EXPECT_EQ(choose_tensor_type(q4km, "token_embd.weight", {128256, 4096}, 32, true, 1).dtype, DType::Q4_K);
  // Tied embeddings: token_embd is the output matrix.
  EXPECT_EQ(choose_tensor_type(q4km, "token_embd.weight", {151936, 896}, 24, false, 1).dtype, DType::Q8_0);
  EXPECT_EQ(choose_tensor_type(q4km, "token_embd.weight", {151936, 1024}, 24, false, 1).dtype, DType::Q6_K);
  EXPECT_EQ(choose_tensor_type(q4km, "blk.0.attn_norm.weight", {4096}, 32, true, 1).dtype, DType::F32);
  EXPECT_EQ(choose_tensor_type(q4km, "blk.0.attn_q.bias", {4096}, 32, true, 1).dtype, DType::F32);
  EXPECT_EQ(choose_tensor_type(q4km, "cls.output.weight", {5, 4096}, 32, true, 1).dtype, DType::F32);
  EXPECT_EQ(choose_tensor_type(q4km, "rope_freqs.weight", {64}, 32, true, 1).dtype, DType::F32);
}

TEST(QuantPlan, RowsNotAMultipleOf256FallBack) {
  // Qwen2-0.5B's 896-wide rows and the fixtures' 64-wide ones.
  const TensorTypeChoice q4 = choose_tensor_type(type("q4_K_M"), "blk.5.attn_q.weight", {896, 896}, 24, true, 1);
  EXPECT_EQ(q4.dtype, DType::Q5_0);
  EXPECT_NE(q4.note.find("fallback"), std::string::npos);
  EXPECT_EQ(choose_tensor_type(type("q5_K_M"), "blk.5.attn_q.weight", {64, 64}, 3, true, 1).dtype, DType::Q5_1);
  EXPECT_EQ(choose_tensor_type(type("q6_K"), "blk.5.attn_q.weight", {64, 64}, 3, true, 1).dtype, DType::Q8_0);
  // Layer 2 of 3 is in the last eighth: Q6_K, which falls back to Q8_0; layer 0 of 3 is not picked.
  EXPECT_EQ(choose_tensor_type(type("q4_K_M"), "blk.2.attn_v.weight", {32, 64}, 3, true, 1).dtype, DType::Q8_0);
  EXPECT_EQ(choose_tensor_type(type("q4_K_M"), "blk.0.attn_v.weight", {32, 64}, 3, true, 1).dtype, DType::Q5_0);
  // 48 columns: no 32-element block fits either, so F16.
  EXPECT_EQ(choose_tensor_type(type("q8_0"), "blk.0.attn_q.weight", {64, 48}, 3, true, 1).dtype, DType::F16);
  EXPECT_EQ(choose_tensor_type(type("q4_0"), "output.weight", {512, 64}, 3, true, 1).dtype, DType::Q8_0);
  // Q8_0 asked for: the output matrix is what was asked for, and no note says it differs.
  const TensorTypeChoice q8_output = choose_tensor_type(type("q8_0"), "token_embd.weight", {512, 64}, 3, false, 1);
  EXPECT_EQ(q8_output.dtype, DType::Q8_0);
  EXPECT_EQ(q8_output.note, "");
}

// Llama-3-8B's shapes (32 layers, 32 query heads over 8 key/value heads): attn_v gets Q5_K only with
// grouping of 4 or more, ffn_down in layers 0-3, the output matrix Q6_K; rows that are not a multiple of
// 256 (Qwen2-0.5B's 896) fall back to IQ4_NL, and Q5_K to Q5_1.
TEST(QuantPlan, Iq4MixtureOnRealShapes) {
  const std::vector<int64_t> square = {4096, 4096}, down = {4096, 14336}, v = {1024, 4096};
  for (const char* name : {"iq4_xs", "iq4_nl"}) {
    const OutputType t = type(name);
    EXPECT_EQ(choose_tensor_type(t, "blk.9.attn_v.weight", v, 32, true, 4).dtype, DType::Q5_K) << name;
    EXPECT_EQ(choose_tensor_type(t, "blk.9.attn_v.weight", v, 32, true, 2).dtype, t.base) << name;
    EXPECT_EQ(choose_tensor_type(t, "blk.3.ffn_down.weight", down, 32, true, 4).dtype, DType::Q5_K) << name;
    EXPECT_EQ(choose_tensor_type(t, "blk.4.ffn_down.weight", down, 32, true, 4).dtype, t.base) << name;
    EXPECT_EQ(choose_tensor_type(t, "blk.31.ffn_down.weight", down, 32, true, 4).dtype, t.base) << name;
    EXPECT_EQ(choose_tensor_type(t, "blk.0.attn_q.weight", square, 32, true, 4).dtype, t.base) << name;
    EXPECT_EQ(choose_tensor_type(t, "output.weight", {128256, 4096}, 32, true, 4).dtype, DType::Q6_K) << name;
    EXPECT_EQ(choose_tensor_type(t, "blk.0.attn_q.weight", {896, 896}, 24, true, 7).dtype, DType::IQ4_NL) << name;
    EXPECT_EQ(choose_tensor_type(t, "blk.0.attn_v.weight", {128, 896}, 24, true, 7).dtype, DType::Q5_1) << name;
  }
}

// llama.cpp's q2_K and q3_K_* rules on Llama-3-8B's shapes (32 layers, grouping 4).
TEST(QuantPlan, LowBitMixturesOnRealShapes) {
  const std::vector<int64_t> square = {4096, 4096}, down = {4096, 14336}, v = {1024, 4096};
  auto choose = [&](const char* t, const std::string& name, const std::vector<int64_t>& shape, int64_t grouping = 4) {
    return choose_tensor_type(type(t), name, shape, 32, true, grouping).dtype;
  };
  EXPECT_EQ(choose("q2_K", "blk.5.attn_q.weight", square), DType::Q2_K);
  EXPECT_EQ(choose("q2_K", "blk.5.attn_v.weight", v), DType::Q4_K);
  EXPECT_EQ(choose("q2_K", "blk.5.attn_v.weight", v, 1), DType::Q3_K);
  EXPECT_EQ(choose("q2_K", "blk.5.ffn_down.weight", down), DType::Q3_K);
  EXPECT_EQ(choose("q2_K", "blk.5.attn_output.weight", square), DType::Q3_K);
  EXPECT_EQ(choose("q2_K", "output.weight", {128256, 4096}), DType::Q6_K);
  EXPECT_EQ(choose("q3_K_S", "blk.0.attn_v.weight", v), DType::Q3_K);
  EXPECT_EQ(choose("q3_K_S", "blk.0.ffn_down.weight", down), DType::Q3_K);
  EXPECT_EQ(choose("q3_K_M", "blk.1.attn_v.weight", v), DType::Q5_K);
  EXPECT_EQ(choose("q3_K_M", "blk.2.attn_v.weight", v), DType::Q4_K);
  EXPECT_EQ(choose("q3_K_M", "blk.1.ffn_down.weight", down), DType::Q5_K);
  EXPECT_EQ(choose("q3_K_M", "blk.2.ffn_down.weight", down), DType::Q4_K);
  EXPECT_EQ(choose("q3_K_M", "blk.9.attn_output.weight", square), DType::Q4_K);
  EXPECT_EQ(choose("q3_K_M", "blk.9.ffn_up.weight", {14336, 4096}), DType::Q3_K);
  EXPECT_EQ(choose("q3_K_L", "blk.9.attn_v.weight", v), DType::Q5_K);
  EXPECT_EQ(choose("q3_K_L", "blk.9.ffn_down.weight", down), DType::Q5_K);
  EXPECT_EQ(choose("q3_K_L", "blk.9.attn_output.weight", square), DType::Q5_K);
  EXPECT_EQ(choose("q3_K_L", "blk.9.ffn_gate.weight", {14336, 4096}), DType::Q3_K);
  // 896-wide rows: Q2_K / Q3_K fall back to IQ4_NL, the raised Q4_K / Q5_K to Q5_0 / Q5_1.
  EXPECT_EQ(choose_tensor_type(type("q3_K_M"), "blk.9.attn_q.weight", {896, 896}, 24, true, 7).dtype, DType::IQ4_NL);
  EXPECT_EQ(choose_tensor_type(type("q2_K"), "blk.9.attn_q.weight", {896, 896}, 24, true, 7).dtype, DType::IQ4_NL);
  EXPECT_EQ(choose_tensor_type(type("q3_K_M"), "blk.9.attn_output.weight", {896, 896}, 24, true, 7).dtype,
            DType::Q5_0);
}

TEST(QuantPlan, PlainTypesApplyToEveryMatrix) {
  for (const char* name : {"f16", "bf16", "q8_0"}) {
    const OutputType t = type(name);
    EXPECT_EQ(choose_tensor_type(t, "output.weight", {512, 64}, 3, true, 1).dtype, t.base) << name;
    EXPECT_EQ(choose_tensor_type(t, "token_embd.weight", {512, 64}, 3, false, 1).dtype, t.base) << name;
    EXPECT_EQ(choose_tensor_type(t, "blk.0.ffn_down.weight", {64, 192}, 3, true, 1).dtype, t.base) << name;
  }
}

}  // namespace
}  // namespace arbiter
