// Histogram and calibration bins, jitter and margins, on the LAGER Flask scores and small hand cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <string>

#include "data/values.h"
#include "eval/report_stats.h"
#include "../../support/shared_dir.h"

namespace arbiter::eval {
namespace {

using arbiter::testing::kFlask;

using arbiter::testing::load_flask_scores;

TEST(DiscreteStep, FindsTheScoreGrid) {
  const std::vector<double> ratings{1, 5, 3, 3, 2};
  EXPECT_DOUBLE_EQ(discrete_step(ratings), 1.0);
  const std::vector<double> halves{1.0, 1.5, 3.0};
  EXPECT_DOUBLE_EQ(discrete_step(halves), 0.5);
  const std::vector<double> off_grid{1.0, 1.5, 1.7};
  EXPECT_EQ(discrete_step(off_grid), 0.0);
  const std::vector<double> one_level{2, 2, 2};
  EXPECT_EQ(discrete_step(one_level), 0.0);
  std::vector<double> many(100);
  std::iota(many.begin(), many.end(), 0.0);
  EXPECT_EQ(discrete_step(many), 0.0);  // 100 levels: treated as continuous
}

// Flask's human score is the mean of three 1-5 ratings: levels 1, 4/3, ..., 5.
TEST(DiscreteStep, FlaskHumanScoresAreInThirds) {
  const std::vector<double> human = load_flask_scores("human_score.json");
  ASSERT_EQ(human.size(), 1997u);
  EXPECT_NEAR(discrete_step(human), 1.0 / 3.0, 1e-9);
  EXPECT_EQ(discrete_step(load_flask_scores("palmscore_w.json")), 0.0);
}

TEST(HistogramBins, DiscreteFlaskHumanScoresGetOneBinPerLevel) {
  const std::vector<double> human = load_flask_scores("human_score.json");
  const HistogramBins bins = histogram_bins(human);
  ASSERT_TRUE(bins.discrete);
  const double lo = *std::min_element(human.begin(), human.end());
  const double hi = *std::max_element(human.begin(), human.end());
  ASSERT_EQ(bins.counts.size(), size_t(std::llround((hi - lo) * 3)) + 1);
  ASSERT_EQ(bins.edges.size(), bins.counts.size() + 1);
  EXPECT_NEAR(bins.edges.front(), lo - 1.0 / 6.0, 1e-9);
  // Each bin's count is the number of items at that level, counted independently here.
  std::map<long, size_t> by_level;
  for (double h : human) by_level[std::lround(h * 3)]++;
  for (size_t k = 0; k < bins.counts.size(); ++k)
    EXPECT_EQ(bins.counts[k], by_level[std::lround(lo * 3) + long(k)]) << "bin " << k;
}

TEST(HistogramBins, ContinuousScoresUseEqualWidthBins) {
  const std::vector<double> pred = load_flask_scores("palmscore_w.json");
  const HistogramBins bins = histogram_bins(pred, 10, 40);
  EXPECT_FALSE(bins.discrete);
  EXPECT_GE(bins.counts.size(), 10u);
  EXPECT_LE(bins.counts.size(), 40u);
  EXPECT_EQ(std::accumulate(bins.counts.begin(), bins.counts.end(), size_t(0)), pred.size());
  EXPECT_EQ(bins.edges.front(), *std::min_element(pred.begin(), pred.end()));
  EXPECT_EQ(bins.edges.back(), *std::max_element(pred.begin(), pred.end()));
  const double width = bins.edges[1] - bins.edges[0];
  for (size_t i = 1; i + 1 < bins.edges.size(); ++i) EXPECT_NEAR(bins.edges[i + 1] - bins.edges[i], width, 1e-9);
}

TEST(HistogramBins, EdgeCases) {
  EXPECT_TRUE(histogram_bins(std::vector<double>{}).counts.empty());
  const HistogramBins one = histogram_bins(std::vector<double>{7.0, 7.0});
  EXPECT_EQ(one.counts, (std::vector<size_t>{2}));
  const HistogramBins skip = histogram_bins(std::vector<double>{0.1, NAN, 0.7, INFINITY, 0.35});
  EXPECT_EQ(std::accumulate(skip.counts.begin(), skip.counts.end(), size_t(0)), 3u);
}

TEST(CalibrationBins, EqualCountBinsOverFlask) {
  const std::vector<double> pred = load_flask_scores("palmscore_w.json"), human = load_flask_scores("human_score.json");
  const std::vector<CalibrationBin> bins = calibration_bins(pred, human, 10);
  ASSERT_GE(bins.size(), 9u);
  ASSERT_LE(bins.size(), 11u);
  size_t total = 0;
  double human_sum = 0.0;
  for (size_t b = 0; b < bins.size(); ++b) {
    total += bins[b].n;
    human_sum += bins[b].mean_human * double(bins[b].n);
    EXPECT_NEAR(double(bins[b].n), 199.7, 3.0) << "bin " << b;
    if (b > 0) {
      EXPECT_LT(bins[b - 1].pred_hi, bins[b].pred_lo);
    }
  }
  EXPECT_EQ(total, pred.size());
  EXPECT_NEAR(human_sum, std::accumulate(human.begin(), human.end(), 0.0), 1e-6);
  // Spearman 0.347: the top bin's humans score clearly above the bottom bin's.
  EXPECT_GT(bins.back().mean_human, bins.front().mean_human + 0.3);
}

TEST(CalibrationBins, DiscretePredictionGetsOneBinPerLevel) {
  const std::vector<double> pred = load_flask_scores("direct_score.json"), human = load_flask_scores("human_score.json");
  const std::vector<CalibrationBin> bins = calibration_bins(pred, human, 10);
  std::vector<double> levels = pred;
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  ASSERT_EQ(bins.size(), levels.size());
  for (size_t b = 0; b < bins.size(); ++b) {
    EXPECT_EQ(bins[b].pred_lo, levels[b]);
    EXPECT_EQ(bins[b].pred_hi, levels[b]);
    double sum = 0.0;
    size_t n = 0;
    for (size_t i = 0; i < pred.size(); ++i)
      if (pred[i] == levels[b]) sum += human[i], ++n;
    EXPECT_EQ(bins[b].n, n);
    EXPECT_NEAR(bins[b].mean_human, sum / double(n), 1e-12);
  }
}

TEST(CalibrationBins, TiesStayInOneBinAndStandardErrorIsRight) {
  const std::vector<double> pred{0.1, 0.2, 0.2, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2,
                                 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6, 2.7, 2.8};
  std::vector<double> human(pred.size());
  for (size_t i = 0; i < human.size(); ++i) human[i] = double(i % 3);
  const std::vector<CalibrationBin> bins = calibration_bins(pred, human, 10);
  for (const CalibrationBin& b : bins)
    if (b.pred_lo <= 0.2 && b.pred_hi >= 0.2) {
      EXPECT_GE(b.n, 4u);  // all four 0.2s together
    }
  // The first bin: rows 0..k with human i % 3; check its standard error by hand.
  const CalibrationBin& first = bins.front();
  double mean = 0.0;
  for (size_t i = 0; i < first.n; ++i) mean += human[i];
  mean /= double(first.n);
  double ss = 0.0;
  for (size_t i = 0; i < first.n; ++i) ss += (human[i] - mean) * (human[i] - mean);
  EXPECT_NEAR(first.se_human, std::sqrt(ss / double(first.n - 1) / double(first.n)), 1e-12);
}

TEST(Jitter, MovesDiscreteValuesWithinAFractionOfTheStep) {
  const std::vector<double> human = load_flask_scores("human_score.json");
  const std::vector<double> a = jitter(human, 0.3, 7), b = jitter(human, 0.3, 7), c = jitter(human, 0.3, 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  size_t moved = 0;
  for (size_t i = 0; i < human.size(); ++i) {
    EXPECT_LE(std::fabs(a[i] - human[i]), 0.3 / 3.0 + 1e-12);
    moved += a[i] != human[i];
  }
  EXPECT_GT(moved, human.size() * 9 / 10);
  const std::vector<double> pred = load_flask_scores("palmscore_w.json");
  EXPECT_EQ(jitter(pred, 0.3, 7), pred);
}

TEST(Margins, PreferenceAndBestOfN) {
  const std::vector<PreferenceRow> pref{{"a", 2.0, 0.5}, {"a", 1.0, 1.0}, {"b", -1.0, 0.25}};
  EXPECT_EQ(preference_margins(pref), (std::vector<double>{1.5, 0.0, -1.25}));
  const std::vector<BestOfNRow> bon{{"s", "1", {3.0, 1.0, 2.0, 0.0}, 1},
                                    {"s", "2", {3.0, 2.5, 2.75, 0.0}, 2},
                                    {"s", "3", {1.0}, 1}};  // no incorrect completion: skipped
  EXPECT_EQ(best_of_n_margins(bon), (std::vector<double>{1.0, -0.25}));
}

}  // namespace
}  // namespace arbiter::eval
