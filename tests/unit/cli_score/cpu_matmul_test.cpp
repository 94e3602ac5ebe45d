// --cpu-matmul through the binary: auto keeps f32 weights in f32 arithmetic (the same bytes as f32),
// bf16 rounds them and lands within the parity bound of the f32 scores, and bad values are refused.
#include <gtest/gtest.h>

#include <cmath>

#include "../../support/cli_helpers.h"
#include "runtime/cpu/matmul.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

// The five attribute scores of every row of one `score` run of llama-seqcls5 on its reference prompts.
std::vector<double> score_with(const std::string& arithmetic, const std::string& dir) {
  const std::string model = kShared + "/fixtures/hf/llama-seqcls5";
  const std::string rows = dir + "/rows.jsonl";
  {
    std::ofstream out(rows);
    out << R"({"id": "a", "input_ids": [1, 17, 250, 3, 99, 4]})" << "\n";
    out << R"({"id": "b", "input_ids": [1, 400, 12, 12, 77, 301, 5, 6, 7, 8, 9, 10]})" << "\n";
  }
  const std::string out = dir + "/" + arithmetic + ".jsonl";
  const RunResult r = run_arbiter("--cpu-matmul " + arithmetic + " score -q -m " + model + " -i " + rows + " -o " + out);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::vector<double> scores;
  for (const auto& line : read_jsonl(out))
    for (const auto& [name, value] : line["attributes"].items()) scores.push_back(value.get<double>());
  return scores;
}

TEST(CpuMatmul, AutoKeepsF32WeightsInF32AndBf16StaysClose) {
  const std::string dir = temp_dir("cpu-matmul");
  const std::vector<double> f32 = score_with("f32", dir), automatic = score_with("auto", dir);
  ASSERT_EQ(f32.size(), 10u);
  EXPECT_EQ(automatic, f32) << "auto must not round an f32 model's activations";
  if (!bf16_matmul_supported()) GTEST_SKIP() << "no AVX512-BF16 here";
  const std::vector<double> bf16 = score_with("bf16", dir);
  ASSERT_EQ(bf16.size(), f32.size());
  double max_ref = 0, max_diff = 0;
  for (size_t i = 0; i < f32.size(); ++i) {
    max_ref = std::max(max_ref, std::fabs(f32[i]));
    max_diff = std::max(max_diff, std::fabs(bf16[i] - f32[i]));
  }
  EXPECT_GT(max_diff, 0.0) << "bf16 arithmetic should round something";
  EXPECT_LE(max_diff / max_ref, 5e-2) << "the parity bound for an f32 model in bf16 arithmetic";
}

TEST(CpuMatmul, InfoSaysWhichArithmeticEachTypeGets) {
  const std::string model = kShared + "/fixtures/gguf/llama.q8_0.gguf";
  for (const std::string arithmetic : {"auto", "f32"}) {
    const RunResult r = run_arbiter("--cpu-matmul " + arithmetic + " info --json -m " + model);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    const bool rounds = arithmetic == "auto" && bf16_matmul_supported();
    EXPECT_EQ(j["cpu_matmul"]["Q8_0"], rounds ? "bf16" : "f32") << arithmetic;
  }
}

TEST(CpuMatmul, RefusesUnknownValues) {
  const RunResult r = run_arbiter("--cpu-matmul fp8 info -m " + kShared + "/fixtures/hf/llama");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("--cpu-matmul"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace arbiter
