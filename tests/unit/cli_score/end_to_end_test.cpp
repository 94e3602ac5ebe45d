// The whole pipeline on real HelpSteer2 rows with a real tokenizer and chat template (Qwen3's), on
// random-weight models arbiter writes itself: score, judge, correlate, features, train a head, score
// with it, select. The numbers mean nothing; every stage must run and agree on shapes and rows.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../../support/cli_helpers.h"
#include "io/safetensors.h"
#include "train/features_file.h"
#include "train/reward_head.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

class EndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = temp_dir("e2e");
    const std::string tokenizer = kShared + "/fixtures/tokenizers/qwen3";
    auto rm = run_arbiter("-q create-model --arch qwen3 --head seqcls --labels "
                          "helpfulness,correctness,coherence,complexity,verbosity --tokenizer " + tokenizer +
                          " --out " + dir_ + "/rm");
    setup_.expect(rm.exit_code == 0, rm.out);
    auto judge = run_arbiter("-q create-model --arch qwen3 --tokenizer " + tokenizer + " --out " + dir_ + "/judge");
    setup_.expect(judge.exit_code == 0, judge.out);
  }
  void SetUp() override { setup_.check(); }
  static std::string dir_;
  inline static SuiteSetup setup_;
  const std::string sample_ = kShared + "/data/helpsteer2-sample/sample.jsonl";
};
std::string EndToEnd::dir_;

TEST_F(EndToEnd, ScoreWithAttributesAndWeights) {
  auto r = run_arbiter("-q score -m " + dir_ + "/rm -i " + sample_ + " -o " + dir_ + "/scores.jsonl --attribute-weights nemotron");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(dir_ + "/scores.jsonl");
  ASSERT_EQ(lines.size(), 8u);
  for (const auto& line : lines) {
    ASSERT_TRUE(line.contains("attributes")) << line.dump();
    const auto& a = line["attributes"];
    const double weighted = 0.30 * a["helpfulness"].get<double>() + 0.74 * a["correctness"].get<double>() +
                            0.46 * a["coherence"].get<double>() + 0.47 * a["complexity"].get<double>() -
                            0.33 * a["verbosity"].get<double>();
    EXPECT_NEAR(line["score"].get<double>(), weighted, 1e-9);
    EXPECT_TRUE(line.contains("human_helpfulness"));
  }
}

TEST_F(EndToEnd, JudgeCorrelateSelect) {
  const std::string out = dir_ + "/judged.jsonl";
  auto r = run_arbiter("-q judge -m " + dir_ + "/judge -i " + sample_ + " -o " + out +
                       " --template direct-helpfulness --score-tokens 0..4 --per-layer");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(out);
  ASSERT_EQ(lines.size(), 8u);
  for (const auto& line : lines) {
    for (const char* field : {"vanilla", "expected", "lager"}) {
      ASSERT_TRUE(line.contains(field));
      EXPECT_GE(line[field].get<double>(), 0.0);
      EXPECT_LE(line[field].get<double>(), 4.0);
    }
    EXPECT_EQ(line["per_layer_logits"].size(), 3u);  // tiny: 2 layers + embeddings
  }
  auto corr = run_arbiter("eval correlate --pred " + out + " --pred-field lager --human " + out +
                          " --human-field human_helpfulness");
  EXPECT_EQ(corr.exit_code, 0) << corr.out;
  EXPECT_NE(corr.out.find("spearman"), std::string::npos) << corr.out;

  auto layers = run_arbiter("eval layers --input " + out + " --human-field human_helpfulness");
  EXPECT_EQ(layers.exit_code, 0) << layers.out;

  auto sel = run_arbiter("select -q -i " + out + " --by lager --top 50% --data " + sample_ + " -o " + dir_ + "/top.jsonl");
  ASSERT_EQ(sel.exit_code, 0) << sel.out;
  const auto top = read_jsonl(dir_ + "/top.jsonl");
  ASSERT_EQ(top.size(), 4u);
  // The kept rows are the dataset's own rows, with the four highest LAGER scores.
  std::vector<double> scores;
  for (const auto& line : lines) scores.push_back(line["lager"].get<double>());
  std::vector<double> sorted = scores;
  std::sort(sorted.rbegin(), sorted.rend());
  for (const auto& row : top) EXPECT_TRUE(row.contains("helpfulness") && row.contains("response"));
  size_t kept_above = 0;
  for (size_t i = 0; i < lines.size(); ++i) kept_above += scores[i] >= sorted[3];
  EXPECT_GE(kept_above, 4u);
}

TEST_F(EndToEnd, FeaturesTrainHeadScoreWithHead) {
  const std::string features = dir_ + "/features.safetensors";
  auto f = run_arbiter("-q features -m " + dir_ + "/judge -i " + sample_ + " -o " + features);
  ASSERT_EQ(f.exit_code, 0) << f.out;
  auto file = SafetensorsFile::open(features);
  ASSERT_TRUE(file.is_ok()) << file.message();
  const TensorView* x = (*file)->tensor("features");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->shape, (std::vector<int64_t>{8, 1, 64}));
  ASSERT_NE((*file)->tensor("label.helpfulness"), nullptr);
  // The sample rates two responses to each of four prompts (rows 0-1, 2-3, ...): each row's prompt is
  // named, so that training holds out whole prompts.
  {
    auto set = arbiter::train::read_features(features);
    ASSERT_TRUE(set.is_ok()) << set.message();
    const std::vector<int64_t>& prompts = set->prompt_hashes;
    ASSERT_EQ(prompts.size(), 8u);
    for (size_t row = 0; row < 8; row += 2) {
      EXPECT_EQ(prompts[row], prompts[row + 1]) << row;
      if (row > 0) {
        EXPECT_NE(prompts[row], prompts[row - 2]) << row;
      }
    }
    auto held = run_arbiter("train head --features " + features + " --attributes helpfulness --epochs 1 "
                            "--validation-fraction 0.25 --out " + dir_ + "/held.safetensors --report-json " + dir_ + "/held.json");
    ASSERT_EQ(held.exit_code, 0) << held.out;
    EXPECT_EQ(held.out.find("does not name its rows' prompts"), std::string::npos) << held.out;
    const auto report = nlohmann::json::parse(std::ifstream(dir_ + "/held.json"));
    EXPECT_EQ(report["regression"]["held_out"], "prompts");
    EXPECT_EQ(report["regression"]["validation_rows"], 2);  // one prompt of four, both its responses
  }

  auto t = run_arbiter("-q train head --features " + features + " --objective regression --attributes helpfulness "
                       "--ridge 1.0 --validation-fraction 0 --out " + dir_ + "/head.safetensors");
  ASSERT_EQ(t.exit_code, 0) << t.out;
  auto s = run_arbiter("score -m " + dir_ + "/judge --head " + dir_ + "/head.safetensors -i " + sample_ + " -o " +
                       dir_ + "/head_scores.jsonl");
  ASSERT_EQ(s.exit_code, 0) << s.out;
  EXPECT_EQ(read_jsonl(dir_ + "/head_scores.jsonl").size(), 8u);
  EXPECT_EQ(s.out.find("was trained on features of"), std::string::npos) << s.out;
  EXPECT_EQ(s.out.find("formatted otherwise"), std::string::npos) << s.out;

  // The head remembers how its training sequences were formatted: scoring them otherwise gets a warning.
  auto plain = run_arbiter("score -m " + dir_ + "/judge --head " + dir_ + "/head.safetensors -i " + sample_ + " -o " +
                           dir_ + "/plain_scores.jsonl --plain");
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  EXPECT_NE(plain.out.find("head.safetensors was trained on sequences formatted otherwise than this run's:\n  --plain: "
                           "not given for its training features, 'true' here"),
            std::string::npos)
      << plain.out;

  // A head trained on a layer's features reads that layer when it scores: its score of each row is the head
  // applied to the row's features in the file it was trained on.
  const std::string layer_features = dir_ + "/features-layer1.safetensors", layer_head = dir_ + "/head-layer1.safetensors";
  ASSERT_EQ(run_arbiter("-q features -m " + dir_ + "/judge -i " + sample_ + " -o " + layer_features + " --layer 1").exit_code, 0);
  ASSERT_EQ(run_arbiter("-q train head --features " + layer_features + " --objective regression --attributes helpfulness "
                        "--ridge 1.0 --validation-fraction 0 --out " + layer_head)
                .exit_code,
            0);
  auto layer_scored = run_arbiter("-q score -m " + dir_ + "/judge --head " + layer_head + " -i " + sample_ + " -o " + dir_ +
                                  "/layer_scores.jsonl");
  ASSERT_EQ(layer_scored.exit_code, 0) << layer_scored.out;
  auto head1 = train::load_reward_head(layer_head);
  auto set1 = train::read_features(layer_features);
  ASSERT_TRUE(head1.is_ok() && set1.is_ok());
  EXPECT_EQ(head1->layer, "layer1");
  const auto lines = read_jsonl(dir_ + "/layer_scores.jsonl");
  ASSERT_EQ(lines.size(), size_t(set1->rows));
  for (int64_t i = 0; i < set1->rows; ++i) {
    const double expected = train::head_score(*head1, set1->at(i, 0));
    EXPECT_NEAR(lines[size_t(i)]["score"].get<double>(), expected, 1e-4 * (1.0 + std::fabs(expected))) << i;
  }
  // A layer the model does not have is refused, naming it.
  auto edited = *head1;
  edited.layer = "layer9";
  ASSERT_TRUE(train::save_reward_head(dir_ + "/head-layer9.safetensors", edited).is_ok());
  auto missing_layer = run_arbiter("-q score -m " + dir_ + "/judge --head " + dir_ + "/head-layer9.safetensors -i " +
                                   sample_ + " -o " + dir_ + "/layer9.jsonl");
  EXPECT_NE(missing_layer.exit_code, 0);
  EXPECT_NE(missing_layer.out.find("head-layer9.safetensors: the head reads layer 9"), std::string::npos) << missing_layer.out;

  // The head remembers its backbone: on another model of the same width it still scores, with a warning.
  auto other = run_arbiter("-q create-model --arch qwen3 --seed 7 --tokenizer " + kShared + "/fixtures/tokenizers/qwen3 --out " +
                           dir_ + "/other-judge");
  ASSERT_EQ(other.exit_code, 0) << other.out;
  auto elsewhere = run_arbiter("score -m " + dir_ + "/other-judge --head " + dir_ + "/head.safetensors -i " + sample_ +
                               " -o " + dir_ + "/other_scores.jsonl");
  ASSERT_EQ(elsewhere.exit_code, 0) << elsewhere.out;
  EXPECT_NE(elsewhere.out.find("head.safetensors was trained on features of " + dir_ + "/judge (fingerprint "),
            std::string::npos)
      << elsewhere.out;

  // Exported as a Hugging Face classifier: onto its own backbone quietly; onto another model, or from
  // features formatted with options the directory cannot carry (--plain), with a warning that says so.
  const std::string features_cmd = "train head --features " + features + " --objective regression --attributes "
                                   "helpfulness --ridge 1.0 --validation-fraction 0 --out " + dir_ + "/exported-head.safetensors";
  auto own = run_arbiter(features_cmd + " --export-hf-dir " + dir_ + "/hf-own --backbone " + dir_ + "/judge");
  ASSERT_EQ(own.exit_code, 0) << own.out;
  EXPECT_EQ(own.out.find("another model"), std::string::npos) << own.out;
  EXPECT_EQ(own.out.find("formatted with options"), std::string::npos) << own.out;
  auto onto_other = run_arbiter(features_cmd + " --export-hf-dir " + dir_ + "/hf-other --backbone " + dir_ + "/other-judge");
  ASSERT_EQ(onto_other.exit_code, 0) << onto_other.out;
  EXPECT_NE(onto_other.out.find("the exported classifier puts the head on another model"), std::string::npos) << onto_other.out;
  const std::string plain_features = dir_ + "/plain-features.safetensors";
  ASSERT_EQ(run_arbiter("-q features -m " + dir_ + "/judge -i " + sample_ + " -o " + plain_features + " --plain").exit_code, 0);
  auto from_plain = run_arbiter("train head --features " + plain_features + " --objective regression --attributes "
                                "helpfulness --ridge 1.0 --validation-fraction 0 --out " + dir_ + "/plain-head.safetensors"
                                " --export-hf-dir " + dir_ + "/hf-plain --backbone " + dir_ + "/judge");
  ASSERT_EQ(from_plain.exit_code, 0) << from_plain.out;
  EXPECT_NE(from_plain.out.find("the head was trained on sequences formatted with options the exported directory does "
                                "not carry:\n  --plain: 'true' for its training features"),
            std::string::npos)
      << from_plain.out;
}

}  // namespace
}  // namespace arbiter

namespace arbiter {
namespace {

using namespace arbiter::testing;

// RewardBench as Hugging Face publishes it (Parquet): the scores written from the Parquet file are the
// scores written from the same rows as JSONL, line for line, and `eval rewardbench` reads them.
TEST_F(EndToEnd, ParquetRewardBenchScoresAsItsJsonl) {
  const std::string data = std::string(ARBITER_TEST_DATA_DIR) + "/parquet/rewardbench_snappy";
  const std::string from_parquet = dir_ + "/rb-parquet.jsonl", from_jsonl = dir_ + "/rb-jsonl.jsonl";
  for (const auto& [input, output] : {std::pair{data + ".parquet", from_parquet}, {data + ".expected.jsonl", from_jsonl}}) {
    auto r = run_arbiter("-q score -m " + dir_ + "/rm -i " + input + " -o " + output + " --attribute-weights nemotron");
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  EXPECT_EQ(read_text(from_parquet), read_text(from_jsonl));
  auto eval = run_arbiter("eval rewardbench --json --input " + from_parquet);
  ASSERT_EQ(eval.exit_code, 0) << eval.out;
  const auto report = nlohmann::json::parse(eval.out.substr(eval.out.find('{')));
  EXPECT_EQ(report["version"], 1);
  EXPECT_EQ(report["rows"], 50);
  EXPECT_EQ(report["error_rows"], 0);
}

// Chosen / rejected pairs carry no preference strength: their features say "response 1 preferred" so
// that a Bradley-Terry head trains on them (the most common preference data layout).
TEST_F(EndToEnd, ChosenRejectedPairsTrainABradleyTerryHead) {
  const std::string data = std::string(ARBITER_TEST_DATA_DIR) + "/parquet/rewardbench_snappy.parquet";
  const std::string features = dir_ + "/rb-features.safetensors";
  auto f = run_arbiter("-q features -m " + dir_ + "/rm -i " + data + " -o " + features);
  ASSERT_EQ(f.exit_code, 0) << f.out;
  auto set = train::read_features(features);
  ASSERT_TRUE(set) << set.message();
  EXPECT_EQ(set->responses, 2);
  ASSERT_TRUE(set->labels.count("preference_strength"));
  for (const double strength : set->labels.at("preference_strength")) EXPECT_EQ(strength, -1.0);
  auto head = run_arbiter("-q train head --features " + features + " --objective bt --epochs 3 --out " + dir_ +
                          "/rb-head.safetensors");
  ASSERT_EQ(head.exit_code, 0) << head.out;
}

}  // namespace
}  // namespace arbiter
