// End-to-end: `arbiter train lager` and `arbiter train head` on small generated files.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "train/features_file.h"
#include "train/lager.h"
#include "train/reward_head.h"

#include "../../support/cli_helpers.h"
#include "../../support/scratch_root.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using arbiter::testing::RunResult;
using arbiter::testing::run_arbiter;

using arbiter::test::scratch_path;

class CliTrain : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(ARBITER_BINARY)) GTEST_SKIP() << "arbiter binary not built: " << ARBITER_BINARY;
  }
};

// 600 items, 5 layers; layer 2 carries the human score, the others noise.
std::string write_layer_rows() {
  const std::string path = scratch_path("layers.jsonl");
  std::ofstream out(path);
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::uniform_int_distribution<int> rating(1, 5);
  for (int i = 0; i < 600; ++i) {
    const double human = (rating(rng) + rating(rng)) / 2.0;
    json logits = json::array();
    for (int l = 0; l < 5; ++l) {
      json row = json::array();
      for (int k = 1; k <= 5; ++k)
        row.push_back(l == 2 ? -1.5 * (k - human) * (k - human) + 0.3 * noise(rng) : 2.0 * noise(rng));
      logits.push_back(row);
    }
    out << json{{"id", "item-" + std::to_string(i)}, {"score_values", {1, 2, 3, 4, 5}}, {"per_layer_logits", logits},
                {"human", human}}
               .dump()
        << "\n";
  }
  return path;
}

TEST_F(CliTrain, LagerWritesWeightsAndReport) {
  const std::string input = write_layer_rows(), weights = scratch_path("w.json"), report = scratch_path("r.json");
  const RunResult r = run_arbiter("train lager --input " + input + " --human-field human --out " + weights +
                                  " --epochs 3 --report-json " + report);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("rows 600 (train 480, validation 120), layers 5, score values 5"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("step 360/360"), std::string::npos) << r.out;  // 3 epochs x 120 batches of 4
  EXPECT_NE(r.out.find("LAGER tuned"), std::string::npos) << r.out;
  auto loaded = arbiter::train::load_lager_weights(weights);
  ASSERT_TRUE(loaded.is_ok()) << loaded.message();
  EXPECT_GT(loaded->layer_weights[2], 0.5);
  EXPECT_EQ(loaded->train.rows, 480u);
  EXPECT_EQ(loaded->train.batch, 4);
  std::ifstream in(report);
  const json doc = json::parse(in);
  EXPECT_EQ(doc["evaluated_on"], "validation");
  EXPECT_EQ(doc["per_layer"].size(), 5u);
  EXPECT_GT(doc["tuned"].get<double>(), doc["final_layer"].get<double>() + 0.3);
  EXPECT_FALSE(doc["loss_curve"].empty());
}

// The shards of a judge run concatenated in any order fit the weights the whole file fits: rows are taken
// in the order of their ids before the seeded split and shuffle.
TEST_F(CliTrain, LagerFitsShardsConcatenatedInAnyOrderAsTheWholeFile) {
  const std::string input = write_layer_rows();
  std::vector<std::string> shards(3);
  {
    std::ifstream in(input);
    std::string line;
    for (size_t i = 0; std::getline(in, line); ++i) shards[i % 3] += line + "\n";
  }
  const std::string shuffled = scratch_path("layers-shards.jsonl");
  std::ofstream(shuffled) << shards[2] << shards[0] << shards[1];
  const std::string whole_out = scratch_path("w-whole.json"), shard_out = scratch_path("w-shards.json");
  ASSERT_EQ(run_arbiter("-q train lager --input " + input + " --human-field human --out " + whole_out).exit_code, 0);
  ASSERT_EQ(run_arbiter("-q train lager --input " + shuffled + " --human-field human --out " + shard_out).exit_code, 0);
  auto whole = arbiter::train::load_lager_weights(whole_out);
  auto sharded = arbiter::train::load_lager_weights(shard_out);
  ASSERT_TRUE(whole.is_ok() && sharded.is_ok());
  EXPECT_EQ(sharded->layer_weights, whole->layer_weights);
  EXPECT_EQ(sharded->a, whole->a);
}

// Rows at the edges of what can be fitted: logits so large that Adam's squared gradients overflow are
// refused (the weights would be written untrained); large but fittable ones print their loss in exponent
// notation (fixed notation cut it short); constant labels say why every correlation is nan; a single held-out
// row is trained on rather than left out of both sides.
TEST_F(CliTrain, LagerAtTheEdgesSaysWhatHappened) {
  auto write_rows = [](const std::string& name, int n, double scale, bool constant) {
    const std::string path = scratch_path(name);
    std::ofstream out(path);
    std::mt19937_64 rng(3);
    std::normal_distribution<double> noise(0.0, 1.0);
    for (int i = 0; i < n; ++i) {
      json logits = json::array();
      for (int l = 0; l < 3; ++l) logits.push_back({scale * noise(rng), scale * noise(rng), scale * noise(rng)});
      out << json{{"id", i}, {"score_values", {1, 2, 3}}, {"per_layer_logits", logits},
                  {"human", constant ? 2.0 : double(1 + i % 3)}}.dump() << "\n";
    }
    return path;
  };
  const RunResult huge = run_arbiter("train lager --input " + write_rows("huge.jsonl", 20, 1e200, false) +
                                     " --human-field human --out " + scratch_path("huge.json"));
  EXPECT_NE(huge.exit_code, 0);
  EXPECT_NE(huge.out.find("too large to fit weights on"), std::string::npos) << huge.out;
  EXPECT_FALSE(fs::exists(scratch_path("huge.json")));

  const RunResult large = run_arbiter("train lager --input " + write_rows("large.jsonl", 20, 1e20, false) +
                                      " --human-field human --out " + scratch_path("large.json"));
  ASSERT_EQ(large.exit_code, 0) << large.out;
  const size_t loss_at = large.out.find("final loss ");
  ASSERT_NE(loss_at, std::string::npos) << large.out;
  EXPECT_NE(large.out.substr(loss_at, 40).find("e+"), std::string::npos) << large.out;

  const RunResult flat = run_arbiter("train lager --input " + write_rows("flat.jsonl", 20, 1.0, true) +
                                     " --human-field human --out " + scratch_path("flat.json"));
  ASSERT_EQ(flat.exit_code, 0) << flat.out;
  EXPECT_NE(flat.out.find("labels are all equal, so no correlation is defined"), std::string::npos) << flat.out;

  const RunResult five = run_arbiter("train lager --input " + write_rows("five.jsonl", 5, 1.0, false) +
                                     " --human-field human --out " + scratch_path("five.json"));
  ASSERT_EQ(five.exit_code, 0) << five.out;
  EXPECT_NE(five.out.find("rows 5 (train 5, validation 0)"), std::string::npos) << five.out;
  EXPECT_NE(five.out.find("it is trained on too"), std::string::npos) << five.out;
  auto fitted = arbiter::train::load_lager_weights(scratch_path("five.json"));
  ASSERT_TRUE(fitted.is_ok()) << fitted.message();
  EXPECT_EQ(fitted->train.rows, 5u);

  // A yes / no judge's rows (values 0 and 1, labels 0 or 1) are verdicts, not a pairwise judge's comparisons.
  {
    std::ofstream out(scratch_path("yes-no.jsonl"));
    for (int i = 0; i < 20; ++i)
      out << json{{"id", i}, {"score_values", {0, 1}}, {"per_layer_logits", {{0.1 * i, 0.0}, {0.0, 0.05 * i}}},
                  {"human", i % 2}}.dump() << "\n";
  }
  const RunResult yes_no = run_arbiter("train lager --input " + scratch_path("yes-no.jsonl") + " --human-field human --out " +
                                       scratch_path("yes-no.json"));
  ASSERT_EQ(yes_no.exit_code, 0) << yes_no.out;
  EXPECT_NE(yes_no.out.find("accuracy of the 0/1 verdicts on the validation rows"), std::string::npos) << yes_no.out;
}

TEST_F(CliTrain, LagerRejectsMissingField) {
  const std::string input = write_layer_rows();
  const RunResult r = run_arbiter("train lager --input " + input + " --human-field nope --out " + scratch_path("x.json"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("nope"), std::string::npos) << r.out;
}

// Pairs and rated rows from the linear reward r(x) = x_0 - x_1 (d = 8).
void write_feature_files(const std::string& pairs_path, const std::string& rated_path, const std::string& labels_path) {
  std::mt19937_64 rng(2);
  std::normal_distribution<double> normal(0.0, 1.0);
  arbiter::train::FeatureSet pairs;
  pairs.rows = 400;
  pairs.responses = 2;
  pairs.dim = 8;
  pairs.layer = "final_norm";
  std::vector<double> strength;
  for (int i = 0; i < 400; ++i) {
    double r[2];
    for (int resp = 0; resp < 2; ++resp) {
      for (int j = 0; j < 8; ++j) pairs.features.push_back(float(normal(rng)));
      const float* x = pairs.features.data() + pairs.features.size() - 8;
      r[resp] = 2.0 * (x[0] - x[1]);
    }
    const double s = std::clamp(std::round(r[1] - r[0]), -3.0, 3.0);
    strength.push_back(s);
    pairs.ids.push_back(std::string(1, 'p').append(std::to_string(i)));
  }
  pairs.labels["preference_strength"] = strength;
  ASSERT_TRUE(arbiter::train::write_features(pairs_path, pairs).is_ok());

  arbiter::train::FeatureSet rated;
  rated.rows = 300;
  rated.responses = 1;
  rated.dim = 8;
  rated.layer = "final_norm";
  std::ofstream labels(labels_path);
  std::vector<double> helpfulness;
  for (int i = 0; i < 300; ++i) {
    for (int j = 0; j < 8; ++j) rated.features.push_back(float(normal(rng)));
    const float* x = rated.features.data() + rated.features.size() - 8;
    helpfulness.push_back(2.0 + x[0] - x[1] + 0.1 * normal(rng));
    rated.ids.push_back(std::to_string(i));
    labels << json{{"id", i}, {"helpfulness", helpfulness.back()}, {"verbosity", x[2]}}.dump() << "\n";
  }
  rated.labels["helpfulness"] = helpfulness;
  ASSERT_TRUE(arbiter::train::write_features(rated_path, rated).is_ok());
}

TEST_F(CliTrain, HeadObjectives) {
  const std::string pairs = scratch_path("pairs.safetensors"), rated = scratch_path("rated.safetensors"),
                    labels = scratch_path("labels.jsonl");
  write_feature_files(pairs, rated, labels);
  for (const char* objective : {"bt", "bt-margin", "bt-scaled"}) {
    const std::string out = scratch_path(std::string(objective) + ".safetensors");
    const RunResult r = run_arbiter("train head --features " + pairs + " --objective " + objective + " --out " + out);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("accuracy"), std::string::npos) << r.out;
    auto head = arbiter::train::load_reward_head(out);
    ASSERT_TRUE(head.is_ok()) << head.message();
    EXPECT_EQ(head->objective, objective);
    EXPECT_GT(head->weight[0], 0.0);
    EXPECT_LT(head->weight[1], 0.0);
    EXPECT_GT(head->weight[0], 5 * std::fabs(head->weight[2])) << objective;
  }
  // Regression with labels from a JSONL file (matched by id), and ridge.
  const std::string reg = scratch_path("reg.safetensors"), report = scratch_path("reg.json");
  RunResult r = run_arbiter("train head --features " + rated + " --labels " + labels +
                            " --attributes helpfulness,verbosity --out " + reg + " --report-json " + report);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto head = arbiter::train::load_reward_head(reg);
  ASSERT_TRUE(head.is_ok());
  EXPECT_EQ(head->labels, (std::vector<std::string>{"helpfulness", "verbosity"}));
  EXPECT_NEAR(head->weight[0], 1.0, 0.05);
  EXPECT_NEAR(head->weight[8 + 2], 1.0, 0.05);
  EXPECT_NEAR(head->bias[0], 2.0, 0.1);
  EXPECT_NE(r.out.find("regression epoch 1 "), std::string::npos) << r.out;
  r = run_arbiter("train head --features " + rated + " --attributes helpfulness --ridge 0.1 --out " + reg);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("ridge regression"), std::string::npos);
  // -q is errors only: the report file keeps what the run did.
  r = run_arbiter("-q train head --features " + rated + " --labels " + labels + " --attributes helpfulness --out " + reg);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "");
  // Combined: regression on helpfulness, then Scaled BT, then ExPO.
  const std::string combined = scratch_path("combined.safetensors");
  r = run_arbiter("train head --features " + pairs + " --regression-features " + rated +
                  " --objective combined --expo-alpha 0.3 --out " + combined);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("ExPO alpha 0.300"), std::string::npos) << r.out;
  head = arbiter::train::load_reward_head(combined);
  ASSERT_TRUE(head.is_ok());
  EXPECT_EQ(head->labels, (std::vector<std::string>{"helpfulness"}));
  EXPECT_EQ(head->objective, "combined");
}

TEST_F(CliTrain, HeadErrors) {
  const std::string pairs = scratch_path("pairs2.safetensors"), rated = scratch_path("rated2.safetensors"),
                    labels = scratch_path("labels2.jsonl");
  write_feature_files(pairs, rated, labels);
  RunResult r = run_arbiter("train head --features " + pairs + " --objective regression --out " + scratch_path("x"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("1 response"), std::string::npos) << r.out;
  r = run_arbiter("train head --features " + pairs + " --objective combined --out " + scratch_path("x"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("--regression-features"), std::string::npos) << r.out;
  // The regression stage of a combined head reads the preference features' model and stream, or the head
  // would start from weights fitted to other hidden states.
  {
    auto other = arbiter::train::read_features(rated);
    ASSERT_TRUE(other.is_ok()) << other.message();
    other->layer = "layer1";
    const std::string other_layer = scratch_path("rated-layer1.safetensors");
    ASSERT_TRUE(arbiter::train::write_features(other_layer, *other).is_ok());
    r = run_arbiter("train head --features " + pairs + " --regression-features " + other_layer +
                    " --objective combined --out " + scratch_path("x"));
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("rated-layer1.safetensors: features of layer 'layer1', where "), std::string::npos) << r.out;
    other->layer = "final_norm";
    other->model = "another-model";
    other->model_fingerprint = "0123456789abcdef";
    const std::string other_model = scratch_path("rated-other-model.safetensors");
    ASSERT_TRUE(arbiter::train::write_features(other_model, *other).is_ok());
    r = run_arbiter("train head --features " + pairs + " --regression-features " + other_model +
                    " --objective combined --out " + scratch_path("x"));
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.out.find("rated-other-model.safetensors: features of model 'another-model'"), std::string::npos) << r.out;
  }
  // Options the chosen fit would not read are refused, not dropped: Adam's with --ridge, --attributes with
  // an objective that trains on preference_strength (or combined's helpfulness), --regression-features
  // without combined.
  for (const std::string adam : {"--lr 0.1", "--epochs 3", "--weight-decay 1", "--batch 4", "--patience 2", "--no-standardize"}) {
    r = run_arbiter("train head --features " + rated + " --attributes helpfulness --ridge 1 " + adam + " --out " + scratch_path("x"));
    EXPECT_EQ(r.exit_code, 1) << adam;
    EXPECT_NE(r.out.find(adam.substr(0, adam.find(' ')) + " is an option of the Adam fit; --ridge solves in closed form"),
              std::string::npos) << r.out;
  }
  r = run_arbiter("train head --features " + pairs + " --regression-features " + rated +
                  " --objective combined --attributes verbosity --out " + scratch_path("x"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("--attributes is for --objective regression or binary"), std::string::npos) << r.out;
  r = run_arbiter("train head --features " + pairs + " --objective bt --regression-features " + rated + " --out " + scratch_path("x"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("--regression-features is the regression stage of --objective combined"), std::string::npos) << r.out;

  r = run_arbiter("train head --features " + scratch_path("missing.safetensors") + " --out " + scratch_path("x"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("missing.safetensors"), std::string::npos) << r.out;

  // A ridge that is no ridge is refused, not taken as "train with Adam".
  for (const char* ridge : {"-1", "nan"}) {
    r = run_arbiter("train head --features " + rated + " --attributes helpfulness --ridge " + ridge + " --out " + scratch_path("x"));
    EXPECT_NE(r.exit_code, 0) << ridge;
    EXPECT_NE(r.out.find("--ridge: must be a finite number >= 0"), std::string::npos) << r.out;
  }
  // Labels: one id twice, or a value no F32 label holds.
  {
    std::ifstream in(labels);
    std::string first;
    std::getline(in, first);
    std::ofstream(scratch_path("labels-twice.jsonl")) << std::ifstream(labels).rdbuf() << first << "\n";
    std::ofstream(scratch_path("labels-huge.jsonl")) << R"({"id": 0, "helpfulness": 1e300})" "\n";
  }
  r = run_arbiter("train head --features " + rated + " --labels " + scratch_path("labels-twice.jsonl") +
                  " --attributes helpfulness --out " + scratch_path("x"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("labels-twice.jsonl:301: a second row for feature row 0 (id '0')"), std::string::npos) << r.out;
  r = run_arbiter("train head --features " + rated + " --labels " + scratch_path("labels-huge.jsonl") +
                  " --attributes helpfulness --out " + scratch_path("x"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("labels-huge.jsonl:1: field 'helpfulness' (1e+300) is outside what a label can be"), std::string::npos)
      << r.out;
}

std::string slurp_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A run that fails leaves an older --out as it was: an export that cannot be done is refused before
// training, and a report that cannot be written keeps the head (or the layer weights) from being written.
// A head no scorer could use (a diverged run, an ExPO alpha that is no number) is an error, not a file.
TEST_F(CliTrain, AFailingRunLeavesTheOlderOutputsAndWritesNoUnusableHead) {
  const std::string pairs = scratch_path("pairs3.safetensors"), rated = scratch_path("rated3.safetensors"),
                    labels = scratch_path("labels3.jsonl");
  write_feature_files(pairs, rated, labels);
  const std::string head = scratch_path("kept.safetensors");
  RunResult r = run_arbiter("-q train head --features " + rated + " --attributes helpfulness --out " + head);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string before = slurp_file(head);

  r = run_arbiter("train head --features " + pairs + " --objective bt --out " + head + " --export-hf-dir " +
                  scratch_path("hf-out") + " --backbone " + scratch_path("no-such-model"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("no-such-model"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("epoch"), std::string::npos) << "refused before training:\n" << r.out;
  EXPECT_EQ(slurp_file(head), before);

  r = run_arbiter("train head --features " + pairs + " --objective bt --out " + head + " --report-json " +
                  scratch_path("no-such-folder") + "/report.json");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("no-such-folder/report.json"), std::string::npos) << r.out;
  EXPECT_EQ(slurp_file(head), before);
  // A report to a device is written first (in place): a full one leaves the head as it was too.
  if (fs::exists("/dev/full")) {
    r = run_arbiter("train head --features " + pairs + " --objective bt --out " + head + " --report-json /dev/full");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.out.find("/dev/full: write failed"), std::string::npos) << r.out;
    EXPECT_EQ(slurp_file(head), before);
  }

  const std::string weights = scratch_path("kept-lager.json"), rows = write_layer_rows();
  r = run_arbiter("-q train lager --input " + rows + " --human-field human --out " + weights);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string weights_before = slurp_file(weights);
  r = run_arbiter("-q train lager --input " + rows + " --human-field human --lr 0.2 --out " + weights + " --report-json " +
                  scratch_path("no-such-folder") + "/lager.json");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(slurp_file(weights), weights_before);

  for (const char* alpha : {"nan", "inf"}) {
    r = run_arbiter("train head --features " + pairs + " --regression-features " + rated +
                    " --objective combined --expo-alpha " + alpha + " --out " + head);
    EXPECT_NE(r.exit_code, 0) << alpha;
    EXPECT_NE(r.out.find("--expo-alpha must be a finite number"), std::string::npos) << r.out;
  }
  r = run_arbiter("train head --features " + pairs + " --objective bt --lr 1e300 --out " + head);
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_TRUE(r.out.find("training diverged") != std::string::npos || r.out.find("which no scorer can use") != std::string::npos)
      << r.out;
  EXPECT_EQ(slurp_file(head), before);

  r = run_arbiter("train head --features " + rated + " --labels " + labels + " --attributes helpfulness,helpfulness --out " + head);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("--attributes names 'helpfulness' twice"), std::string::npos) << r.out;

  // One features file holding a row twice: refused, naming the id.
  auto set = arbiter::train::read_features(rated);
  ASSERT_TRUE(set.is_ok()) << set.message();
  set->ids[5] = set->ids[2];
  const std::string twice = scratch_path("rated-id-twice.safetensors");
  ASSERT_TRUE(arbiter::train::write_features(twice, *set).is_ok());
  r = run_arbiter("train head --features " + twice + " --attributes helpfulness --out " + head);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("rated-id-twice.safetensors: row id '2' appears twice (feature rows 2 and 5)"), std::string::npos)
      << r.out;
  EXPECT_EQ(slurp_file(head), before);
}

// An output that names an input (or the other output) is refused before anything is written: the
// features or judged rows are the product of hours on a real backbone.
TEST_F(CliTrain, OutputsThatAreInputsAreRefused) {
  const std::string pairs = scratch_path("pairs-kept.safetensors"), rated = scratch_path("rated-kept.safetensors"),
                    labels = scratch_path("labels-kept.jsonl");
  write_feature_files(pairs, rated, labels);
  const std::string layers = write_layer_rows();
  auto bytes = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string rated_before = bytes(rated), layers_before = bytes(layers);
  const std::string head = scratch_path("kept-head.safetensors");
  // Folders: a backbone the head would be written into, an export folder that holds the features.
  const std::string backbone = scratch_path("kept-backbone"), export_dir = scratch_path("kept-export");
  fs::create_directories(backbone);
  fs::create_directories(export_dir);
  std::ofstream(backbone + "/config.json") << "{}";
  const std::string inside_export = export_dir + "/rated.safetensors";
  fs::copy_file(rated, inside_export, fs::copy_options::overwrite_existing);
  const std::string fresh = scratch_path("fresh-head.safetensors");
  const std::string fresh_again = fs::path(fresh).parent_path().string() + "/./" + fs::path(fresh).filename().string();
  const std::pair<std::string, std::string> cases[] = {
      {"train head --features " + rated + " --attributes helpfulness --out " + backbone + "/model.safetensors --backbone " +
           backbone + " --export-hf-dir " + scratch_path("kept-export-2"),
       "lies inside --backbone " + backbone},
      // The folder spelled with a trailing separator is the same folder.
      {"train head --features " + rated + " --attributes helpfulness --out " + backbone + "/model.safetensors --backbone " +
           backbone + "/ --export-hf-dir " + scratch_path("kept-export-2"),
       "lies inside --backbone " + backbone + "/"},
      {"train head --features " + inside_export + " --attributes helpfulness --out " + head + " --backbone " + backbone +
           " --export-hf-dir " + export_dir,
       "--features " + inside_export + " lies inside --export-hf-dir " + export_dir},
      {"train head --features " + rated + " --attributes helpfulness --out " + fresh + " --report-json " + fresh_again,
       "--report-json " + fresh_again + " is also --out"},
      {"train head --features " + rated + " --attributes helpfulness --out " + rated, "--out " + rated + " is the file --features names"},
      {"train head --features " + rated + " --labels " + labels + " --attributes helpfulness --out " + head +
           " --report-json " + labels, "--report-json " + labels + " is the file --labels names"},
      {"train head --features " + rated + " --attributes helpfulness --out " + head + " --report-json " + head,
       "--report-json " + head + " is also --out"},
      {"train lager --input " + layers + " --human-field human --out " + layers, "--out " + layers + " is the file --input names"},
      // An output the --features pattern would match once written: the next run would read it as features.
      {"train head --features '" + scratch_path("rated-k*.safetensors") + "' --attributes helpfulness --out " +
           scratch_path("rated-k9.safetensors"),
       "is the file --features names"},
  };
  for (const auto& [command, message] : cases) {
    const RunResult r = run_arbiter(command);
    EXPECT_NE(r.exit_code, 0) << command << "\n" << r.out;
    EXPECT_NE(r.out.find(message), std::string::npos) << command << "\n" << r.out;
  }
  EXPECT_EQ(bytes(rated), rated_before);
  EXPECT_EQ(bytes(inside_export), rated_before);
  EXPECT_EQ(bytes(layers), layers_before);
  EXPECT_FALSE(fs::exists(head));
  EXPECT_FALSE(fs::exists(fresh));
  EXPECT_FALSE(fs::exists(backbone + "/model.safetensors"));
}

// A head with more weights than training rows can fit them exactly: the run goes on and says so, and a
// penalty or enough rows silence it.
TEST_F(CliTrain, HeadWarnsWhenRowsAreFewerThanFeatures) {
  auto write_rated = [](const std::string& path, int rows) {
    arbiter::train::FeatureSet set;
    set.rows = rows;
    set.responses = 1;
    set.dim = 8;
    set.layer = "final_norm";
    std::vector<double> helpfulness;
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < 8; ++j) set.features.push_back(float((i * 7 + j * 3) % 5) - 2.0f);
      helpfulness.push_back(double(i % 5));
      set.ids.push_back(std::to_string(i));
    }
    set.labels["helpfulness"] = helpfulness;
    ASSERT_TRUE(arbiter::train::write_features(path, set).is_ok());
  };
  const std::string one = scratch_path("rated-one.safetensors"), four = scratch_path("rated-four.safetensors"),
                    many = scratch_path("rated-many.safetensors"), out = scratch_path("few.safetensors");
  write_rated(one, 1);
  write_rated(four, 4);
  write_rated(many, 40);
  RunResult r = run_arbiter("train head --features " + one + " --attributes helpfulness --validation-fraction 0 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("the regression stage trains on 1 row: the head memorises it"), std::string::npos) << r.out;
  r = run_arbiter("train head --features " + four + " --attributes helpfulness --validation-fraction 0 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("the regression stage trains on 4 rows for 8 features without a penalty"), std::string::npos) << r.out;
  r = run_arbiter("train head --features " + four + " --attributes helpfulness --validation-fraction 0 --ridge 0.5 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("trains on"), std::string::npos) << r.out;
  r = run_arbiter("train head --features " + many + " --attributes helpfulness --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("trains on"), std::string::npos) << r.out;
}

// What a run cannot vouch for is said: held-out rows that may share prompts with trained ones (features
// that do not name their prompts), HelpSteer2 attributes off their 0-4 scale, a logistic label of one
// class; and a labels file that is short says so.
TEST_F(CliTrain, HeadSaysWhatItsSplitAndLabelsCannotSupport) {
  arbiter::train::FeatureSet set;
  set.rows = 40;
  set.responses = 1;
  set.dim = 4;
  set.layer = "final_norm";
  std::vector<double> helpfulness, correct;
  for (int i = 0; i < set.rows; ++i) {
    for (int j = 0; j < 4; ++j) set.features.push_back(float((i * 7 + j * 3) % 5) - 2.0f);
    helpfulness.push_back(i == 5 ? 7.0 : double(i % 5));
    correct.push_back(1.0);
    set.ids.push_back(std::to_string(i));
  }
  set.labels["helpfulness"] = helpfulness;
  set.labels["step_correct"] = correct;
  const std::string path = scratch_path("unnamed-prompts.safetensors"), out = scratch_path("said.safetensors");
  ASSERT_TRUE(arbiter::train::write_features(path, set).is_ok());
  RunResult r = run_arbiter("train head --features " + path + " --attributes helpfulness --epochs 1 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("does not name its rows' prompts (written before features files kept them): rows are held out "
                       "one by one"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 rows have helpfulness outside HelpSteer2's 0-4 scale (the first: row 5, id 5, 7.0)"),
            std::string::npos) << r.out;
  r = run_arbiter("train head --features " + path + " --objective binary --epochs 1 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("every row labelled step_correct is at or above 0.5 (one class): the head learns a constant"),
            std::string::npos) << r.out;
  // Labels by position, the file one row short: the row it lacks is named, not the ids blamed.
  {
    std::ofstream labels(scratch_path("short-labels.jsonl"));
    for (int i = 0; i + 1 < set.rows; ++i) labels << json{{"helpfulness", 1}}.dump() << "\n";
  }
  r = run_arbiter("train head --features " + path + " --labels " + scratch_path("short-labels.jsonl") +
                  " --attributes helpfulness --epochs 1 --out " + out);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("no labels for feature row 39 (id '39'): the file's 39 rows have no 'id', so each labels the "
                       "feature row whose id is its index, and the file has no row 39"), std::string::npos) << r.out;
}

// LAGER's fit needs labels on the judge's scale and score values that differ; and a run that cannot report
// leaves an older --out as it was.
TEST_F(CliTrain, LagerRefusesLabelsItCannotFit) {
  const std::string out = scratch_path("lager-kept.json");
  auto rows = [](double human, const json& values, int n = 4) {
    json logits = json::array({json::array({0.1, 0.2, 0.3}), json::array({0.3, 0.2, 0.1})});
    std::string text;
    for (int i = 0; i < n; ++i)
      text += json{{"id", i}, {"score_values", values}, {"per_layer_logits", logits}, {"human", i == 0 ? human : 2.0}}.dump() + "\n";
    return text;
  };
  std::ofstream(scratch_path("outside.jsonl")) << rows(7.0, {1, 2, 3});
  std::ofstream(scratch_path("equal.jsonl")) << rows(3.0, {3, 3, 3});
  // A row of another depth, and listwise reads of another size: named by their lines (and order).
  std::ofstream(scratch_path("depths.jsonl"))
      << rows(2.0, {1, 2, 3}, 2)
      << json{{"id", 9}, {"score_values", {1, 2, 3}}, {"per_layer_logits", {{0.1, 0.2, 0.3}}}, {"human", 2.0}}.dump() << "\n";
  auto order = [](int labels, int best) {
    json logits = json::array();
    for (int l = 0; l < 2; ++l) {
      json layer = json::array();
      for (int k = 0; k < labels; ++k) layer.push_back(0.1 * (k + l));
      logits.push_back(layer);
    }
    return json{{"per_layer_logits", logits}, {"human", best}};
  };
  std::ofstream(scratch_path("sizes.jsonl"))
      << json{{"id", "a"}, {"orders", {order(2, 0), order(2, 1)}}}.dump() << "\n"
      << json{{"id", "b"}, {"orders", {order(2, 1), order(2, 0)}}}.dump() << "\n"
      << json{{"id", "c"}, {"orders", {order(3, 2), order(3, 0)}}}.dump() << "\n";
  std::ofstream(out) << "old";
  const std::pair<std::string, std::string> cases[] = {
      {"outside.jsonl", "outside.jsonl:1: the human score 7.000000 is outside the score values 1..3"},
      {"depths.jsonl", "depths.jsonl:3: 1 layers, where "},
      {"sizes.jsonl", "sizes.jsonl:3 (orders[0]): shows 3 responses, where "},
      {"equal.jsonl", "score_values are all equal"},
  };
  for (const auto& [input, message] : cases) {
    const RunResult r = run_arbiter("train lager --input " + scratch_path(input) + " --human-field human --out " + out);
    EXPECT_NE(r.exit_code, 0) << input;
    EXPECT_NE(r.out.find(message), std::string::npos) << input << "\n" << r.out;
    std::ifstream kept(out);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(kept), {}), "old") << input;
  }
  const RunResult layers = run_arbiter("eval layers --input " + scratch_path("equal.jsonl") + " --human-field human");
  EXPECT_NE(layers.exit_code, 0);
  EXPECT_NE(layers.out.find("score_values are all equal"), std::string::npos) << layers.out;
}

}  // namespace
