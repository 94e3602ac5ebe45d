// Reward heads on synthetic features drawn from a known linear reward: every objective recovers the
// direction and ranks held-out pairs about as well as the true reward (the Bayes rate); ridge equals the
// closed form; BT/regression gradients match finite differences; files round-trip.
#include <gtest/gtest.h>

#include <cmath>
#include <iterator>
#include <fstream>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "train/features_file.h"
#include "train/head_loss.h"
#include "train/head_train.h"
#include "train/reward_head.h"
#include "train/ridge.h"
#include "../../support/scratch_root.h"

namespace arbiter::train {
namespace {

constexpr int64_t kDim = 32;

using arbiter::test::scratch_path;

// Features x = mean + scale * z (z standard normal), offsets and scales differing per dimension so the
// standardisation matters. The true reward is r(x) = w* . x with w*_j = u_j / scale_j.
struct World {
  std::vector<double> mean, scale, w_true;
  std::mt19937_64 rng;
  std::normal_distribution<double> normal{0.0, 1.0};

  explicit World(uint64_t seed) : rng(seed) {
    std::uniform_real_distribution<double> offset(-3.0, 3.0), spread(0.5, 2.0);
    std::vector<double> u(kDim);
    double norm = 0.0;
    for (int64_t j = 0; j < kDim; ++j) {
      mean.push_back(offset(rng));
      scale.push_back(spread(rng));
      u[j] = normal(rng);
      norm += u[j] * u[j];
    }
    // |u| = 2.83: differences of two responses' rewards have standard deviation 4.
    for (int64_t j = 0; j < kDim; ++j) w_true.push_back(u[j] * 2.83 / std::sqrt(norm) / scale[j]);
  }
  void draw(float* x) {
    for (int64_t j = 0; j < kDim; ++j) x[j] = float(mean[j] + scale[j] * normal(rng));
  }
  double reward(const float* x) const {
    double r = 0.0;
    for (int64_t j = 0; j < kDim; ++j) r += w_true[j] * x[j];
    return r;
  }
  double sigmoid(double x) const { return 1.0 / (1.0 + std::exp(-x)); }

  // Pairs labelled by BT with the true reward: response 2 preferred with probability sigmoid(r2 - r1).
  // Strength 1..3 grows with |r2 - r1| (the pair's true confidence).
  FeatureSet pairs(int64_t n) {
    FeatureSet set;
    set.rows = n;
    set.responses = 2;
    set.dim = kDim;
    set.features.resize(size_t(n * 2 * kDim));
    std::vector<double> strength(static_cast<size_t>(n));
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    for (int64_t i = 0; i < n; ++i) {
      draw(&set.features[size_t((2 * i) * kDim)]);
      draw(&set.features[size_t((2 * i + 1) * kDim)]);
      const double delta = reward(set.at(i, 1)) - reward(set.at(i, 0));
      const bool second = coin(rng) < sigmoid(delta);
      const double magnitude = 1.0 + (std::fabs(delta) > 2.0) + (std::fabs(delta) > 5.0);
      strength[size_t(i)] = second ? magnitude : -magnitude;
    }
    set.labels["preference_strength"] = strength;
    set.layer = "final_norm";
    return set;
  }

  // Steps: step_correct = 1 with probability sigmoid(r(x) - 1), a draw per row (a process reward model's
  // label); every fifth row unlabelled (NaN, as steps after ProcessBench's first wrong one are).
  FeatureSet steps(int64_t n) {
    FeatureSet set;
    set.rows = n;
    set.responses = 1;
    set.dim = kDim;
    set.features.resize(size_t(n * kDim));
    std::vector<double> correct(static_cast<size_t>(n));
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    for (int64_t i = 0; i < n; ++i) {
      draw(&set.features[size_t(i * kDim)]);
      correct[size_t(i)] = i % 5 == 4 ? NAN : coin(rng) < sigmoid(reward(set.at(i, 0)) - 1.0) ? 1.0 : 0.0;
    }
    set.labels["step_correct"] = correct;
    set.layer = "final_norm";
    return set;
  }

  // Rated rows: helpfulness = r(x) + 2 + noise, a second attribute from another direction.
  FeatureSet rated(int64_t n, std::vector<double>* w_second = nullptr) {
    FeatureSet set;
    set.rows = n;
    set.responses = 1;
    set.dim = kDim;
    set.features.resize(size_t(n * kDim));
    std::vector<double> other(kDim);
    for (int64_t j = 0; j < kDim; ++j) other[j] = normal(rng) / scale[j];
    if (w_second) *w_second = other;
    std::vector<double> helpfulness(static_cast<size_t>(n)), second(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      draw(&set.features[size_t(i * kDim)]);
      helpfulness[size_t(i)] = reward(set.at(i, 0)) + 2.0 + normal(rng);
      double s = -1.0;
      for (int64_t j = 0; j < kDim; ++j) s += other[j] * set.at(i, 0)[j];
      second[size_t(i)] = s + 0.5 * normal(rng);
    }
    set.labels["helpfulness"] = helpfulness;
    set.labels["correctness"] = second;
    set.layer = "final_norm";
    return set;
  }
};

double cosine(const double* a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t j = 0; j < b.size(); ++j) {
    ab += a[j] * b[j];
    aa += a[j] * a[j];
    bb += b[j] * b[j];
  }
  return ab / std::sqrt(aa * bb);
}

// Accuracy of the head and of the true reward (the Bayes-optimal ranker) on the same test pairs.
struct Accuracy {
  double head = 0, bayes = 0, expected_bayes = 0;
};
Accuracy test_accuracy(const World& world, const RewardHead& head, const FeatureSet& test) {
  auto pairs = pairs_from_features(test);
  EXPECT_TRUE(pairs.is_ok());
  Accuracy acc;
  size_t right_head = 0, right_true = 0;
  for (const Pair& p : *pairs) {
    const float* c = test.at(int64_t(p.row), p.chosen);
    const float* r = test.at(int64_t(p.row), 1 - p.chosen);
    right_head += head_score(head, c) > head_score(head, r);
    right_true += world.reward(c) > world.reward(r);
    acc.expected_bayes += world.sigmoid(std::fabs(world.reward(c) - world.reward(r)));
  }
  acc.head = double(right_head) / double(pairs->size());
  acc.bayes = double(right_true) / double(pairs->size());
  acc.expected_bayes /= double(pairs->size());
  return acc;
}

class SyntheticHeads : public ::testing::Test {
 protected:
  World world{2024};
  std::vector<double> w_second;  // declared before train_rated, which fills it
  FeatureSet train_pairs = world.pairs(4000);
  FeatureSet train_rated = world.rated(4000, &w_second);
  FeatureSet test_pairs = world.pairs(20000);

  void expect_recovers(const RewardHead& head, const char* what) {
    const double cos = cosine(head.row(0), world.w_true);
    const Accuracy acc = test_accuracy(world, head, test_pairs);
    std::printf("%-18s cosine %.5f  test accuracy %.4f  Bayes %.4f (expected %.4f)\n", what, cos, acc.head, acc.bayes,
                acc.expected_bayes);
    EXPECT_GT(cos, 0.99) << what;
    EXPECT_GT(acc.head, acc.bayes - 0.01) << what;
  }
};

TEST_F(SyntheticHeads, EachPairObjectiveRecoversTheReward) {
  const std::pair<PairObjective, const char*> objectives[] = {
      {PairObjective::kBT, "bt"}, {PairObjective::kBTMargin, "bt-margin"}, {PairObjective::kBTScaled, "bt-scaled"}};
  for (const auto& [objective, name] : objectives) {
    auto result = train_pair_head(train_pairs, objective, HeadTrainOptions{});
    ASSERT_TRUE(result.is_ok()) << result.message();
    EXPECT_EQ(result->head.objective, name);
    EXPECT_EQ(result->train_rows + result->validation_rows, 4000u);  // no ties in these labels
    EXPECT_GT(result->epochs.back().validation_accuracy, 0.8);
    expect_recovers(result->head, name);
  }
}

TEST_F(SyntheticHeads, RegressionRecoversEveryAttribute) {
  auto attributes = resolve_attributes(train_rated, "all");
  ASSERT_TRUE(attributes.is_ok());
  EXPECT_EQ(*attributes, (std::vector<std::string>{"helpfulness", "correctness"}));
  auto result = train_regression_head(train_rated, *attributes, HeadTrainOptions{});
  ASSERT_TRUE(result.is_ok()) << result.message();
  expect_recovers(result->head, "regression");
  EXPECT_GT(cosine(result->head.row(1), w_second), 0.99);
  // helpfulness = r(x) + 2 + N(0, 1): the bias comes back on the raw scale, the RMSE near the noise.
  EXPECT_NEAR(result->head.bias[0], 2.0, 0.3);
  EXPECT_LT(result->epochs[size_t(result->best_epoch - 1)].validation_rmse[0], 1.1);
  // The noise caps the correlation at about 2.83 / sqrt(2.83^2 + 1) = 0.943.
  EXPECT_GT(result->epochs[size_t(result->best_epoch - 1)].validation_spearman[0], 0.92);
}

TEST_F(SyntheticHeads, CombinedRegressionThenScaledBtWithExpo) {
  auto stage0 = train_regression_head(train_rated, {"helpfulness"}, HeadTrainOptions{});
  ASSERT_TRUE(stage0.is_ok());
  auto stage1 = train_pair_head(train_pairs, PairObjective::kBTScaled, HeadTrainOptions{}, &stage0->head);
  ASSERT_TRUE(stage1.is_ok()) << stage1.message();
  EXPECT_EQ(stage1->head.labels, (std::vector<std::string>{"helpfulness"}));
  // The bias cancels in r_c - r_r: BT keeps the standardised bias, so the mean reward over the training
  // responses stays where regression put it (about 2 + mean r).
  auto mean_score = [&](const RewardHead& head) {
    double sum = 0.0;
    for (int64_t i = 0; i < train_pairs.rows; ++i)
      sum += head_score(head, train_pairs.at(i, 0)) + head_score(head, train_pairs.at(i, 1));
    return sum / double(2 * train_pairs.rows);
  };
  EXPECT_NEAR(mean_score(stage1->head), mean_score(stage0->head), 0.1);
  auto expo = extrapolate_head(stage0->head, stage1->head, 0.5);
  ASSERT_TRUE(expo.is_ok());
  for (size_t j = 0; j < size_t(kDim); ++j)
    EXPECT_DOUBLE_EQ(expo->weight[j], stage1->head.weight[j] + 0.5 * (stage1->head.weight[j] - stage0->head.weight[j]));
  expect_recovers(stage1->head, "combined");
  expect_recovers(*expo, "combined+expo0.5");
}

// Independent closed form: the augmented system [X 1] with penalty diag(lambda, ..., lambda, 0), solved
// by Gaussian elimination with partial pivoting in long double.
std::vector<long double> ridge_reference(const FeatureSet& set, const std::vector<double>& y, double lambda) {
  const size_t p = size_t(set.dim) + 1;
  std::vector<std::vector<long double>> m(p, std::vector<long double>(p + 1, 0.0L));
  for (int64_t i = 0; i < set.rows; ++i) {
    std::vector<long double> a(p, 1.0L);
    for (int64_t j = 0; j < set.dim; ++j) a[size_t(j)] = set.at(i, 0)[j];
    for (size_t r = 0; r < p; ++r) {
      for (size_t c = 0; c < p; ++c) m[r][c] += a[r] * a[c];
      m[r][p] += a[r] * y[size_t(i)];
    }
  }
  for (size_t j = 0; j + 1 < p; ++j) m[j][j] += lambda;
  for (size_t col = 0; col < p; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < p; ++r)
      if (std::fabs(m[r][col]) > std::fabs(m[pivot][col])) pivot = r;
    std::swap(m[col], m[pivot]);
    for (size_t r = 0; r < p; ++r) {
      if (r == col) continue;
      const long double f = m[r][col] / m[col][col];
      for (size_t c = col; c <= p; ++c) m[r][c] -= f * m[col][c];
    }
  }
  std::vector<long double> x(p);
  for (size_t r = 0; r < p; ++r) x[r] = m[r][p] / m[r][r];
  return x;
}

TEST_F(SyntheticHeads, RidgeEqualsTheClosedForm) {
  HeadTrainOptions options;
  options.validation_fraction = 0.0;
  for (double lambda : {0.0, 10.0, 1000.0}) {
    auto result = train_regression_head(train_rated, {"helpfulness", "correctness"}, options, lambda);
    ASSERT_TRUE(result.is_ok()) << result.message();
    const char* names[] = {"helpfulness", "correctness"};
    for (size_t t = 0; t < 2; ++t) {
      const auto ref = ridge_reference(train_rated, train_rated.labels.at(names[t]), lambda);
      double worst = 0.0;
      for (size_t j = 0; j < size_t(kDim); ++j)
        worst = std::max(worst, double(std::fabs(result->head.row(t)[j] - ref[j])));
      worst = std::max(worst, double(std::fabs(result->head.bias[t] - ref[size_t(kDim)])));
      EXPECT_LT(worst, 1e-6) << "lambda " << lambda << " " << names[t];
    }
  }
  auto unpenalised = train_regression_head(train_rated, {"helpfulness"}, options, 0.0);
  ASSERT_TRUE(unpenalised.is_ok());
  expect_recovers(unpenalised->head, "ridge lambda=0");
}

// Two nearly collinear features and a target exactly linear in them: the exact fit has weights of about
// 123 and -99 that nearly cancel, so rounding them to the f32 the head file keeps moves every score. What
// the run reports must be what the saved head scores, not what its double-precision fit would have.
TEST(HeadTrain, RidgeReportsTheLossOfTheSavedHead) {
  FeatureSet set;
  set.rows = 200;
  set.responses = 1;
  set.dim = 2;
  set.layer = "final_norm";
  std::mt19937_64 rng(3);
  std::normal_distribution<double> base(100.0, 5.0), wobble(0.0, 0.01);
  std::vector<double> y;
  for (int64_t i = 0; i < set.rows; ++i) {
    const float x1 = float(base(rng)), x2 = float(double(x1) + wobble(rng));
    set.features.push_back(x1);
    set.features.push_back(x2);
    y.push_back(123.456789 * double(x2) - 98.7654321 * double(x1));
  }
  set.labels["helpfulness"] = y;
  HeadTrainOptions options;
  options.validation_fraction = 0.0;
  auto result = train_regression_head(set, {"helpfulness"}, options, 0.0);
  ASSERT_TRUE(result.is_ok()) << result.message();
  const std::string path = scratch_path("collinear-head.safetensors");
  ASSERT_TRUE(save_reward_head(path, result->head).is_ok());
  auto saved = load_reward_head(path);
  ASSERT_TRUE(saved.is_ok()) << saved.message();
  double loss = 0.0;
  for (int64_t i = 0; i < set.rows; ++i) {
    const double err = head_score(*saved, set.at(i, 0)) - y[size_t(i)];
    loss += err * err / double(set.rows);
  }
  // The rounding is visible: the saved head misses by far more than a double-precision fit would.
  ASSERT_GT(loss, 1e-9);
  ASSERT_EQ(result->epochs.size(), 1u);
  EXPECT_NEAR(result->epochs[0].train_loss, loss, 1e-6 * loss);  // the double-precision fit: about 1e-20
  std::filesystem::remove(path);
}

TEST(HeadTrain, IsDeterministicForASeed) {
  World world(5);
  const FeatureSet pairs = world.pairs(500);
  HeadTrainOptions options;
  options.epochs = 3;
  auto a = train_pair_head(pairs, PairObjective::kBT, options);
  auto b = train_pair_head(pairs, PairObjective::kBT, options);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(a->head.weight, b->head.weight);
  options.seed = 43;
  auto c = train_pair_head(pairs, PairObjective::kBT, options);
  ASSERT_TRUE(c.is_ok());
  EXPECT_NE(a->head.weight, c->head.weight);
}

// Where the features name their rows' prompts, a prompt's responses are held out together (HelpSteer2 rates
// two per prompt: a held-out response whose sibling is trained on measures memory of the prompt); where
// they do not, rows are held out one by one, as before.
TEST(HeadTrain, ValidationHoldsOutWholePrompts) {
  World world(8);
  FeatureSet rated = world.rated(60);
  for (int64_t i = 0; i < rated.rows; ++i) rated.prompt_hashes.push_back(1000 + 7 * (i / 2));
  HeadTrainOptions options;
  options.epochs = 2;
  options.validation_fraction = 0.3;
  auto by_prompt = train_regression_head(rated, {"helpfulness"}, options);
  ASSERT_TRUE(by_prompt.is_ok()) << by_prompt.message();
  EXPECT_TRUE(by_prompt->split_by_prompt);
  EXPECT_EQ(by_prompt->validation_rows, 18u);  // 9 of the 30 prompts, both responses of each
  const std::set<size_t> held(by_prompt->validation_indices.begin(), by_prompt->validation_indices.end());
  for (size_t row : held) EXPECT_TRUE(held.count(row ^ 1)) << "row " << row << " held out without its sibling";

  FeatureSet pairs = world.pairs(60);  // no ties: pair i is row i
  for (int64_t i = 0; i < pairs.rows; ++i) pairs.prompt_hashes.push_back(i / 3);
  auto pair_split = train_pair_head(pairs, PairObjective::kBT, options);
  ASSERT_TRUE(pair_split.is_ok()) << pair_split.message();
  EXPECT_TRUE(pair_split->split_by_prompt);
  std::map<int64_t, int> held_per_prompt;
  for (size_t pair : pair_split->validation_indices) ++held_per_prompt[pairs.prompt_hashes[pair]];
  EXPECT_EQ(held_per_prompt.size(), 6u);  // 6 of the 20 prompts
  for (const auto& [prompt, count] : held_per_prompt) EXPECT_EQ(count, 3) << "prompt " << prompt;

  rated.prompt_hashes.clear();
  auto by_row = train_regression_head(rated, {"helpfulness"}, options);
  ASSERT_TRUE(by_row.is_ok()) << by_row.message();
  EXPECT_FALSE(by_row->split_by_prompt);
  EXPECT_EQ(by_row->validation_rows, 18u);
}

// Prompt fingerprints survive the file and the joining of shards (a row's place in the dataset orders them).
TEST(FilesRoundTrip, PromptHashesFollowTheirRows) {
  World world(9);
  FeatureSet first = world.rated(3), second = world.rated(2);
  first.ids = {"a", "c", "e"};
  second.ids = {"b", "d"};
  first.row_index = {0, 2, 4};
  second.row_index = {1, 3};
  first.prompt_hashes = {10, 30, 50};
  second.prompt_hashes = {-20, 40};
  const std::string a = scratch_path("prompts-a.safetensors"), b = scratch_path("prompts-b.safetensors");
  ASSERT_TRUE(write_features(a, first).is_ok());
  ASSERT_TRUE(write_features(b, second).is_ok());
  auto both = read_feature_files({a, b});
  ASSERT_TRUE(both.is_ok()) << both.message();
  EXPECT_EQ(both->ids, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(both->prompt_hashes, (std::vector<int64_t>{10, -20, 30, 40, 50}));
  // A file without them (written before they were kept) leaves the joined set without any.
  second.prompt_hashes.clear();
  ASSERT_TRUE(write_features(b, second).is_ok());
  auto mixed = read_feature_files({a, b});
  ASSERT_TRUE(mixed.is_ok()) << mixed.message();
  EXPECT_TRUE(mixed->prompt_hashes.empty());
}

TEST(HeadTrain, EarlyStoppingKeepsTheBestEpoch) {
  World world(6);
  FeatureSet pairs = world.pairs(200);  // few pairs, many epochs: validation loss turns up
  HeadTrainOptions options;
  options.epochs = 500;
  options.patience = 3;
  options.lr = 0.05;
  auto result = train_pair_head(pairs, PairObjective::kBT, options);
  ASSERT_TRUE(result.is_ok());
  ASSERT_LT(result->epochs.size(), 500u);
  EXPECT_EQ(result->epochs.size(), size_t(result->best_epoch + 3));
  for (const EpochReport& e : result->epochs)
    EXPECT_GE(e.validation_loss, result->epochs[size_t(result->best_epoch - 1)].validation_loss);
}

TEST(PairLoss, DerivativesMatchFiniteDifferences) {
  const double h = 1e-6;
  for (PairObjective objective : {PairObjective::kBT, PairObjective::kBTMargin, PairObjective::kBTScaled})
    for (double delta : {-30.0, -2.0, -0.3, 0.0, 0.7, 3.0, 40.0})
      for (double strength : {1.0, 2.0, 3.0}) {
        const PairLossValue v = pair_loss(objective, delta, strength);
        const double numeric =
            (pair_loss(objective, delta + h, strength).loss - pair_loss(objective, delta - h, strength).loss) / (2 * h);
        EXPECT_NEAR(v.d_delta, numeric, 1e-6) << int(objective) << " " << delta << " " << strength;
        EXPECT_TRUE(std::isfinite(v.loss));
      }
  // The definitions at one point: delta 1, m 2.
  const double nls1 = std::log1p(std::exp(-1.0)), nls_m1 = std::log1p(std::exp(1.0));
  EXPECT_NEAR(pair_loss(PairObjective::kBT, 1.0, 2.0).loss, nls1, 1e-15);
  EXPECT_NEAR(pair_loss(PairObjective::kBTMargin, 1.0, 2.0).loss, nls_m1, 1e-15);
  EXPECT_NEAR(pair_loss(PairObjective::kBTScaled, 1.0, 2.0).loss, 2 * nls1, 1e-15);
}

TEST(PairLoss, HeadGradientsMatchFiniteDifferences) {
  World world(9);
  const FeatureSet set = world.pairs(12);
  auto pairs = pairs_from_features(set);
  ASSERT_TRUE(pairs.is_ok());
  std::vector<size_t> all(pairs->size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  const Standardizer st = fit_standardizer(set, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal(0.0, 0.3);
  std::vector<double> params(size_t(kDim) + 1);
  for (double& p : params) p = normal(rng);
  for (PairObjective objective : {PairObjective::kBT, PairObjective::kBTMargin, PairObjective::kBTScaled}) {
    std::vector<double> grad;
    pair_loss_grad(set, *pairs, all, st, objective, params, &grad);
    const double h = 1e-6;
    for (size_t j = 0; j < params.size(); ++j) {
      std::vector<double> plus = params, minus = params;
      plus[j] += h;
      minus[j] -= h;
      const double numeric = (pair_loss_grad(set, *pairs, all, st, objective, plus, nullptr) -
                              pair_loss_grad(set, *pairs, all, st, objective, minus, nullptr)) / (2 * h);
      EXPECT_NEAR(grad[j], numeric, 1e-6 * (1.0 + std::fabs(numeric))) << int(objective) << " param " << j;
    }
  }
}

TEST(RegressionLoss, GradientMatchesFiniteDifferences) {
  World world(10);
  const FeatureSet set = world.rated(9);
  const std::vector<std::vector<double>> targets = {set.labels.at("helpfulness"), set.labels.at("correctness")};
  const std::vector<size_t> rows = {0, 2, 3, 5, 8};
  const Standardizer st = fit_standardizer(set, rows);
  std::mt19937_64 rng(4);
  std::normal_distribution<double> normal(0.0, 0.3);
  std::vector<double> params(2 * size_t(kDim) + 2);
  for (double& p : params) p = normal(rng);
  std::vector<double> grad;
  regression_loss_grad(set, targets, rows, st, params, &grad);
  const double h = 1e-6;
  for (size_t j = 0; j < params.size(); ++j) {
    std::vector<double> plus = params, minus = params;
    plus[j] += h;
    minus[j] -= h;
    const double numeric = (regression_loss_grad(set, targets, rows, st, plus, nullptr) -
                            regression_loss_grad(set, targets, rows, st, minus, nullptr)) / (2 * h);
    EXPECT_NEAR(grad[j], numeric, 1e-5 * (1.0 + std::fabs(numeric))) << "param " << j;
  }
}

TEST(BinaryLoss, GradientMatchesFiniteDifferences) {
  World world(11);
  FeatureSet set = world.steps(9);
  std::vector<double> targets = {1, 0, 1, 0.25, 1, 0, 0, 1, 0.5};  // soft targets too
  const std::vector<size_t> rows = {0, 1, 3, 5, 6, 8};
  const Standardizer st = fit_standardizer(set, rows);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal(0.0, 0.3);
  std::vector<double> params(size_t(kDim) + 1);
  for (double& p : params) p = normal(rng);
  std::vector<double> grad;
  binary_loss_grad(set, targets, rows, st, params, &grad);
  const double h = 1e-6;
  for (size_t j = 0; j < params.size(); ++j) {
    std::vector<double> plus = params, minus = params;
    plus[j] += h;
    minus[j] -= h;
    const double numeric = (binary_loss_grad(set, targets, rows, st, plus, nullptr) -
                            binary_loss_grad(set, targets, rows, st, minus, nullptr)) / (2 * h);
    EXPECT_NEAR(grad[j], numeric, 1e-5 * (1.0 + std::fabs(numeric))) << "param " << j;
  }
  // A confident wrong logit costs about its size and does not overflow.
  std::vector<double> big(size_t(kDim) + 1, 0.0);
  big[size_t(kDim)] = 800.0;
  const std::vector<size_t> wrong_row = {1};  // label 0
  EXPECT_NEAR(binary_loss_grad(set, targets, wrong_row, identity_standardizer(kDim), big, nullptr), 800.0, 1e-9);
}

TEST(BinaryHead, RecoversTheDirectionAndPredictsAsWellAsTheTrueModel) {
  World world(12);
  const FeatureSet train_set = world.steps(6000), test_set = world.steps(20000);
  HeadTrainOptions options;
  options.epochs = 40;
  auto result = train_binary_head(train_set, "step_correct", options);
  ASSERT_TRUE(result.is_ok()) << result.message();
  EXPECT_EQ(result->head.objective, "binary");
  EXPECT_EQ(result->head.labels, std::vector<std::string>{"step_correct"});
  // Unlabelled rows are left out of both sides of the split.
  EXPECT_EQ(result->train_rows + result->validation_rows, size_t(6000 - 6000 / 5));
  EXPECT_GT(cosine(result->head.row(0), world.w_true), 0.95);  // 0.97 here: binary labels say less than ratings
  // Held-out accuracy against the true probability's own (the Bayes rate, from the same labels).
  size_t right_head = 0, right_true = 0, labelled = 0;
  for (int64_t i = 0; i < test_set.rows; ++i) {
    const double y = test_set.labels.at("step_correct")[size_t(i)];
    if (std::isnan(y)) continue;
    ++labelled;
    right_head += (head_score(result->head, test_set.at(i, 0)) >= 0) == (y == 1.0);
    right_true += (world.reward(test_set.at(i, 0)) - 1.0 >= 0) == (y == 1.0);
  }
  const double head_acc = double(right_head) / double(labelled), bayes = double(right_true) / double(labelled);
  std::printf("binary head: test accuracy %.4f, Bayes %.4f\n", head_acc, bayes);
  EXPECT_GT(head_acc, bayes - 0.01);
  EXPECT_GT(result->epochs.back().validation_accuracy, 0.5);
  EXPECT_GT(result->epochs.back().validation_auroc, 0.9);  // labels nearly separable by the true direction
}

TEST(BinaryHead, LabelsOutsideZeroToOneAndMissingLabelsAreErrors) {
  World world(13);
  FeatureSet set = world.steps(20);
  set.ids.assign(20, "");
  for (int i = 0; i < 20; ++i) set.ids[size_t(i)] = "row" + std::to_string(i);
  set.labels["step_correct"][7] = 2.0;
  auto bad = train_binary_head(set, "step_correct", HeadTrainOptions{});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.message().find("row7"), std::string::npos) << bad.message();
  EXPECT_NE(bad.message().find("not in [0, 1]"), std::string::npos) << bad.message();
  auto missing = train_binary_head(set, "helpfulness", HeadTrainOptions{});
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.message().find("no label 'helpfulness'"), std::string::npos) << missing.message();
  for (double& y : set.labels["step_correct"]) y = NAN;
  auto none = train_binary_head(set, "step_correct", HeadTrainOptions{});
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.message().find("fewer than two"), std::string::npos) << none.message();
}

TEST(Standardizer, FoldingGivesTheSameScoresOnRawFeatures) {
  World world(12);
  const FeatureSet set = world.rated(50);
  std::vector<size_t> rows(50);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  const Standardizer st = fit_standardizer(set, rows);
  std::vector<double> params(size_t(kDim) + 1);
  for (size_t j = 0; j < params.size(); ++j) params[j] = 0.1 * double(j) - 1.0;
  RewardHead head;
  head.labels = {"x"};
  fold_params(params, st, head);
  for (int64_t i = 0; i < 5; ++i) {
    double standardised = params[size_t(kDim)];
    for (int64_t j = 0; j < kDim; ++j) standardised += params[size_t(j)] * (set.at(i, 0)[j] - st.mean[j]) / st.scale[j];
    EXPECT_NEAR(head_score(head, set.at(i, 0)), standardised, 1e-9);
  }
  const std::vector<double> back = unfold_params(head, st);
  for (size_t j = 0; j < params.size(); ++j) EXPECT_NEAR(back[j], params[j], 1e-12);
}

// A feature that differs between rows only in its last f32 bit carries no signal: it is left unscaled, not
// divided by its 6e-8 spread.
TEST(Standardizer, AnF32RoundingSpreadIsNotScaledUp) {
  World world(13);
  FeatureSet set = world.rated(50);
  for (int64_t i = 0; i < 50; ++i) {
    float* x = set.features.data() + i * set.responses * set.dim;  // the row's first response
    x[0] = i % 2 ? 1.0f : std::nextafter(1.0f, 2.0f);
    x[1] = float(i % 7) * 0.25f;  // a real spread stays scaled
  }
  std::vector<size_t> rows(50);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  const Standardizer st = fit_standardizer(set, rows);
  EXPECT_EQ(st.scale[0], 1.0);
  EXPECT_GT(st.scale[1], 0.1);
  EXPECT_LT(st.scale[1], 1.0);
}

TEST(PairsFromFeatures, SignPicksTheChosenResponseAndTiesAreDropped) {
  FeatureSet set;
  set.rows = 4;
  set.responses = 2;
  set.dim = 1;
  set.features.assign(8, 0.0f);
  set.labels["preference_strength"] = {-3, 0, 2, 1};
  auto pairs = pairs_from_features(set);
  ASSERT_TRUE(pairs.is_ok());
  ASSERT_EQ(pairs->size(), 3u);
  EXPECT_EQ((*pairs)[0].row, 0u);
  EXPECT_EQ((*pairs)[0].chosen, 0);
  EXPECT_DOUBLE_EQ((*pairs)[0].strength, 3.0);
  EXPECT_EQ((*pairs)[1].row, 2u);
  EXPECT_EQ((*pairs)[1].chosen, 1);
  EXPECT_DOUBLE_EQ((*pairs)[2].strength, 1.0);
  // HelpSteer2-Preference's scale is whole numbers from -3 to 3: another scale (or column) is refused by row.
  for (const double off_scale : {4.0, -50.0, 1.5}) {
    set.labels["preference_strength"] = {-3, 0, off_scale, 1};
    auto refused = pairs_from_features(set);
    ASSERT_FALSE(refused.is_ok()) << off_scale;
    EXPECT_NE(refused.message().find("row 2: preference_strength is "), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find("a whole number from -3 to 3"), std::string::npos) << refused.message();
  }
  set.responses = 1;
  EXPECT_FALSE(pairs_from_features(set).is_ok());
}

// Files read as one set keep their order; a label one file lacks is NaN for its rows, as within a file.
TEST(FilesRoundTrip, SeveralFeatureFilesAsOneSet) {
  World world(17);
  FeatureSet first = world.rated(3), second = world.rated(2);
  first.ids = {"a", "b", "c"};
  second.ids = {"d", "e"};
  first.row_index = {0, 1, 2};
  second.row_index = {3, 4};
  second.labels.erase("helpfulness");
  second.labels["verbosity"] = {1, 2};
  const std::string a = scratch_path("set-a.safetensors"), b = scratch_path("set-b.safetensors");
  ASSERT_TRUE(write_features(a, first).is_ok());
  ASSERT_TRUE(write_features(b, second).is_ok());
  auto both = read_feature_files({a, b});
  ASSERT_TRUE(both.is_ok()) << both.message();
  EXPECT_EQ(both->rows, 5);
  EXPECT_EQ(both->ids, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(both->row_index, (std::vector<int32_t>{0, 1, 2, 3, 4}));
  std::vector<float> features = first.features;
  features.insert(features.end(), second.features.begin(), second.features.end());
  EXPECT_EQ(both->values(), features);
  const std::vector<double>& helpfulness = both->labels.at("helpfulness");
  const std::vector<double>& verbosity = both->labels.at("verbosity");
  ASSERT_EQ(helpfulness.size(), 5u);
  ASSERT_EQ(verbosity.size(), 5u);
  EXPECT_FLOAT_EQ(float(helpfulness[2]), float(first.labels.at("helpfulness")[2]));
  EXPECT_TRUE(std::isnan(helpfulness[3]) && std::isnan(helpfulness[4]));
  EXPECT_TRUE(std::isnan(verbosity[0]) && std::isnan(verbosity[2]));
  EXPECT_DOUBLE_EQ(verbosity[4], 2);

  // Another width is another extraction.
  FeatureSet narrow = second;
  narrow.dim = kDim / 2;
  narrow.features.resize(size_t(narrow.rows * narrow.dim));
  ASSERT_TRUE(write_features(b, narrow).is_ok());
  auto mixed = read_feature_files({a, b});
  ASSERT_FALSE(mixed.is_ok());
  EXPECT_NE(mixed.message().find(b + ": feature width"), std::string::npos) << mixed.message();
}

// A features file of any size is read in place: a pointer a row, not a copy. A file whose values are not
// aligned for that (another writer's header, not padded) is copied; either way, and across shards read
// out of order, the rows are the ones written.
TEST(FilesRoundTrip, RowsAreReadInPlaceOrCopiedWhenUnaligned) {
  World world(23);
  FeatureSet first = world.rated(4), second = world.rated(3);
  first.ids = {"a", "b", "c", "d"};
  second.ids = {"e", "f", "g"};
  // The second shard holds the dataset's first rows: read after the first, its rows go before them.
  first.row_index = {3, 4, 5, 6};
  second.row_index = {0, 1, 2};
  const std::string a = scratch_path("in-place-a.safetensors"), b = scratch_path("in-place-b.safetensors");
  ASSERT_TRUE(write_features(a, first).is_ok());
  ASSERT_TRUE(write_features(b, second).is_ok());
  auto one = read_features(a);
  ASSERT_TRUE(one.is_ok()) << one.message();
  EXPECT_TRUE(one->features.empty());
  ASSERT_EQ(one->mapped_rows.size(), 4u);
  EXPECT_EQ(one->values(), first.features);
  EXPECT_EQ(std::vector<float>(one->at(2, 0), one->at(2, 0) + kDim),
            std::vector<float>(first.features.begin() + 2 * kDim, first.features.begin() + 3 * kDim));

  std::vector<float> in_order = second.features;
  in_order.insert(in_order.end(), first.features.begin(), first.features.end());
  auto both = read_feature_files({a, b});
  ASSERT_TRUE(both.is_ok()) << both.message();
  EXPECT_FALSE(both->mapped_rows.empty());
  EXPECT_EQ(both->ids, (std::vector<std::string>{"e", "f", "g", "a", "b", "c", "d"}));
  EXPECT_EQ(both->values(), in_order);
  // Written back from where the rows are: the bytes of a set held in memory.
  const std::string joined = scratch_path("in-place-joined.safetensors");
  ASSERT_TRUE(write_features(joined, *both).is_ok());
  FeatureSet held = *both;
  held.features = held.values();
  held.mapped_rows.clear();
  held.mapped_files.clear();
  const std::string held_path = scratch_path("in-place-held.safetensors");
  ASSERT_TRUE(write_features(held_path, held).is_ok());
  auto bytes = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(bytes(joined), bytes(held_path));

  // The second file rewritten with its header one byte longer (a space inside the JSON, not at its end as the
  // format's padding would be): its values start at an odd offset and are copied.
  std::string file = bytes(b);
  uint64_t header_len = 0;
  std::memcpy(&header_len, file.data(), 8);
  file.insert(9, " ");
  ++header_len;
  std::memcpy(file.data(), &header_len, 8);
  const std::string odd = scratch_path("in-place-odd.safetensors");
  std::ofstream(odd, std::ios::binary) << file;
  auto copied = read_features(odd);
  ASSERT_TRUE(copied.is_ok()) << copied.message();
  EXPECT_TRUE(copied->mapped_rows.empty());
  EXPECT_EQ(copied->features, second.features);
  auto mixed = read_feature_files({a, odd});
  ASSERT_TRUE(mixed.is_ok()) << mixed.message();
  EXPECT_TRUE(mixed->mapped_rows.empty());
  EXPECT_EQ(mixed->features, in_order);
  EXPECT_EQ(mixed->ids, both->ids);
}

TEST(FilesRoundTrip, FeaturesAndHead) {
  World world(13);
  FeatureSet set = world.rated(6);
  set.ids = {"a", "b", "c", "d", "e", "f"};
  set.row_index = {0, 1, 2, 3, 4, 5};
  set.model = "models/x";
  const std::string path = scratch_path("features.safetensors");
  ASSERT_TRUE(write_features(path, set).is_ok());
  auto back = read_features(path);
  ASSERT_TRUE(back.is_ok()) << back.message();
  EXPECT_EQ(back->values(), set.features);
  EXPECT_EQ(back->ids, set.ids);
  EXPECT_EQ(back->row_index, set.row_index);
  EXPECT_EQ(back->layer, "final_norm");
  EXPECT_EQ(back->model, "models/x");
  for (size_t i = 0; i < 6; ++i)
    EXPECT_FLOAT_EQ(float(back->labels.at("helpfulness")[i]), float(set.labels.at("helpfulness")[i]));

  RewardHead head;
  head.labels = {"helpfulness", "correctness"};
  head.dim = 3;
  head.weight = {0.5, -1.25, 2, 0, 1, -1};
  head.bias = {0.25, -3};
  head.layer = "layer12";
  head.objective = "regression";
  const std::string head_path = scratch_path("head.safetensors");
  ASSERT_TRUE(save_reward_head(head_path, head).is_ok());
  auto loaded = load_reward_head(head_path);
  ASSERT_TRUE(loaded.is_ok()) << loaded.message();
  EXPECT_EQ(loaded->labels, head.labels);
  EXPECT_EQ(loaded->weight, head.weight);
  EXPECT_EQ(loaded->bias, head.bias);
  EXPECT_EQ(loaded->layer, "layer12");
  EXPECT_EQ(loaded->objective, "regression");
  const float x[3] = {1, 2, 3};
  EXPECT_EQ(head_scores(*loaded, x), (std::vector<double>{0.5 - 2.5 + 6 + 0.25, 0 + 2 - 3 - 3}));
  // A features file is not a head.
  auto wrong = load_reward_head(path);
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_NE(wrong.message().find("arbiter-reward-head"), std::string::npos);
}

TEST(FilesRoundTrip, LabelsFileMatchedById) {
  FeatureSet set;
  set.rows = 3;
  set.responses = 1;
  set.dim = 1;
  set.features = {1, 2, 3};
  set.ids = {"x", "7", "z"};
  const std::string path = scratch_path("labels.jsonl");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("{\"id\": \"z\", \"helpfulness\": 4}\n{\"id\": 7, \"helpfulness\": 1}\n{\"id\": \"q\", \"helpfulness\": 0}\n"
               "{\"id\": \"x\", \"helpfulness\": 2.5}\n",
               f);
    std::fclose(f);
  }
  ASSERT_TRUE(merge_labels_file(set, path, {"helpfulness"}).is_ok());
  EXPECT_EQ(set.labels.at("helpfulness"), (std::vector<double>{2.5, 1, 4}));
  auto missing = merge_labels_file(set, path, {"verbosity"});
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.message().find(":1"), std::string::npos) << missing.message();
}

// Features of rows without ids carry the rows' indices as ids (a --shard run's are every Nth); a labels
// file without ids is known by index the same way; one that has ids after rows without is an error.
TEST(FilesRoundTrip, LabelsFileWithoutIdsMatchedByIndex) {
  FeatureSet set;
  set.rows = 2;
  set.responses = 1;
  set.dim = 1;
  set.features = {1, 2};
  set.ids = {"1", "4"};  // shard 1 of 3
  const std::string path = scratch_path("unnamed_labels.jsonl");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    for (int i = 0; i < 6; ++i) std::fprintf(f, "{\"helpfulness\": %d}\n", 10 * i);
    std::fclose(f);
  }
  ASSERT_TRUE(merge_labels_file(set, path, {"helpfulness"}).is_ok());
  EXPECT_EQ(set.labels.at("helpfulness"), (std::vector<double>{10, 40}));
  const std::string mixed = scratch_path("mixed_labels.jsonl");
  {
    std::FILE* f = std::fopen(mixed.c_str(), "w");
    std::fputs("{\"helpfulness\": 1}\n{\"id\": \"4\", \"helpfulness\": 2}\n", f);
    std::fclose(f);
  }
  auto refused = merge_labels_file(set, mixed, {"helpfulness"});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.message().find("mixed_labels.jsonl:2: has an 'id', where the rows before it have none"), std::string::npos)
      << refused.message();
}

}  // namespace
}  // namespace arbiter::train
