#include "eval/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "data/values.h"
#include "../../support/shared_dir.h"

namespace arbiter::eval {
namespace {

using arbiter::testing::kFlask;

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

TEST(Ranks, TiesShareTheMeanRank) {
  const std::vector<double> v = {10, 20, 20, 5, 20};
  // 5 -> 1, 10 -> 2, the three 20s span ranks 3..5 -> 4.
  EXPECT_EQ(average_ranks(v), (std::vector<double>{2, 4, 4, 1, 4}));
}

TEST(Spearman, ScipyDocumentedExampleWithTies) {
  // scipy.stats.spearmanr([1,2,3,4,5], [5,6,7,8,7]) = 0.8207826816681233.
  // By hand: ranks of y are [1,2,3.5,5,3.5]; centred dot product 8, sums of squares 10 and 9.5,
  // so rho = 8 / sqrt(95).
  const std::vector<double> x = {1, 2, 3, 4, 5}, y = {5, 6, 7, 8, 7};
  auto rho = spearman(x, y);
  ASSERT_TRUE(rho) << rho.message();
  EXPECT_NEAR(*rho, 8.0 / std::sqrt(95.0), 1e-15);
  EXPECT_NEAR(*rho, 0.8207826816681233, 1e-15);
}

TEST(Kendall, ScipyDocumentedExampleWithTiesInBoth) {
  // scipy.stats.kendalltau([12,2,1,12,2], [1,4,7,1,0]) = -0.47140452079103173.
  // By hand over the 10 pairs: 2 concordant, 6 discordant, x ties 2 pairs, y ties 1 pair (the same pair
  // as one x tie): tau_b = (2 - 6) / sqrt((10 - 2) * (10 - 1)).
  const std::vector<double> x = {12, 2, 1, 12, 2}, y = {1, 4, 7, 1, 0};
  auto counts = count_pairs(x, y);
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->concordant, 2u);
  EXPECT_EQ(counts->discordant, 6u);
  EXPECT_EQ(counts->tied_x, 2u);
  EXPECT_EQ(counts->tied_y, 1u);
  EXPECT_EQ(counts->tied_both, 1u);
  auto tau = kendall_tau_b(x, y);
  ASSERT_TRUE(tau);
  EXPECT_NEAR(*tau, -4.0 / std::sqrt(72.0), 1e-15);
  EXPECT_NEAR(*tau, -0.47140452079103173, 1e-15);
}

TEST(Kendall, MatchesPairByPairCountOnRandomTiedData) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const size_t n = 2 + rng() % 60;
    std::vector<double> x(n), y(n);
    for (size_t i = 0; i < n; ++i) {
      x[i] = double(rng() % 5);  // few distinct values: many ties
      y[i] = double(rng() % 4);
    }
    double concordant = 0, discordant = 0, tx = 0, ty = 0, pairs = 0;
    for (size_t i = 0; i < n; ++i)
      for (size_t j = i + 1; j < n; ++j) {
        pairs += 1;
        const double s = (x[i] - x[j]) * (y[i] - y[j]);
        if (x[i] == x[j]) tx += 1;
        if (y[i] == y[j]) ty += 1;
        if (s > 0) concordant += 1;
        if (s < 0) discordant += 1;
      }
    auto tau = kendall_tau_b(x, y);
    ASSERT_TRUE(tau);
    if (tx == pairs || ty == pairs) {
      EXPECT_TRUE(std::isnan(*tau));
    } else {
      EXPECT_NEAR(*tau, (concordant - discordant) / std::sqrt((pairs - tx) * (pairs - ty)), 1e-12);
    }
  }
}

TEST(Pearson, SmallVectorByHand) {
  // Means 3 and 4; centred dot product 6, sums of squares 10 and 6: r = 6 / sqrt(60).
  const std::vector<double> x = {1, 2, 3, 4, 5}, y = {2, 4, 5, 4, 5};
  auto r = pearson(x, y);
  ASSERT_TRUE(r);
  EXPECT_NEAR(*r, 6.0 / std::sqrt(60.0), 1e-15);
}

// Pearson's r does not depend on the scale: the same vectors times 1e200 or 1e-200 (whose squares overflow
// or underflow a double) give the same r.
TEST(Pearson, HugeAndTinyValuesGiveTheSameR) {
  const std::vector<double> x = {1, 2, 3, 4, 5}, y = {2, 4, 5, 4, 5};
  for (double scale : {1e200, 1e-200, -1e160}) {
    std::vector<double> scaled = x;
    for (double& v : scaled) v *= scale;
    auto r = pearson(scaled, y);
    ASSERT_TRUE(r) << scale;
    EXPECT_NEAR(*r, (scale > 0 ? 1 : -1) * 6.0 / std::sqrt(60.0), 1e-14) << scale;
  }
}

TEST(PairwiseAccuracy, PredTiesCountHalf) {
  // Pairs with distinct human labels: (0,1) (0,2) (0,3) (1,2) (1,3); pred ties on (1,2) -> 4.5 of 5.
  const std::vector<double> pred = {1, 2, 2, 3}, human = {1, 2, 3, 3};
  auto acc = pairwise_accuracy(pred, human);
  ASSERT_TRUE(acc);
  EXPECT_DOUBLE_EQ(*acc, 0.9);
  // A constant prediction is chance, and one reversed wherever it is not tied is below it.
  const std::vector<double> constant = {7, 7, 7, 7}, reversed = {3, 2, 2, 1};
  EXPECT_DOUBLE_EQ(*pairwise_accuracy(constant, human), 0.5);
  EXPECT_DOUBLE_EQ(*pairwise_accuracy(reversed, human), 0.1);
}

TEST(Metrics, BadInputIsAnError) {
  const std::vector<double> three = {1, 2, 3}, two = {1, 2}, one = {1};
  EXPECT_FALSE(spearman(three, two));
  EXPECT_NE(spearman(three, two).message().find("length mismatch"), std::string::npos);
  EXPECT_FALSE(kendall_tau_b(one, one));
  const std::vector<double> with_nan = {1, std::nan(""), 3};
  EXPECT_FALSE(pearson(with_nan, three));
}

TEST(Metrics, ConstantInputIsNaN) {
  const std::vector<double> constant = {2, 2, 2}, rising = {1, 2, 3};
  EXPECT_TRUE(is_constant(constant));
  EXPECT_TRUE(std::isnan(*spearman(constant, rising)));
  EXPECT_TRUE(std::isnan(*kendall_tau_b(rising, constant)));
  EXPECT_TRUE(std::isnan(*pearson(constant, rising)));
  auto report = correlate(constant, rising, BootstrapOptions{});
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->pred_constant);
  EXPECT_FALSE(report->has_intervals);
}

TEST(Bootstrap, DeterministicForASeedAndCoversTheEstimate) {
  std::mt19937_64 rng(3);
  std::vector<double> x(200), y(200);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = double(rng() % 1000);
    y[i] = x[i] + double(rng() % 700);
  }
  BootstrapOptions options;
  options.seed = 42;
  auto a = bootstrap_interval(x, y, spearman, options);
  auto b = bootstrap_interval(x, y, spearman, options);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->lo, b->lo);
  EXPECT_EQ(a->hi, b->hi);
  EXPECT_EQ(a->resamples_used, 1000);
  const double rho = *spearman(x, y);
  EXPECT_LT(a->lo, rho);
  EXPECT_GT(a->hi, rho);
  options.seed = 43;
  auto c = bootstrap_interval(x, y, spearman, options);
  EXPECT_NE(a->lo, c->lo);
}

// Resamples are computed a thread's batch at a time: the interval is the same on any number of threads,
// and the same as drawing and computing them one by one from the seed.
TEST(Bootstrap, TheSameIntervalOnAnyNumberOfThreads) {
  std::mt19937_64 rng(5);
  std::vector<double> x(300), y(300);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = double(rng() % 50);
    y[i] = x[i] + double(rng() % 40);
  }
  BootstrapOptions options;
  options.seed = 7;
  options.resamples = 101;  // not a multiple of the thread counts below
  BootstrapIndices indices(x.size(), options.seed);
  std::vector<double> one_by_one;
  std::vector<size_t> rows;
  for (int b = 0; b < options.resamples; ++b) {
    indices.next(rows);
    std::vector<double> xs, ys;
    for (size_t r : rows) {
      xs.push_back(x[r]);
      ys.push_back(y[r]);
    }
    one_by_one.push_back(*kendall_tau_b(xs, ys));
  }
  const Interval expected = percentile_interval(one_by_one, options.level);
  for (const int threads : {1, 2, 3}) {
    set_num_threads(threads);
    auto got = bootstrap_interval(x, y, kendall_tau_b, options);
    ASSERT_TRUE(got) << got.message();
    EXPECT_EQ(got->lo, expected.lo) << threads;
    EXPECT_EQ(got->hi, expected.hi) << threads;
    EXPECT_EQ(got->resamples_used, 101) << threads;
  }
  set_num_threads(0);
}

// The LAGER paper's Table 1 (Mistral-7B-Instruct-v0.3 on Flask, direct prompting): Spearman with the
// human scores is 0.266 (vanilla), 0.239 (expected score), 0.347 (LAGER, tuned weights).
TEST(Flask, ReproducesLagerTable1Spearman) {
  auto human = data::read_number_column(kFlask + "human_score.json", "");
  ASSERT_TRUE(human) << human.message();
  ASSERT_EQ(human->size(), 1997u);
  const std::pair<const char*, double> rows[] = {
      {"direct_score.json", 0.266}, {"e_score.json", 0.239}, {"palmscore_w.json", 0.347}};
  for (const auto& [file, expected] : rows) {
    auto pred = data::read_number_column(kFlask + file, "");
    ASSERT_TRUE(pred) << pred.message();
    auto rho = spearman(*pred, *human);
    ASSERT_TRUE(rho) << file << ": " << rho.message();
    EXPECT_EQ(round3(*rho), expected) << file << " rho = " << *rho;
  }
}

TEST(Flask, WeightedScoreHasFewerItemsAndIsRejected) {
  auto human = data::read_number_column(kFlask + "human_score.json", "");
  auto pred = data::read_number_column(kFlask + "weighted_score.json", "");
  ASSERT_TRUE(human && pred);
  EXPECT_EQ(pred->size(), 1992u);
  EXPECT_FALSE(spearman(*pred, *human));
}

// AUROC by hand: positives {3, 2, 2}, negatives {1, 2}. 3 beats both (2); each 2 beats 1 and ties 2
// (1.5 each): 5 of 6 pairs.
TEST(Auroc, CountsTiesHalfAndNeedsBothClasses) {
  const std::vector<double> positive = {3, 2, 2}, negative = {1, 2};
  EXPECT_DOUBLE_EQ(auroc(positive, negative), 5.0 / 6.0);
  EXPECT_DOUBLE_EQ(auroc(negative, positive), 1.0 - 5.0 / 6.0);  // the complement, swapping the classes
  EXPECT_DOUBLE_EQ(auroc(std::vector<double>{5}, std::vector<double>{1, 2, 3}), 1.0);
  EXPECT_TRUE(std::isnan(auroc(positive, std::vector<double>{})));
}

}  // namespace
}  // namespace arbiter::eval
