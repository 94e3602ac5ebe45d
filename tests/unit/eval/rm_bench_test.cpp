// RM-Bench's matrix and its three regions, on rows whose comparisons are counted by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/rm_bench.h"

namespace arbiter::eval {
namespace {

RmBenchRow row(std::string domain, std::vector<double> chosen, std::vector<double> rejected) {
  RmBenchRow r;
  r.domain = std::move(domain);
  r.chosen = std::move(chosen);
  r.rejected = std::move(rejected);
  return r;
}

TEST(RmBench, RegionsOfTheStyleMatrix) {
  // Row 1: chosen 3 > 2.5, 1.5, 0.5; chosen 2 > 1.5, 0.5; chosen 1 > 0.5. Row 2: all ties, all wrong.
  // M = [[.5 .5 .5] [0 .5 .5] [0 0 .5]]: hard (above the diagonal) .5, normal .5, easy 0, mean 3 / 9.
  const std::vector<RmBenchRow> rows = {row("chat", {3, 2, 1}, {2.5, 1.5, 0.5}), row("chat", {0, 0, 0}, {0, 0, 0})};
  auto report = score_rm_bench(rows);
  ASSERT_TRUE(report.is_ok()) << report.message();
  ASSERT_EQ(report->domains.size(), 1u);
  const RmBenchScores& chat = report->domains.at("chat");
  EXPECT_EQ(chat.n, 2u);
  const std::vector<std::vector<double>> expected = {{0.5, 0.5, 0.5}, {0, 0.5, 0.5}, {0, 0, 0.5}};
  EXPECT_EQ(chat.matrix, expected);
  EXPECT_DOUBLE_EQ(chat.hard, 0.5);
  EXPECT_DOUBLE_EQ(chat.normal, 0.5);
  EXPECT_DOUBLE_EQ(chat.easy, 0.0);
  EXPECT_DOUBLE_EQ(chat.average, 1.0 / 3);
  EXPECT_EQ(report->styles, 3u);
}

TEST(RmBench, SafetyRowsAreOneDomainAndDomainsCountOnceInTheMean) {
  // math: one row right in every pair (1); safety: a refuse row right everywhere and a response row wrong
  // everywhere (1/2); chat: three rows wrong everywhere (0). Mean of domains: (1 + .5 + 0) / 3.
  std::vector<RmBenchRow> rows = {row("math", {1, 1, 1}, {0, 0, 0}),
                                  row("safety-refuse", {1, 1, 1}, {0, 0, 0}),
                                  row("safety-response", {0, 0, 0}, {1, 1, 1})};
  for (int i = 0; i < 3; ++i) rows.push_back(row("chat", {0, 0, 0}, {1, 1, 1}));
  auto report = score_rm_bench(rows);
  ASSERT_TRUE(report.is_ok()) << report.message();
  ASSERT_EQ(report->domains.size(), 3u);
  EXPECT_DOUBLE_EQ(report->domains.at("safety").average, 0.5);
  EXPECT_EQ(report->domains.at("safety").n, 2u);
  EXPECT_DOUBLE_EQ(report->subdomains.at("safety-refuse").average, 1.0);
  EXPECT_DOUBLE_EQ(report->subdomains.at("safety-response").average, 0.0);
  EXPECT_DOUBLE_EQ(report->overall.average, 0.5);
  EXPECT_DOUBLE_EQ(report->overall.hard, 0.5);
  EXPECT_EQ(report->overall.n, 6u);
  EXPECT_EQ(rm_bench_domain(""), "all");
  // Domains pooled by the prefix RM-Bench's script splits on; another is a domain of its own.
  EXPECT_EQ(rm_bench_domain("chat-extra"), "chat");
  EXPECT_EQ(rm_bench_domain("math"), "math");
  EXPECT_EQ(rm_bench_domain("code-python"), "code");
  EXPECT_EQ(rm_bench_domain("safety-refuse"), "safety");
  EXPECT_EQ(rm_bench_domain("medicine"), "medicine");
}

TEST(RmBench, RowsOfOtherShapesAreErrorsNamingTheRow) {
  auto uneven = score_rm_bench({row("chat", {1, 2, 3}, {0, 0, 0}), row("chat", {1, 2}, {0, 0, 0})});
  ASSERT_FALSE(uneven.is_ok());
  EXPECT_NE(uneven.message().find("row 2: 2 chosen and 3 rejected scores"), std::string::npos) << uneven.message();
  auto styles = score_rm_bench({row("chat", {1, 2, 3}, {0, 0, 0}), row("chat", {1, 2}, {0, 0})});
  ASSERT_FALSE(styles.is_ok());
  EXPECT_NE(styles.message().find("3 styles as the first row"), std::string::npos) << styles.message();
  EXPECT_FALSE(score_rm_bench({}).is_ok());
  // One style has no triangles: hard and easy are undefined, normal is the plain accuracy.
  auto single = score_rm_bench({row("chat", {1}, {0})});
  ASSERT_TRUE(single.is_ok());
  EXPECT_TRUE(std::isnan(single->domains.at("chat").hard));
  EXPECT_DOUBLE_EQ(single->domains.at("chat").normal, 1.0);
}

}  // namespace
}  // namespace arbiter::eval
