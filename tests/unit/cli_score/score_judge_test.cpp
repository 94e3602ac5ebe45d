// End to end: `arbiter score` and `arbiter judge` against the fixtures' float64 references, through the
// real binary and files, as a user runs them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>

#include "../../support/cli_helpers.h"
#include "io/safetensors.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

std::vector<float> floats(const TensorView& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  dequantize_row(t.dtype, t.data, v.data(), t.numel());
  return v;
}

// Writes the three reference sequences as input_ids rows, each followed by `padding` copies of `pad`.
std::string write_id_rows(const SafetensorsFile& ref, const std::string& dir, int padding = 0, int32_t pad = 0) {
  const std::string path = dir + (padding > 0 ? "/padded-rows.jsonl" : "/rows.jsonl");
  std::ofstream out(path);
  for (int s = 0; s < 3; ++s) {
    const TensorView* ids = ref.tensor("seq" + std::to_string(s) + ".input_ids");
    const auto* p = static_cast<const int32_t*>(ids->data);
    std::vector<int32_t> tokens(p, p + ids->numel());
    tokens.insert(tokens.end(), size_t(padding), pad);
    nlohmann::json row = {{"id", "seq" + std::to_string(s)}, {"input_ids", tokens}};
    out << row.dump() << "\n";
  }
  return path;
}

class ScoreSeqcls : public ::testing::TestWithParam<std::string> {};

TEST_P(ScoreSeqcls, ScoresEqualReference) {
  const std::string model = kShared + "/fixtures/hf/" + GetParam();
  auto ref = SafetensorsFile::open(model + "/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  const std::string dir = temp_dir("score-" + GetParam());
  // The rows as they are, and followed by the config's pad token (0 in every fixture) as in a padded
  // batch: transformers reads the last token that is not padding, so the references hold for both.
  for (const int padding : {0, 3}) {
    const std::string rows = write_id_rows(**ref, dir, padding, 0);
    auto r = run_arbiter("score -q -m " + model + " -i " + rows + " -o " + dir + "/out.jsonl");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto lines = read_jsonl(dir + "/out.jsonl");
    ASSERT_EQ(lines.size(), 3u);
    for (int s = 0; s < 3; ++s) {
      const std::vector<float> expected = floats(*(*ref)->tensor("seq" + std::to_string(s) + ".scores"));
      std::vector<double> got;
      if (expected.size() == 1) {
        got.push_back(lines[size_t(s)]["score"].get<double>());
      } else {
        // An unnamed five-output head reports HelpSteer2's attributes, in their published order.
        for (const char* name : {"helpfulness", "correctness", "coherence", "complexity", "verbosity"})
          got.push_back(lines[size_t(s)]["attributes"][name].get<double>());
      }
      ASSERT_EQ(got.size(), expected.size());
      double max_ref = 0, max_diff = 0;
      for (size_t k = 0; k < got.size(); ++k) {
        max_ref = std::max(max_ref, std::fabs(double(expected[k])));
        max_diff = std::max(max_diff, std::fabs(got[k] - expected[k]));
      }
      EXPECT_LE(max_diff / max_ref, 1e-4) << GetParam() << " seq" << s << " padding " << padding;
      EXPECT_EQ(lines[size_t(s)]["id"], "seq" + std::to_string(s));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ScoreSeqcls,
                         ::testing::Values("llama-seqcls1", "llama-seqcls5", "qwen2-seqcls1", "qwen3-seqcls1",
                                           "gemma2-seqcls1"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (c == '-') c = '_';
                           return n;
                         });

// A causal LM that keeps its reward in one logit (as Nemotron-70B-Reward-HF keeps it in token 0's): the
// score is the reference logits' entry for that token at the last position (gemma2's after softcapping,
// as transformers' generate reports it).
class ScoreRewardToken : public ::testing::TestWithParam<std::string> {};

TEST_P(ScoreRewardToken, ScoreIsTheReferenceLogitAtTheLastToken) {
  const std::string name = GetParam();
  const std::string ref_dir = kShared + "/fixtures/hf/" + (name.find(".gguf") != std::string::npos ? "llama" : name);
  const std::string model = name.find(".gguf") != std::string::npos ? kShared + "/fixtures/gguf/" + name : ref_dir;
  auto ref = SafetensorsFile::open(ref_dir + "/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  const std::string dir = temp_dir("reward-token-" + name);
  const std::string rows = write_id_rows(**ref, dir);
  for (const int token : {0, 7}) {
    const std::string out = dir + "/out" + std::to_string(token) + ".jsonl";
    auto r = run_arbiter("score -q -m " + model + " -i " + rows + " -o " + out + " --reward-token-id " + std::to_string(token));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto lines = read_jsonl(out);
    ASSERT_EQ(lines.size(), 3u);
    for (int s = 0; s < 3; ++s) {
      const std::vector<float> logits = floats(*(*ref)->tensor("seq" + std::to_string(s) + ".logits"));
      const size_t vocab = 512, last = logits.size() / vocab - 1;
      double max_ref = 0;
      for (size_t v = 0; v < vocab; ++v) max_ref = std::max(max_ref, std::fabs(double(logits[last * vocab + v])));
      const double expected = logits[last * vocab + size_t(token)];
      EXPECT_LE(std::fabs(lines[size_t(s)]["score"].get<double>() - expected) / max_ref, 1e-5)
          << name << " seq" << s << " token " << token << ": " << lines[size_t(s)].dump() << " vs " << expected;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ScoreRewardToken, ::testing::Values("llama", "qwen2", "gemma2", "llama.f32.gguf"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (c == '-' || c == '.') c = '_';
                           return n;
                         });

TEST(ScoreRewardTokenErrors, OutOfVocabularyOrOnAClassifier) {
  const std::string dir = temp_dir("reward-token-errors");
  auto ref = SafetensorsFile::open(kShared + "/fixtures/hf/llama/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  const std::string rows = write_id_rows(**ref, dir);
  auto r = run_arbiter("score -q -m " + kShared + "/fixtures/hf/llama -i " + rows + " -o " + dir + "/a.jsonl --reward-token-id 512");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("outside the vocabulary (512 tokens)"), std::string::npos) << r.out;
  r = run_arbiter("score -q -m " + kShared + "/fixtures/hf/llama-seqcls1 -i " + rows + " -o " + dir + "/b.jsonl --reward-token-id 0");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("sequence-classification"), std::string::npos) << r.out;
  // A causal LM without it names the way to read such a model.
  r = run_arbiter("score -q -m " + kShared + "/fixtures/hf/llama -i " + rows + " -o " + dir + "/c.jsonl");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("--reward-token-id"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/c.jsonl"));
}

// Softmax expectation of `values` under `logits`, in double.
double expectation(const std::vector<double>& logits, const std::vector<double>& values) {
  double max = *std::max_element(logits.begin(), logits.end()), z = 0, e = 0;
  for (size_t k = 0; k < logits.size(); ++k) z += std::exp(logits[k] - max);
  for (size_t k = 0; k < logits.size(); ++k) e += std::exp(logits[k] - max) / z * values[k];
  return e;
}

class JudgePerLayer : public ::testing::TestWithParam<std::string> {};

TEST_P(JudgePerLayer, LogitsAndScoresFollowFromReferenceStates) {
  const std::string model = kShared + "/fixtures/hf/" + GetParam();
  auto ref = SafetensorsFile::open(model + "/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  const std::string dir = temp_dir("judge-" + GetParam());
  const std::string rows = write_id_rows(**ref, dir);
  const std::vector<int32_t> ids = {5, 17, 100, 256, 511};
  const std::vector<double> values = {1, 2, 3, 4, 5};
  const int64_t vocab = 512;

  for (const std::string lens : {"normed", "raw"}) {
    const std::string out = dir + "/" + lens + ".jsonl";
    auto r = run_arbiter("judge -q -m " + model + " -i " + rows + " -o " + out +
                         " --score-token-ids 5,17,100,256,511 --per-layer --lens " + lens);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto lines = read_jsonl(out);
    ASSERT_EQ(lines.size(), 3u);
    for (int s = 0; s < 3; ++s) {
      const std::string prefix = "seq" + std::to_string(s) + ".";
      const nlohmann::json& line = lines[size_t(s)];
      const auto per_layer = line["per_layer_logits"].get<std::vector<std::vector<double>>>();
      ASSERT_EQ(per_layer.size(), 4u);
      const std::vector<float> lens_ref = floats(*(*ref)->tensor(prefix + "lens_logits_last"));
      const std::vector<float> logits_ref = floats(*(*ref)->tensor(prefix + "logits"));
      const int64_t t = (*ref)->tensor(prefix + "input_ids")->numel();
      for (size_t l = 0; l < 3; ++l) {
        // The normed lens reads every layer below the top as the reference's lens_logits_last; raw differs there.
        if (lens == "raw") continue;
        for (size_t k = 0; k < ids.size(); ++k)
          EXPECT_NEAR(per_layer[l][k], lens_ref[size_t(int64_t(l) * vocab + ids[k])],
                      1e-4 * (1 + std::fabs(lens_ref[size_t(int64_t(l) * vocab + ids[k])])))
              << GetParam() << " " << lens << " seq" << s << " layer " << l;
      }
      // The top row, in either lens, is the model's own logits (Gemma 2's final softcap included).
      for (size_t k = 0; k < ids.size(); ++k) {
        const double own = logits_ref[size_t((t - 1) * vocab + ids[k])];
        EXPECT_NEAR(per_layer[3][k], own, 1e-4 * (1 + std::fabs(own))) << GetParam() << " " << lens << " seq" << s;
      }
      // vanilla / expected from the model's own final logits at the last position.
      std::vector<double> final_logits;
      for (int32_t id : ids) final_logits.push_back(logits_ref[size_t((t - 1) * vocab + id)]);
      const size_t best = size_t(std::max_element(final_logits.begin(), final_logits.end()) - final_logits.begin());
      EXPECT_EQ(line["vanilla"].get<double>(), values[best]);
      EXPECT_NEAR(line["expected"].get<double>(), expectation(final_logits, values), 1e-4);
      // Uniform LAGER: the expectation under the mean of the per-layer logits.
      std::vector<double> mean(ids.size(), 0.0);
      for (const auto& row : per_layer)
        for (size_t k = 0; k < ids.size(); ++k) mean[k] += row[k] / 4.0;
      EXPECT_NEAR(line["lager"].get<double>(), expectation(mean, values), 1e-9);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, JudgePerLayer, ::testing::Values("llama", "mistral", "qwen2", "qwen3", "gemma2"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace arbiter
