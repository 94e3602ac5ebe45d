// End to end through the K-quant and IQ4 output types on rows wide enough for their 256-element
// super-blocks (the fixtures' 64-wide rows fall back to 32-element formats): a random `small`-shape
// Llama (256-wide, four query heads per key/value head) converted from its HF directory to each type,
// checked for llama.cpp's mixture choices, loaded and run; its logits must stay near the f32
// conversion's, and closer the more bits the type keeps.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "../../support/cli_helpers.h"
#include "convert_test_util.h"
#include "io/gguf.h"
#include "runtime/backend.h"

namespace arbiter::convert_test {
namespace {

// The small model as an HF directory (the llama fixture's tokenizer), made once per process.
const std::string& small_model_dir() {
  static const std::string dir = [] {
    const std::string d = scratch_dir() + "/small-hf";
    const auto run = testing::run_arbiter("create-model --shape small --tokenizer " + hf_fixture("llama") +
                                          " --seed 7 --weight-std 0.05 -o " + d);
    EXPECT_EQ(run.exit_code, 0) << run.out;
    return d;
  }();
  return dir;
}

std::string convert_small(const std::string& type) {
  const std::string out = scratch_dir() + "/small." + type + ".gguf";
  const auto run = testing::run_arbiter("convert " + small_model_dir() + " -o " + out + " --type " + type + " -q");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  return out;
}

// Full logits of one 24-token sequence.
std::vector<float> logits_of(const std::string& path) {
  auto model = load_model(path);
  EXPECT_TRUE(model.is_ok()) << model.message();
  if (!model.is_ok()) return {};
  SequenceInput seq;
  for (int32_t i = 0; i < 24; ++i) {
    seq.tokens.push_back(1 + (i * 37) % 300);
    seq.read_positions.push_back(i);
  }
  ForwardOptions options;
  options.logits = LogitsMode::kFull;
  auto out = make_cpu_backend(*model)->forward({seq}, options);
  EXPECT_TRUE(out.is_ok()) << out.message();
  return out.is_ok() ? (*out)[0].logits : std::vector<float>{};
}

double relative_rms_difference(const std::vector<float>& a, const std::vector<float>& reference) {
  double diff2 = 0, ref2 = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    diff2 += (double(a[i]) - reference[i]) * (double(a[i]) - reference[i]);
    ref2 += double(reference[i]) * reference[i];
  }
  return std::sqrt(diff2 / ref2);
}

DType tensor_type(const std::string& path, const std::string& name) {
  auto gguf = GgufFile::open(path);
  EXPECT_TRUE(gguf.is_ok()) << gguf.message();
  if (!gguf.is_ok() || (*gguf)->tensor(name) == nullptr) return DType::F32;
  return (*gguf)->tensor(name)->dtype;
}

TEST(LowBitConvert, MixturesOnSmallModel) {
  const std::string q3km = convert_small("q3_K_M"), q2k = convert_small("q2_K"), iq4xs = convert_small("iq4_xs");
  // 4 layers, grouping 4: q3_K_M raises attn_v (Q5_K in layers 0-1), ffn_down and attn_output to Q4_K.
  EXPECT_EQ(tensor_type(q3km, "blk.0.attn_q.weight"), DType::Q3_K);
  EXPECT_EQ(tensor_type(q3km, "blk.1.attn_v.weight"), DType::Q5_K);
  EXPECT_EQ(tensor_type(q3km, "blk.2.attn_v.weight"), DType::Q4_K);
  EXPECT_EQ(tensor_type(q3km, "blk.0.ffn_down.weight"), DType::Q4_K);
  EXPECT_EQ(tensor_type(q3km, "blk.3.attn_output.weight"), DType::Q4_K);
  EXPECT_EQ(tensor_type(q2k, "blk.0.ffn_up.weight"), DType::Q2_K);
  EXPECT_EQ(tensor_type(q2k, "blk.0.attn_v.weight"), DType::Q4_K);
  EXPECT_EQ(tensor_type(q2k, "blk.0.ffn_down.weight"), DType::Q3_K);
  EXPECT_EQ(tensor_type(iq4xs, "blk.0.attn_q.weight"), DType::IQ4_XS);
  EXPECT_EQ(tensor_type(iq4xs, "blk.0.attn_v.weight"), DType::Q5_K);
  EXPECT_EQ(tensor_type(iq4xs, "token_embd.weight"), DType::Q6_K);  // tied: the output matrix
}

TEST(LowBitConvert, LogitsStayNearTheF32ConversionInOrderOfBits) {
  const std::vector<float> reference = logits_of(convert_small("f32"));
  ASSERT_FALSE(reference.empty());
  std::map<std::string, double> error;
  for (const char* type : {"q8_0", "q6_K", "q4_K_M", "iq4_xs", "q3_K_M", "q2_K"}) {
    const std::vector<float> logits = logits_of(convert_small(type));
    ASSERT_EQ(logits.size(), reference.size()) << type;
    error[type] = relative_rms_difference(logits, reference);
    RecordProperty(std::string("relative_rms_") + type, std::to_string(error[type]));
    std::printf("%s: logits' relative RMS difference from f32 %.4f\n", type, error[type]);
  }
  // About 1.3x what they measure (0.012, 0.038, 0.108, 0.117, 0.182, 0.346): a model with weights of
  // std 0.05 carries each weight's error (Q8_0: 0.5%) to the logits about doubled.
  EXPECT_LT(error["q8_0"], 0.016);
  EXPECT_LT(error["q6_K"], 0.05);
  EXPECT_LT(error["q4_K_M"], 0.14);
  EXPECT_LT(error["iq4_xs"], 0.15);
  EXPECT_LT(error["q3_K_M"], 0.24);
  EXPECT_LT(error["q2_K"], 0.45);
  EXPECT_LT(error["q8_0"], error["q6_K"]);
  EXPECT_LT(error["q6_K"], error["q4_K_M"]);
  EXPECT_LT(error["iq4_xs"], error["q3_K_M"]);
  EXPECT_LT(error["q3_K_M"], error["q2_K"]);
}

TEST(LowBitConvert, CreateModelRefusesANonPositiveWeightStd) {
  for (const char* bad : {"0", "-0.1", "nan"}) {
    const auto run = testing::run_arbiter(std::string("create-model --shape small --weight-std ") + bad + " -o " +
                                          scratch_dir() + "/never");
    EXPECT_NE(run.exit_code, 0) << bad;
    EXPECT_NE(run.out.find("--weight-std"), std::string::npos) << run.out;
  }
  EXPECT_FALSE(std::filesystem::exists(scratch_dir() + "/never"));
}

}  // namespace
}  // namespace arbiter::convert_test
