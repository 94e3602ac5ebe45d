// LAGER layer weights: the loss gradient against finite differences, targets, the weights file, and a
// synthetic judge whose signal sits in one middle layer.
#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "train/lager.h"
#include "train/lager_fit.h"
#include "train/split.h"
#include "../../support/scratch_root.h"

namespace arbiter::train {
namespace {

using arbiter::test::scratch_path;

// rows with [layers][K] logits; layer `signal` holds -(v - h)^2 * sharpness + noise, the final layer a weak
// copy, every other layer noise only. Human scores are means of three 1..5 ratings (non-integer).
std::vector<eval::LayerRow> synthetic_rows(size_t n, size_t layers, size_t signal, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::uniform_int_distribution<int> rating(1, 5);
  std::vector<eval::LayerRow> rows(n);
  for (auto& row : rows) {
    row.score_values = {1, 2, 3, 4, 5};
    row.human = (rating(rng) + rating(rng) + rating(rng)) / 3.0;
    const int anchor = rating(rng);  // the "true quality" the signal layer sees: close to the human mean
    const double quality = 0.5 * anchor + 0.5 * row.human;
    row.per_layer_logits.assign(layers, std::vector<double>(5));
    for (size_t l = 0; l < layers; ++l)
      for (size_t k = 0; k < 5; ++k) {
        const double v = row.score_values[k];
        if (l == signal) {
          row.per_layer_logits[l][k] = -1.5 * (v - row.human) * (v - row.human) + 0.5 * noise(rng);
        } else if (l == layers - 1) {
          row.per_layer_logits[l][k] = -0.3 * (v - quality) * (v - quality) + 1.5 * noise(rng);
        } else {
          row.per_layer_logits[l][k] = 2.0 * noise(rng);
        }
      }
  }
  return rows;
}

TEST(LagerTarget, SoftSplitsBetweenNeighboursAndKeepsTheMean) {
  const std::vector<double> values = {1, 2, 3, 4, 5};
  const auto q = lager_target(values, 4.25, LagerTarget::kSoft);
  EXPECT_DOUBLE_EQ(q[2], 0.0);
  EXPECT_DOUBLE_EQ(q[3], 0.75);
  EXPECT_DOUBLE_EQ(q[4], 0.25);
  double mean = 0.0;
  for (size_t k = 0; k < 5; ++k) mean += q[k] * values[k];
  EXPECT_DOUBLE_EQ(mean, 4.25);
  EXPECT_EQ(lager_target(values, 3.0, LagerTarget::kSoft), (std::vector<double>{0, 0, 1, 0, 0}));
  EXPECT_EQ(lager_target(values, 7.0, LagerTarget::kSoft), (std::vector<double>{0, 0, 0, 0, 1}));
  EXPECT_EQ(lager_target(values, 4.33, LagerTarget::kNearest), (std::vector<double>{0, 0, 0, 1, 0}));
  EXPECT_EQ(lager_target(values, 1.5, LagerTarget::kNearest), (std::vector<double>{1, 0, 0, 0, 0}));
  // Values in any order: "9 0 5" with h = 2.5 splits between 0 and 5.
  const auto unordered = lager_target({9, 0, 5}, 2.5, LagerTarget::kSoft);
  EXPECT_DOUBLE_EQ(unordered[1], 0.5);
  EXPECT_DOUBLE_EQ(unordered[2], 0.5);
}

TEST(LagerTarget, TokensOfOneValueShareItsMass) {
  // "1,1.0,2,3" read as values 1, 1, 2, 3: the two spellings of 1 are one score.
  const std::vector<double> values = {1, 1, 2, 3};
  EXPECT_EQ(lager_target(values, 1.0, LagerTarget::kSoft), (std::vector<double>{0.5, 0.5, 0, 0}));
  EXPECT_EQ(lager_target(values, 0.0, LagerTarget::kNearest), (std::vector<double>{0.5, 0.5, 0, 0}));
  const auto q = lager_target(values, 1.25, LagerTarget::kSoft);
  EXPECT_DOUBLE_EQ(q[0], 0.375);
  EXPECT_DOUBLE_EQ(q[1], 0.375);
  EXPECT_DOUBLE_EQ(q[2], 0.25);
  EXPECT_DOUBLE_EQ(q[3], 0.0);
  // Listed from the best down, with the repeat last.
  EXPECT_EQ(lager_target({3, 2, 1, 1}, 2.0, LagerTarget::kSoft), (std::vector<double>{0, 1, 0, 0}));
  EXPECT_EQ(lager_target({3, 2, 1, 1}, 1.0, LagerTarget::kNearest), (std::vector<double>{0, 0, 0.5, 0.5}));
}

TEST(LagerLoss, GradientMatchesFiniteDifferences) {
  const auto rows = synthetic_rows(6, 5, 2, 7);
  const std::vector<size_t> all = {0, 1, 2, 3, 4, 5};
  for (LagerTarget target : {LagerTarget::kSoft, LagerTarget::kNearest}) {
    const std::vector<double> theta = {0.3, -0.2, 0.8, 0.1, 1.0};
    const double a = 0.7;
    const LagerLoss base = lager_loss(rows, all, theta, a, target);
    const double h = 1e-6;
    for (size_t l = 0; l < theta.size(); ++l) {
      std::vector<double> plus = theta, minus = theta;
      plus[l] += h;
      minus[l] -= h;
      const double numeric =
          (lager_loss(rows, all, plus, a, target).loss - lager_loss(rows, all, minus, a, target).loss) / (2 * h);
      EXPECT_NEAR(base.grad_theta[l], numeric, 1e-6 * (1.0 + std::fabs(numeric))) << "layer " << l;
    }
    const double numeric_a =
        (lager_loss(rows, all, theta, a + h, target).loss - lager_loss(rows, all, theta, a - h, target).loss) / (2 * h);
    EXPECT_NEAR(base.grad_a, numeric_a, 1e-6 * (1.0 + std::fabs(numeric_a)));
  }
}

TEST(LagerLoss, MatchesTheDefinitionOnOneRow) {
  eval::LayerRow row;
  row.score_values = {1, 2, 3};
  row.per_layer_logits = {{0.0, 1.0, 2.0}, {2.0, 0.0, 0.0}};
  row.human = 2.0;
  const std::vector<double> theta = {0.0, 0.0};  // w = (0.5, 0.5): z = (1, 0.5, 1)
  const double a = 0.0;                          // sigmoid(0) = 0.5
  const double e1 = std::exp(1.0), e05 = std::exp(0.5);
  const double norm = 2 * e1 + e05;
  const double expected = (1 * e1 + 2 * e05 + 3 * e1) / norm;
  const double ce = -std::log(e05 / norm);
  const double want = 0.5 * ce + 0.5 * (expected - 2.0) * (expected - 2.0);
  EXPECT_NEAR(lager_loss({row}, {0}, theta, a, LagerTarget::kSoft).loss, want, 1e-12);
  auto score = lager_expected_score(row.per_layer_logits, {0.5, 0.5}, row.score_values);
  ASSERT_TRUE(score.is_ok());
  EXPECT_NEAR(*score, expected, 1e-12);
}

TEST(LagerWeights, InitialAndUniform) {
  const LagerWeights init = initial_lager_weights(4, {1, 2, 3});
  EXPECT_EQ(init.theta, (std::vector<double>{0, 0, 0, 1}));
  const double e = std::exp(1.0);
  EXPECT_NEAR(init.layer_weights[3], e / (3 + e), 1e-15);
  EXPECT_NEAR(init.layer_weights[0], 1 / (3 + e), 1e-15);
  const LagerWeights uniform = uniform_lager_weights(4, {1, 2, 3});
  for (double w : uniform.layer_weights) EXPECT_DOUBLE_EQ(w, 0.25);
}

TEST(LagerWeights, ExpectedScoreRejectsBadShapes) {
  EXPECT_FALSE(lager_expected_score({{1, 2}, {3, 4}}, {0.5}, {1, 2}).is_ok());
  EXPECT_FALSE(lager_expected_score({{1, 2}, {3}}, {0.5, 0.5}, {1, 2}).is_ok());
  EXPECT_FALSE(lager_expected_score({{1, 2}}, {1.0}, {1, 2, 3}).is_ok());
  EXPECT_FALSE(lager_expected_score({{1, NAN}}, {1.0}, {1, 2}).is_ok());
}

TEST(LagerWeights, SaveLoadRoundTrip) {
  LagerWeights w = initial_lager_weights(3, {1, 2, 3, 4, 5});
  w.theta = {0.25, -1.5, 2.0};
  w.layer_weights = softmax(w.theta);
  w.a = -0.3;
  w.has_train = true;
  w.train = {100, 2, 0.01, 4, 42, 1.25};
  const std::string path = scratch_path("w.json");
  ASSERT_TRUE(save_lager_weights(path, w).is_ok());
  auto back = load_lager_weights(path);
  ASSERT_TRUE(back.is_ok()) << back.message();
  EXPECT_EQ(back->theta, w.theta);
  for (size_t l = 0; l < 3; ++l) EXPECT_NEAR(back->layer_weights[l], w.layer_weights[l], 1e-15);
  EXPECT_EQ(back->score_values, w.score_values);
  EXPECT_DOUBLE_EQ(back->a, -0.3);
  EXPECT_EQ(back->train.rows, 100u);
  EXPECT_EQ(back->train.seed, 42u);
  EXPECT_DOUBLE_EQ(back->train.final_loss, 1.25);
}

TEST(LagerWeights, LoadRejectsBadFiles) {
  const std::pair<const char*, const char*> cases[] = {
      {"notjson.json", "{"},
      {"format.json", R"({"format": "other", "version": 1, "layer_weights": [1], "score_values": [1]})"},
      {"version.json", R"({"format": "arbiter-lager-weights", "version": 2, "layer_weights": [1], "score_values": [1]})"},
      {"count.json",
       R"({"format": "arbiter-lager-weights", "version": 1, "num_layers_plus_one": 3, "layer_weights": [0.5, 0.5], "score_values": [1]})"},
      {"theta.json",
       R"({"format": "arbiter-lager-weights", "version": 1, "layer_weights": [0.9, 0.1], "theta": [0, 0], "score_values": [1]})"},
      {"empty.json", R"({"format": "arbiter-lager-weights", "version": 1, "layer_weights": [], "score_values": [1]})"},
  };
  for (const auto& [name, text] : cases) {
    const std::string path = scratch_path(name);
    std::ofstream(path) << text;
    auto r = load_lager_weights(path);
    EXPECT_FALSE(r.is_ok()) << name;
    EXPECT_NE(r.message().find(path), std::string::npos) << r.message();
  }
  EXPECT_FALSE(load_lager_weights(scratch_path("missing.json")).is_ok());
}

TEST(LagerFit, FindsTheMiddleLayerThatCarriesTheSignal) {
  const size_t layers = 9, signal = 4;
  const auto rows = synthetic_rows(4000, layers, signal, 11);
  const Split split = split_rows(rows.size(), 0.2, 42);
  LagerFitOptions options;  // the paper's defaults: Adam lr 0.01, batch 4, one epoch, seed 42
  int64_t steps = 0;
  auto weights = fit_lager(rows, split.train, options, [&](const LagerStep& s) { steps = s.step; });
  ASSERT_TRUE(weights.is_ok()) << weights.message();
  EXPECT_EQ(steps, 800);
  const double mass = weights->layer_weights[signal];
  auto report = lager_report(rows, split.validation, *weights);
  ASSERT_TRUE(report.is_ok()) << report.message();
  std::printf("signal layer mass %.4f; validation Spearman: signal layer %.4f final %.4f uniform %.4f tuned %.4f\n",
              mass, report->per_layer[signal].spearman, report->final_layer, report->uniform, report->tuned);
  EXPECT_GT(mass, 0.5);
  EXPECT_GT(report->tuned, report->final_layer + 0.2);
  EXPECT_GT(report->tuned, report->uniform);
  EXPECT_EQ(report->rows, 800u);
  // The loss reported is the written weights' over the training rows, below where training began.
  const LagerWeights start = initial_lager_weights(rows[0].per_layer_logits.size(), rows[0].score_values);
  const double initial_loss = lager_loss(rows, split.train, start.theta, start.a, options.target).loss;
  EXPECT_DOUBLE_EQ(weights->train.final_loss,
                   lager_loss(rows, split.train, weights->theta, weights->a, options.target).loss);
  EXPECT_LT(weights->train.final_loss, initial_loss);
  // Same seed, same weights.
  auto again = fit_lager(rows, split.train, options);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->theta, weights->theta);
}

TEST(Split, GroupsStayOnOneSide) {
  // One item per group: the plain split.
  std::vector<size_t> singles(50);
  for (size_t i = 0; i < singles.size(); ++i) singles[i] = i + 1;
  const Split plain = split_rows(50, 0.2, 7), grouped = split_groups(singles, 0.2, 7);
  EXPECT_EQ(grouped.train, plain.train);
  EXPECT_EQ(grouped.validation, plain.validation);
  // Pairs (a pairwise row's two orders): 40 groups of two, 8 groups held out, never one item of a group.
  std::vector<size_t> pairs;
  for (size_t g = 0; g < 40; ++g) pairs.insert(pairs.end(), {g + 1, g + 1});
  const Split split = split_groups(pairs, 0.2, 7);
  EXPECT_EQ(split.validation.size(), 16u);
  EXPECT_EQ(split.train.size() + split.validation.size(), 80u);
  for (size_t i : split.validation)
    EXPECT_TRUE(std::binary_search(split.validation.begin(), split.validation.end(), i % 2 == 0 ? i + 1 : i - 1)) << i;
}

TEST(LagerReport, PairwiseAccuracyByHand) {
  // Two layers, score values [1, 0] (the first response's credit), human 1 = the first response won.
  // Row 0: layer 0 prefers A, the final layer B, so the mean logits are [1, 1]: credit 0.5, no verdict.
  // Row 1: both layers prefer A. Row 2: human 0, the final layer prefers B, layer 0 is indifferent.
  const std::vector<eval::LayerRow> rows = {{{{2, 0}, {0, 2}}, {1, 0}, 1.0},
                                            {{{3, 0}, {1, 0}}, {1, 0}, 1.0},
                                            {{{0, 0}, {0, 2}}, {1, 0}, 0.0}};
  LagerWeights layer0 = uniform_lager_weights(2, {1, 0});
  layer0.layer_weights = {1.0, 0.0};
  auto report = lager_report(rows, {0, 1, 2}, layer0);
  ASSERT_TRUE(report.is_ok()) << report.message();
  ASSERT_TRUE(report->pairwise);
  EXPECT_DOUBLE_EQ(report->final_layer_accuracy, 2.0 / 3.0);  // wrong on row 0
  EXPECT_DOUBLE_EQ(report->uniform_accuracy, 2.0 / 3.0);      // row 0 at exactly 0.5 is not a verdict
  EXPECT_DOUBLE_EQ(report->tuned_accuracy, 2.0 / 3.0);        // layer 0 alone: row 2 at 0.5
  // Rated rows (human on a 1-5 scale) are not pairwise.
  const auto rated = synthetic_rows(8, 3, 1, 3);
  auto rated_report = lager_report(rated, {0, 1, 2, 3, 4, 5, 6, 7}, uniform_lager_weights(3, {1, 2, 3, 4, 5}));
  ASSERT_TRUE(rated_report.is_ok());
  EXPECT_FALSE(rated_report->pairwise);
}

TEST(LagerReport, ListwiseAccuracyByHand) {
  // Best-first listwise reads, two layers, three labels (people's best response at label 0).
  // Row 0: layer 0 names label 0, the final layer label 2; the mean [1.5, 0, 1.5] ties, which is no verdict.
  // Row 1: both layers name label 0. Row 2: layer 0 names label 1, the final layer label 0.
  std::vector<eval::LayerRow> rows = {{{{3, 0, 0}, {0, 0, 3}}, {1, 0, 0}, 1.0},
                                      {{{2, 1, 0}, {5, 0, 1}}, {1, 0, 0}, 1.0},
                                      {{{0, 4, 0}, {3, 0, 0}}, {1, 0, 0}, 1.0}};
  for (auto& row : rows) row.best_first = true;
  LagerWeights layer0 = uniform_lager_weights(2, {1, 0, 0});
  layer0.layer_weights = {1.0, 0.0};
  auto report = lager_report(rows, {0, 1, 2}, layer0);
  ASSERT_TRUE(report.is_ok()) << report.message();
  ASSERT_TRUE(report->listwise);
  EXPECT_FALSE(report->pairwise);
  EXPECT_EQ(report->per_layer_accuracy, (std::vector<double>{2.0 / 3.0, 2.0 / 3.0}));
  EXPECT_DOUBLE_EQ(report->final_layer_accuracy, 2.0 / 3.0);  // wrong on row 0
  // Uniform: row 0 [1.5, 0, 1.5] ties (no verdict), row 1 right, row 2 [1.5, 2, 0] wrong.
  EXPECT_DOUBLE_EQ(report->uniform_accuracy, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(report->tuned_accuracy, 2.0 / 3.0);  // layer 0 alone: wrong on row 2
}

TEST(LagerFit, PairwiseVerdictsLearnTheLayerThatKnows) {
  // Comparisons whose middle layer leans towards the response people preferred; the other layers,
  // the final one included, are noise. Tuned weights must find it and beat the final layer.
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::bernoulli_distribution coin(0.5);
  const size_t layers = 5, signal = 2;
  std::vector<eval::LayerRow> rows(2000);
  for (auto& row : rows) {
    row.score_values = {1, 0};
    row.human = coin(rng) ? 1.0 : 0.0;
    row.per_layer_logits.assign(layers, std::vector<double>(2));
    for (size_t l = 0; l < layers; ++l) {
      const double lean = l == signal ? (row.human == 1.0 ? 1.5 : -1.5) : 0.0;
      row.per_layer_logits[l] = {lean + noise(rng), noise(rng)};
    }
  }
  const Split split = split_rows(rows.size(), 0.2, 42);
  auto weights = fit_lager(rows, split.train, LagerFitOptions{});
  ASSERT_TRUE(weights.is_ok()) << weights.message();
  auto report = lager_report(rows, split.validation, *weights);
  ASSERT_TRUE(report.is_ok()) << report.message();
  ASSERT_TRUE(report->pairwise);
  std::printf("pairwise accuracy: final %.4f uniform %.4f tuned %.4f, signal layer weight %.4f\n",
              report->final_layer_accuracy, report->uniform_accuracy, report->tuned_accuracy,
              weights->layer_weights[signal]);
  EXPECT_LT(std::fabs(report->final_layer_accuracy - 0.5), 0.1);  // the final layer knows nothing
  EXPECT_GT(report->tuned_accuracy, report->final_layer_accuracy + 0.2);
  EXPECT_GE(report->tuned_accuracy, report->uniform_accuracy);
  EXPECT_GT(weights->layer_weights[signal], 0.4);
}

TEST(LagerFit, RejectsRaggedRows) {
  auto rows = synthetic_rows(4, 3, 1, 1);
  rows[2].per_layer_logits.pop_back();
  auto r = fit_lager(rows, {0, 1, 2, 3}, LagerFitOptions{});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("row 2"), std::string::npos) << r.message();
}

}  // namespace
}  // namespace arbiter::train
