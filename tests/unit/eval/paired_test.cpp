// Paired comparisons: McNemar's exact test against the binomial sums written out, and the paired bootstrap's
// intervals and p-values on systems whose difference is known.
#include "eval/paired.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace arbiter::eval {
namespace {

// `right` rows right, then `wrong` rows wrong.
std::vector<char> verdicts(size_t right, size_t wrong) {
  std::vector<char> v(right, 1);
  v.insert(v.end(), wrong, 0);
  return v;
}

// `wrong` rows wrong, then `right` rows right.
std::vector<char> wrong_then_right(size_t wrong, size_t right) {
  std::vector<char> v(wrong, 0);
  v.insert(v.end(), right, 1);
  return v;
}

TEST(McNemar, ExactTwoSidedBinomialTail) {
  // 8 rows only the baseline gets right, 2 only the system: 2 * (C(10,0) + C(10,1) + C(10,2)) / 2^10.
  std::vector<char> baseline = verdicts(8, 2), system = wrong_then_right(8, 2);
  // 5 rows both right, 3 both wrong: they do not count.
  for (int i = 0; i < 5; ++i) baseline.push_back(1), system.push_back(1);
  for (int i = 0; i < 3; ++i) baseline.push_back(0), system.push_back(0);
  ASSERT_TRUE(mcnemar_exact(baseline, system).is_ok());
  const McNemarResult m = *mcnemar_exact(baseline, system);
  EXPECT_EQ(m.only_baseline, 8u);
  EXPECT_EQ(m.only_system, 2u);
  EXPECT_NEAR(m.p_value, 112.0 / 1024.0, 1e-15);

  // Large counts, summed in log space: 500 / 600 of 1100, 2 * sum_{k<=500} C(1100,k) / 2^1100, from exact
  // integer arithmetic (Python's math.comb and fractions): 0.0028195449914364275.
  const McNemarResult large = *mcnemar_exact(verdicts(600, 500), wrong_then_right(600, 500));
  EXPECT_EQ(large.only_baseline, 600u);
  EXPECT_EQ(large.only_system, 500u);
  EXPECT_NEAR(large.p_value, 0.0028195449914364275, 1e-12);

  // An even split, or no disagreement at all, is no evidence.
  EXPECT_DOUBLE_EQ(mcnemar_exact(verdicts(5, 5), wrong_then_right(5, 5))->p_value, 1.0);
  EXPECT_DOUBLE_EQ(mcnemar_exact(verdicts(3, 2), verdicts(3, 2))->p_value, 1.0);
  EXPECT_FALSE(mcnemar_exact(verdicts(3, 2), verdicts(3, 3)).is_ok());
}

// Human labels and three systems: the labels with a little noise, with much noise, and the first again.
struct Fixture {
  std::vector<double> human, sharp, blurred;
  Fixture() {
    std::mt19937_64 rng(5);
    std::normal_distribution<double> noise(0.0, 1.0);
    for (int i = 0; i < 300; ++i) {
      const double h = double(i % 5);
      human.push_back(h);
      sharp.push_back(h + 0.7 * noise(rng));
      blurred.push_back(h + 3.0 * noise(rng));
    }
  }
  SystemStatistic spearman_of(std::vector<const std::vector<double>*> systems) const {
    return [this, systems](size_t s, std::span<const size_t> rows) {
      std::vector<double> x, y;
      for (const size_t i : rows) x.push_back((*systems[s])[i]), y.push_back(human[i]);
      return *spearman(x, y);
    };
  }
};

TEST(PairedBootstrap, EachSystemsIntervalIsItsOwnBootstrapOnTheSameDraws) {
  const Fixture f;
  BootstrapOptions options;
  options.resamples = 300;
  options.seed = 11;
  const auto result = compare_paired({"blurred", "sharp"}, f.human.size(), f.spearman_of({&f.blurred, &f.sharp}), options);
  ASSERT_TRUE(result.is_ok()) << result.message();
  ASSERT_EQ(result->systems.size(), 2u);
  EXPECT_DOUBLE_EQ(result->systems[1].value, *spearman(f.sharp, f.human));
  // Every system sees the draws bootstrap_interval makes for the same seed.
  const Interval alone = *bootstrap_interval(f.sharp, f.human, spearman, options);
  EXPECT_DOUBLE_EQ(result->systems[1].ci.lo, alone.lo);
  EXPECT_DOUBLE_EQ(result->systems[1].ci.hi, alone.hi);
  EXPECT_EQ(result->systems[1].ci.resamples_used, 300);

  // The sharp system is better in every resample: the interval of the difference lies above zero and the
  // p-value is as small as 300 resamples can say.
  ASSERT_EQ(result->differences.size(), 1u);
  const DifferenceResult& d = result->differences[0];
  EXPECT_EQ(d.system, "sharp");
  EXPECT_EQ(d.baseline, "blurred");
  EXPECT_DOUBLE_EQ(d.difference, result->systems[1].value - result->systems[0].value);
  EXPECT_GT(d.ci.lo, 0.0);
  EXPECT_LT(d.ci.lo, d.difference);
  EXPECT_GT(d.ci.hi, d.difference);
  EXPECT_DOUBLE_EQ(d.p_value, 1.0 / 301.0);

  // Pairing: the difference's interval is narrower than the two systems' intervals side by side suggest.
  EXPECT_LT(d.ci.hi - d.ci.lo, (result->systems[0].ci.hi - result->systems[0].ci.lo) +
                                   (result->systems[1].ci.hi - result->systems[1].ci.lo));
}

TEST(PairedBootstrap, TheSameSystemTwiceDiffersByNothing) {
  const Fixture f;
  const auto result = compare_paired({"a", "a again"}, f.human.size(), f.spearman_of({&f.sharp, &f.sharp}), {});
  ASSERT_TRUE(result.is_ok()) << result.message();
  const DifferenceResult& d = result->differences[0];
  EXPECT_EQ(d.difference, 0.0);
  EXPECT_EQ(d.ci.lo, 0.0);
  EXPECT_EQ(d.ci.hi, 0.0);
  EXPECT_EQ(d.p_value, 1.0);
}

TEST(PairedBootstrap, ReversedSystemsGiveTheMirroredDifference) {
  const Fixture f;
  BootstrapOptions options;
  options.resamples = 200;
  const auto ab = *compare_paired({"blurred", "sharp"}, f.human.size(), f.spearman_of({&f.blurred, &f.sharp}), options);
  const auto ba = *compare_paired({"sharp", "blurred"}, f.human.size(), f.spearman_of({&f.sharp, &f.blurred}), options);
  EXPECT_DOUBLE_EQ(ab.differences[0].difference, -ba.differences[0].difference);
  EXPECT_NEAR(ab.differences[0].ci.lo, -ba.differences[0].ci.hi, 1e-12);
  EXPECT_DOUBLE_EQ(ab.differences[0].p_value, ba.differences[0].p_value);
}

TEST(PairedBootstrap, UndefinedResamplesAreLeftOutAndBadInputsRefused) {
  // A statistic undefined on some resamples (NaN) leaves those out of the counts.
  int calls = 0;
  const SystemStatistic sometimes = [&](size_t s, std::span<const size_t> rows) {
    ++calls;
    if (rows.size() == 4 && rows[0] == 0 && s == 1) return std::nan("");
    return double(s) + double(rows[0]) / 10.0;
  };
  BootstrapOptions options;
  options.resamples = 100;
  const auto result = compare_paired({"x", "y"}, 4, sometimes, options);
  ASSERT_TRUE(result.is_ok()) << result.message();
  EXPECT_LT(result->systems[1].ci.resamples_used, 100);
  EXPECT_EQ(result->systems[0].ci.resamples_used, 100);
  EXPECT_EQ(result->differences[0].ci.resamples_used, result->systems[1].ci.resamples_used);
  EXPECT_EQ(calls, 2 * 101);

  EXPECT_FALSE(compare_paired({"only"}, 10, sometimes, options).is_ok());
  EXPECT_FALSE(compare_paired({"x", "y"}, 1, sometimes, options).is_ok());
  options.resamples = 0;
  EXPECT_FALSE(compare_paired({"x", "y"}, 10, sometimes, options).is_ok());
}

}  // namespace
}  // namespace arbiter::eval
