// eval compare on the LAGER paper's published Flask scores, and on small files whose results are worked out
// by hand.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "../../support/cli_helpers.h"
#include "../../support/scratch_root.h"
#include "../../support/shared_dir.h"

namespace {

using arbiter::testing::kFlask;
using arbiter::testing::RunResult;
using arbiter::testing::run_arbiter;

std::string scratch_file(const std::string& name, const std::string& text) {
  const auto dir = arbiter::test::scratch_root() / ("arbiter_cli_compare_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

nlohmann::json json_of(const RunResult& r) { return nlohmann::json::parse(r.out.substr(r.out.find('{'))); }

class CliCompare : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(ARBITER_BINARY)) GTEST_SKIP() << "arbiter binary not built: " << ARBITER_BINARY;
  }
};

// The paper's Table 1 row (Mistral-7B-Instruct-v0.3 on Flask): direct 0.266, expected 0.239, LAGER 0.347.
// Paired on the same 1,997 items, LAGER's gain over the direct score is far outside what resampling the items
// moves, and the expected score's loss is small beside it.
TEST_F(CliCompare, TheLagerPapersFlaskScores) {
  const RunResult r = run_arbiter("eval compare --json --seed 3 --pred " + kFlask + "direct_score.json --pred " + kFlask +
                                  "e_score.json --pred " + kFlask + "palmscore_w.json --human " + kFlask +
                                  "human_score.json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json j = json_of(r);
  EXPECT_EQ(j["metric"], "spearman");
  EXPECT_EQ(j["rows"], 1997);
  ASSERT_EQ(j["systems"].size(), 3u);
  EXPECT_EQ(j["systems"][0]["name"], "direct_score.json");
  EXPECT_NEAR(j["systems"][0]["value"].get<double>(), 0.266, 0.0005);
  EXPECT_NEAR(j["systems"][1]["value"].get<double>(), 0.239, 0.0005);
  EXPECT_NEAR(j["systems"][2]["value"].get<double>(), 0.347, 0.0005);
  const nlohmann::json& lager = j["differences"][1];
  EXPECT_EQ(lager["system"], "palmscore_w.json");
  EXPECT_NEAR(lager["difference"].get<double>(),
              j["systems"][2]["value"].get<double>() - j["systems"][0]["value"].get<double>(), 1e-12);
  EXPECT_GT(lager["ci"][0].get<double>(), 0.0);
  EXPECT_LT(lager["p_bootstrap"].get<double>(), 0.01);
  const nlohmann::json& expected = j["differences"][0];
  EXPECT_LT(expected["ci"][0].get<double>(), expected["difference"].get<double>());
  EXPECT_GT(expected["ci"][1].get<double>(), expected["difference"].get<double>());
  EXPECT_FALSE(expected.contains("mcnemar"));

  // The table says the same, and the same seed gives the same numbers.
  const RunResult table = run_arbiter("eval compare --seed 3 --pred " + kFlask + "direct_score.json --pred " + kFlask +
                                      "palmscore_w.json --human " + kFlask + "human_score.json");
  ASSERT_EQ(table.exit_code, 0) << table.out;
  EXPECT_NE(table.out.find("spearman with " + kFlask + "human_score.json, 1997 rows paired by position"), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("direct_score.json     0.2660"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("(baseline)"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("palmscore_w.json      0.3467"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("+0.0807"), std::string::npos) << table.out;
  // No resampled difference crosses zero: the p-value is the least 300 resamples can tell, 1/301, and says
  // it is at most that.
  const RunResult few = run_arbiter("eval compare --seed 3 --bootstrap 300 --pred " + kFlask + "direct_score.json --pred " +
                                    kFlask + "palmscore_w.json --human " + kFlask + "human_score.json");
  ASSERT_EQ(few.exit_code, 0) << few.out;
  EXPECT_NE(few.out.find("<=0.0033"), std::string::npos) << few.out;

  // --report: report.json holds what --json printed; the page and both figures are written.
  const std::string dir = (arbiter::test::scratch_root() / ("compare-report-" + std::to_string(::getpid()))).string();
  const RunResult reported = run_arbiter("eval compare --json --seed 3 --report " + dir + " --pred " + kFlask +
                                         "direct_score.json --pred " + kFlask + "e_score.json --pred " + kFlask +
                                         "palmscore_w.json --human " + kFlask + "human_score.json");
  ASSERT_EQ(reported.exit_code, 0) << reported.out;
  std::ifstream report_json(dir + "/report.json");
  ASSERT_TRUE(report_json.good());
  const nlohmann::json written = nlohmann::json::parse(report_json);
  EXPECT_EQ(written["systems"], j["systems"]);
  EXPECT_EQ(written["differences"], j["differences"]);
  for (const char* file : {"/report.html", "/report.md", "/systems.svg", "/differences.svg"})
    EXPECT_TRUE(std::filesystem::exists(dir + file)) << file;
}

// A judge's three scores in one file, rows paired by id, with a scoring run's error line left out.
TEST_F(CliCompare, FieldsOfOneFilePairedById) {
  const std::string judged = scratch_file(
      "judged.jsonl",
      "{\"id\": \"a\", \"human\": 1, \"vanilla\": 2, \"lager\": 1.1}\n"
      "{\"id\": \"b\", \"human\": 2, \"vanilla\": 1, \"lager\": 2.2}\n"
      "{\"id\": \"x\", \"error\": \"too long\"}\n"
      "{\"id\": \"c\", \"human\": 3, \"vanilla\": 3, \"lager\": 2.9}\n"
      "{\"id\": \"d\", \"human\": 4, \"vanilla\": 4, \"lager\": 4.5}\n");
  const RunResult r = run_arbiter("eval compare --json --bootstrap 50 --pred " + judged +
                                  " --fields vanilla,lager --human-field human");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json j = json_of(r);
  EXPECT_EQ(j["rows"], 4);
  EXPECT_EQ(j["systems"][0]["name"], "vanilla");
  EXPECT_EQ(j["systems"][1]["name"], "lager");
  // vanilla ranks (2,1,3,4) against (1,2,3,4): rho = 1 - 6 * 2 / (4 * 15) = 0.8; lager orders all four right.
  EXPECT_DOUBLE_EQ(j["systems"][0]["value"].get<double>(), 0.8);
  EXPECT_DOUBLE_EQ(j["systems"][1]["value"].get<double>(), 1.0);
  EXPECT_NEAR(j["differences"][0]["difference"].get<double>(), 0.2, 1e-12);
  EXPECT_NE(r.out.find("left out 1 error lines of " + judged + " field 'vanilla'"), std::string::npos) << r.out;

  // Labels in another file, by id, in another order and with an id the scores lack.
  const std::string human = scratch_file("human.jsonl",
                                         "{\"id\": \"d\", \"h\": 4}\n{\"id\": \"q\", \"h\": 0}\n{\"id\": \"a\", \"h\": 1}\n"
                                         "{\"id\": \"c\", \"h\": 3}\n{\"id\": \"b\", \"h\": 2}\n");
  const RunResult joined = run_arbiter("eval compare --json --bootstrap 50 --pred " + judged +
                                       " --fields vanilla,lager --human " + human + " --human-field h");
  ASSERT_EQ(joined.exit_code, 0) << joined.out;
  EXPECT_DOUBLE_EQ(json_of(joined)["systems"][0]["value"].get<double>(), 0.8);
  EXPECT_NE(joined.out.find("1 rows of " + human + " field 'h'"), std::string::npos) << joined.out;
}

// Two reward models' RewardBench runs: accuracy with McNemar's counts, and the section-weighted score.
TEST_F(CliCompare, TwoRewardModelsOnPreferenceRows) {
  // Ten rows: both right on 0-3, only A on 4-5, only B on 6-8, neither on 9 (B's is a tie, and a tie is wrong). B's file lists the rows in reverse order: they are paired by id.
  const char* a_chosen[10] = {"1", "1", "1", "1", "1", "1", "0", "0", "0", "0"};
  const char* b_chosen[10] = {"1", "1", "1", "1", "0", "0", "1", "1", "1", "0.5"};
  std::string a, b;
  for (int i = 0; i < 10; ++i) {
    const std::string subset = i % 2 ? "\"alpacaeval-easy\"" : "\"math-prm\"";
    a += "{\"id\": " + std::to_string(i) + ", \"subset\": " + subset + ", \"score_chosen\": " + a_chosen[i] +
         ", \"score_rejected\": 0.5}\n";
    const int k = 9 - i;
    const std::string subset_k = k % 2 ? "\"alpacaeval-easy\"" : "\"math-prm\"";
    b += "{\"id\": " + std::to_string(k) + ", \"subset\": " + subset_k + ", \"score_chosen\": " + b_chosen[k] +
         ", \"score_rejected\": 0.5}\n";
  }
  const std::string rm_a = scratch_file("rm-a.jsonl", a), rm_b = scratch_file("rm-b.jsonl", b);
  const RunResult acc = run_arbiter("eval compare --json --metric accuracy --pred " + rm_a + " --pred " + rm_b);
  ASSERT_EQ(acc.exit_code, 0) << acc.out;
  const nlohmann::json j = json_of(acc);
  EXPECT_DOUBLE_EQ(j["systems"][0]["value"].get<double>(), 0.6);
  EXPECT_DOUBLE_EQ(j["systems"][1]["value"].get<double>(), 0.7);
  const nlohmann::json& m = j["differences"][0]["mcnemar"];
  EXPECT_EQ(m["only_baseline_right"], 2);
  EXPECT_EQ(m["only_system_right"], 3);
  // 2 * (C(5,0) + C(5,1) + C(5,2)) / 2^5 = 1.
  EXPECT_DOUBLE_EQ(m["p"].get<double>(), 1.0);

  // RewardBench v1: the rows are in two sections (Chat, Reasoning), each scored on its own and averaged.
  const RunResult rb = run_arbiter("eval compare --json --metric rewardbench --pred " + rm_a + " --pred " + rm_b);
  ASSERT_EQ(rb.exit_code, 0) << rb.out;
  // A is right on alpacaeval-easy rows 1, 3, 5 of 1, 3, 5, 7, 9 (0.6) and math-prm rows 0, 2, 4 of 0..8 (0.6).
  EXPECT_DOUBLE_EQ(json_of(rb)["systems"][0]["value"].get<double>(), 0.6);
  // B: alpacaeval-easy right on 1, 3, 7 (0.6), math-prm on 0, 2, 6, 8 (0.8).
  EXPECT_DOUBLE_EQ(json_of(rb)["systems"][1]["value"].get<double>(), 0.7);

  // --ties half, as eval rewardbench --ties half: B's tie on row 9 (alpacaeval-easy) is worth half. McNemar's
  // test, on verdicts a tie is neither of, is left out.
  const RunResult acc_half = run_arbiter("eval compare --json --metric accuracy --ties half --pred " + rm_a + " --pred " + rm_b);
  ASSERT_EQ(acc_half.exit_code, 0) << acc_half.out;
  EXPECT_DOUBLE_EQ(json_of(acc_half)["systems"][1]["value"].get<double>(), 0.75);
  EXPECT_FALSE(json_of(acc_half)["differences"][0].contains("mcnemar")) << acc_half.out;
  const RunResult rb_half = run_arbiter("eval compare --json --metric rewardbench --ties half --pred " + rm_a + " --pred " + rm_b);
  ASSERT_EQ(rb_half.exit_code, 0) << rb_half.out;
  EXPECT_DOUBLE_EQ(json_of(rb_half)["systems"][1]["value"].get<double>(), 0.75);  // (0.7 + 0.8) / 2
  EXPECT_DOUBLE_EQ(json_of(rb_half)["systems"][0]["value"].get<double>(), 0.6);   // A has no ties

  // Rows of a subset the leaderboard does not weigh are left out, as eval rewardbench leaves them out: the
  // figures are those of the ten rows.
  std::string extra_a = a, extra_b = b;
  for (int i = 10; i < 13; ++i) {
    const std::string line = "{\"id\": " + std::to_string(i) + ", \"subset\": \"my-own\", \"score_chosen\": 0, "
                             "\"score_rejected\": 1}\n";
    extra_a += line;
    extra_b += line;
  }
  const RunResult extra = run_arbiter("eval compare --json --metric rewardbench --pred " + scratch_file("rm-a-extra.jsonl", extra_a) +
                                      " --pred " + scratch_file("rm-b-extra.jsonl", extra_b));
  ASSERT_EQ(extra.exit_code, 0) << extra.out;
  EXPECT_NE(extra.out.find("left out 3 rows of subsets RewardBench v1 does not weigh"), std::string::npos) << extra.out;
  EXPECT_EQ(json_of(extra)["rows"], 10);
  EXPECT_DOUBLE_EQ(json_of(extra)["systems"][0]["value"].get<double>(), 0.6);
  EXPECT_DOUBLE_EQ(json_of(extra)["systems"][1]["value"].get<double>(), 0.7);

  // A row in another subset in one of the files: not the same RewardBench rows.
  std::string moved = b;
  moved.replace(moved.find("\"alpacaeval-easy\""), std::string("\"alpacaeval-easy\"").size(), "\"hep-go\"");
  const RunResult mismatch = run_arbiter("eval compare --metric rewardbench --pred " + rm_a + " --pred " +
                                         scratch_file("rm-b-moved.jsonl", moved));
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_NE(mismatch.out.find("rm-b-moved.jsonl: row '9' is in subset 'hep-go', in "), std::string::npos) << mismatch.out;
  EXPECT_NE(mismatch.out.find("not of the same RewardBench rows"), std::string::npos) << mismatch.out;
}

// RewardBench 2 rows (best-of-N), worked out by hand. A is right on m1 and f1, wrong on m2; B is right on m2,
// wrong on m1, and ties f1's best incorrect completion at the top (1/2). Ties prompt 1: both rank its tied
// group right; B ranks an incorrect answer of the ref group first. B's file lists the rows in another order.
TEST_F(CliCompare, TwoRewardModelsOnRewardBench2) {
  const std::string a = scratch_file("rb2-a.jsonl",
      R"({"id": "m1", "subset": "Math", "scores": [3, 1, 2, 0]})" "\n"
      R"({"id": "m2", "subset": "Math", "scores": [1, 2, 0, 0]})" "\n"
      R"({"id": "f1", "subset": "Focus", "scores": [2, 1, 1, 1]})" "\n"
      R"({"id": "ref:1", "subset": "Ties", "scores": [5, 1, 2], "num_correct": 1})" "\n"
      R"({"id": "tied:1", "subset": "Ties", "scores": [5, 4, 1, 2], "num_correct": 2})" "\n");
  const std::string b_rows =
      R"({"id": "tied:1", "subset": "Ties", "scores": [5, 4, 1, 2], "num_correct": 2})" "\n"
      R"({"id": "f1", "subset": "Focus", "scores": [2, 2, 1, 1]})" "\n"
      R"({"id": "m2", "subset": "Math", "scores": [3, 1, 2, 0]})" "\n"
      R"({"id": "ref:1", "subset": "Ties", "scores": [1, 5, 2], "num_correct": 1})" "\n"
      R"({"id": "m1", "subset": "Math", "scores": [1, 2, 0, 0]})" "\n";
  const std::string b = scratch_file("rb2-b.jsonl", b_rows);
  const RunResult r = run_arbiter("eval compare --json --metric rewardbench2 --bootstrap 200 --pred " + a + " --pred " + b);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json j = json_of(r);
  EXPECT_EQ(j["rows"], 4) << r.out;  // m1, m2, f1 and Ties prompt 1
  // A: Math 1/2, Focus 1; Ties: ref and tied right, the tied gap (2) above its spread (1), and so the smaller
  // gap (min(3, 2)); margin tanh(2 / 1 - 1).
  const double ties_a = 0.3 + 0.3 + 0.2 + 0.2 + 0.01 * std::tanh(1.0);
  // B: Math 1/2, Focus 1/2; Ties: ref wrong (gap 1 - 5 = -4), tied right, preferred, not hard (min(-4, 2) < 1),
  // margin tanh(-4 / 1 - 1).
  const double ties_b = 0.3 + 0.0 + 0.2 + 0.0 + 0.01 * std::tanh(-5.0);
  const double value_a = (0.5 + 1.0 + ties_a) / 3, value_b = (0.5 + 0.5 + ties_b) / 3;
  EXPECT_NEAR(j["systems"][0]["value"].get<double>(), value_a, 1e-12);
  EXPECT_NEAR(j["systems"][1]["value"].get<double>(), value_b, 1e-12);
  EXPECT_NEAR(j["differences"][0]["difference"].get<double>(), value_b - value_a, 1e-12);
  EXPECT_FALSE(j["differences"][0].contains("mcnemar"));

  // A row in another subset, or with another number of completions, in one file: not the same rows.
  std::string moved = b_rows;
  moved.replace(moved.find("\"Focus\""), 7, "\"Safety\"");
  const RunResult mismatch = run_arbiter("eval compare --metric rewardbench2 --pred " + a + " --pred " +
                                         scratch_file("rb2-moved.jsonl", moved));
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_NE(mismatch.out.find("rb2-moved.jsonl: row 'f1' (subset 'Safety', 4 completions, 1 correct) is not as in "),
            std::string::npos) << mismatch.out;
  // A Ties prompt's rows without a prompt id: the file is named with the row.
  const std::string bad_ties = scratch_file("rb2-bad-ties.jsonl",
      R"({"id": "m1", "subset": "Math", "scores": [3, 1]})" "\n" R"({"id": "t", "subset": "Ties", "scores": [3, 1]})" "\n");
  const RunResult ties_error = run_arbiter("eval compare --metric rewardbench2 --pred " + a + " --pred " + bad_ties);
  EXPECT_EQ(ties_error.exit_code, 1);
  EXPECT_NE(ties_error.out.find("rb2-bad-ties.jsonl: Ties row 0: id 't' is not 'ref:N' or 'tied:N'"), std::string::npos)
      << ties_error.out;
  const RunResult misplaced = run_arbiter("eval compare --metric rewardbench --scores-field s --pred " + a + " --pred " + b);
  EXPECT_NE(misplaced.out.find("--scores-field is for --metric rewardbench2"), std::string::npos) << misplaced.out;
}

// A judge's scores of graded preference pairs (HelpSteer3-style), field against field: accuracy as eval
// preference gives it, even pairs left out, McNemar's counts by hand.
TEST_F(CliCompare, GradedPreferencePairs) {
  const std::string pairs = scratch_file(
      "graded.jsonl",
      // p0 prefers response 1: vanilla right, lager right. p1 prefers 2: vanilla wrong, lager right.
      // p2 even: left out. p3 prefers 1: vanilla right, lager wrong (a tie is wrong). p4 prefers 2: both right.
      R"({"id": "p0", "responses": [{"vanilla": 2, "lager": 1.5}, {"vanilla": 1, "lager": 1.0}], "human_preference_strength": -2})" "\n"
      R"({"id": "p1", "responses": [{"vanilla": 3, "lager": 0.2}, {"vanilla": 1, "lager": 0.9}], "human_preference_strength": 1})" "\n"
      R"({"id": "p2", "responses": [{"vanilla": 3, "lager": 0.2}, {"vanilla": 1, "lager": 0.9}], "human_preference_strength": 0})" "\n"
      R"({"id": "p3", "responses": [{"vanilla": 4, "lager": 0.5}, {"vanilla": 1, "lager": 0.5}], "human_preference_strength": -3})" "\n"
      R"({"id": "p4", "responses": [{"vanilla": 1, "lager": 0.1}, {"vanilla": 2, "lager": 0.7}], "human_preference_strength": 2})" "\n");
  const RunResult r = run_arbiter("eval compare --json --bootstrap 100 --metric preference --pred " + pairs +
                                  " --fields vanilla,lager");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json j = json_of(r);
  EXPECT_EQ(j["rows"], 4);
  EXPECT_DOUBLE_EQ(j["systems"][0]["value"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(j["systems"][1]["value"].get<double>(), 0.75);
  EXPECT_EQ(j["differences"][0]["mcnemar"]["only_baseline_right"], 1);  // p3
  EXPECT_EQ(j["differences"][0]["mcnemar"]["only_system_right"], 1);    // p1
  EXPECT_DOUBLE_EQ(j["differences"][0]["mcnemar"]["p"].get<double>(), 1.0);
  EXPECT_NE(r.out.find("only 4 rows: the bootstrap intervals and p-values are rough at this size (McNemar's test is exact)"),
            std::string::npos)
      << r.out;
  // The same accuracy as eval preference reports for each field.
  for (const char* field : {"vanilla", "lager"}) {
    const RunResult one = run_arbiter("eval preference --json --input " + pairs + " --score-field " + field);
    ASSERT_EQ(one.exit_code, 0) << one.out;
    EXPECT_DOUBLE_EQ(json_of(one)["accuracy"].get<double>(), 0.75) << one.out;
  }
}

// Two reward models' RM-Bench runs (three styles, two domains), worked out by hand. A and B score rows
// r0-r2 alike; on r3 (math) A ranks the chosen response in a plain style below fancier rejected ones and B
// gets every pair right. B's file lists the rows in reverse order: they are paired by id.
TEST_F(CliCompare, TwoRewardModelsOnRmBench) {
  auto row = [](const std::string& id, const std::string& domain, const std::string& scores) {
    return "{\"id\": \"" + id + "\", \"domain\": \"" + domain + "\", \"num_chosen\": 3, \"scores\": [" + scores + "]}\n";
  };
  const std::string r0 = row("r0", "chat", "3, 3, 3, 1, 1, 1"), r1 = row("r1", "chat", "1, 1, 1, 2, 2, 2"),
                    r2 = row("r2", "math", "1, 2, 3, 0, 0, 0");
  const std::string rm_a = scratch_file("rmbench-a.jsonl", r0 + r1 + r2 + row("r3", "math", "1, 2, 3, 1.5, 2.5, 3.5"));
  const std::string rm_b = scratch_file("rmbench-b.jsonl", row("r3", "math", "4, 4, 4, 1.5, 2.5, 3.5") + r2 + r1 + r0);
  // chat: r0 all right, r1 all wrong: every entry 0.5. math under A: r2 all right; r3's chosen style i beats
  // rejected style j for (1, 0), (2, 0), (2, 1) only, so M = [[.5 .5 .5] [1 .5 .5] [1 1 .5]]: hard 0.5, normal 0.5,
  // easy 1, average 6/9. Under B math is all right. The figures are means over the two domains.
  const struct {
    const char* metric;
    double a, b;
  } figures[] = {{"rmbench-hard", 0.5, 0.75}, {"rmbench-normal", 0.5, 0.75}, {"rmbench-easy", 0.75, 0.75},
                 {"rmbench", (0.5 + 6.0 / 9) / 2, 0.75}};
  for (const auto& f : figures) {
    const RunResult r = run_arbiter(std::string("eval compare --json --bootstrap 200 --metric ") + f.metric + " --pred " +
                                    rm_a + " --pred " + rm_b);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const nlohmann::json j = json_of(r);
    EXPECT_EQ(j["rows"], 4) << f.metric;
    EXPECT_NEAR(j["systems"][0]["value"].get<double>(), f.a, 1e-12) << f.metric;
    EXPECT_NEAR(j["systems"][1]["value"].get<double>(), f.b, 1e-12) << f.metric;
    EXPECT_NEAR(j["differences"][0]["difference"].get<double>(), f.b - f.a, 1e-12) << f.metric;
    EXPECT_FALSE(j["differences"][0].contains("mcnemar")) << "a row is nine comparisons, not one verdict";
  }
  // eval rmbench reads the same figures off each file alone (in percent, as RM-Bench reports them).
  const RunResult alone = run_arbiter("eval rmbench --json --input " + rm_a);
  ASSERT_EQ(alone.exit_code, 0) << alone.out;
  const nlohmann::json overall = json_of(alone)["overall"];
  EXPECT_NEAR(overall["hard"].get<double>(), 50.0, 1e-9) << alone.out;
  EXPECT_NEAR(overall["easy"].get<double>(), 75.0, 1e-9) << alone.out;
  EXPECT_NEAR(overall["average"].get<double>(), 100 * (0.5 + 6.0 / 9) / 2, 1e-9) << alone.out;

  // Files of other rows are refused, not compared.
  const std::string other = scratch_file("rmbench-other.jsonl", r0 + r1 + r2 + row("r3", "chat", "1, 2, 3, 1.5, 2.5, 3.5"));
  const RunResult refused = run_arbiter("eval compare --metric rmbench --pred " + rm_a + " --pred " + other);
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE(refused.out.find("row 'r3' has another domain or number of styles"), std::string::npos) << refused.out;

  // A row without a domain among rows with one would be a domain of its own, weighing as much as chat.
  const std::string unnamed = scratch_file("rmbench-unnamed.jsonl", r0 + r1 + r2 + "{\"id\": \"r3\", \"num_chosen\": 3, "
                                           "\"scores\": [1, 2, 3, 1.5, 2.5, 3.5]}\n");
  const RunResult mixed = run_arbiter("eval rmbench --input " + unnamed);
  EXPECT_NE(mixed.exit_code, 0) << mixed.out;
  EXPECT_NE(mixed.out.find("row 4 has no domain, where 3 rows name one"), std::string::npos) << mixed.out;
  // A pairwise judge's options are taken with rmbench, and refused with other metrics.
  const RunResult credit = run_arbiter("eval compare --json --bootstrap 20 --metric rmbench --comparison-score expected --pred " +
                                       rm_a + " --pred " + rm_b);
  EXPECT_EQ(credit.exit_code, 0) << credit.out;
  const RunResult misplaced = run_arbiter("eval compare --metric accuracy --no-comparisons --pred " + rm_a + " --pred " + rm_b);
  EXPECT_NE(misplaced.exit_code, 0);
  EXPECT_NE(misplaced.out.find("--comparison-score and --no-comparisons are for --metric rmbench"), std::string::npos)
      << misplaced.out;
}

// Two process reward models on ProcessBench rows of two subsets, worked out by hand at threshold 0.5. The
// statistic is ProcessBench's average, the mean of the subsets' F1, which pooling the rows would not give.
TEST_F(CliCompare, TwoProcessRewardModelsOnProcessBench) {
  auto row = [](const std::string& id, const std::string& subset, int label, const std::string& rewards) {
    return "{\"id\": \"" + id + "\", \"subset\": \"" + subset + "\", \"human_first_error_step\": " +
           std::to_string(label) + ", \"step_rewards\": [" + rewards + "]}\n";
  };
  // A: g1 right (none flagged), g2 right (step 1 found), g3 wrong (its wrong step 0 not flagged);
  //    m1 wrong (a right solution flagged), m2 right (step 0 found), m3 and m4 right.
  // B differs on g3 and m1 only, and gets both right.
  const std::string shared = row("g1", "gsm8k", -1, "0.9, 0.8") + row("g2", "gsm8k", 1, "0.9, 0.2") +
                             row("m2", "math", 0, "0.1, 0.9") + row("m3", "math", -1, "0.7") + row("m4", "math", -1, "0.8");
  const std::string prm_a =
      scratch_file("pb-a.jsonl", shared + row("g3", "gsm8k", 0, "0.9, 0.9") + row("m1", "math", -1, "0.9, 0.3"));
  const std::string prm_b =
      scratch_file("pb-b.jsonl", row("m1", "math", -1, "0.9, 0.9") + row("g3", "gsm8k", 0, "0.2, 0.9") + shared);
  // A: gsm8k found 1/2, clean 1/1: F1 2/3; math found 1/1, clean 2/3: F1 4/5; mean 11/15 (pooled would be 12/17).
  const RunResult r = run_arbiter("eval compare --json --bootstrap 200 --metric processbench --pred " + prm_a +
                                  " --pred " + prm_b);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json j = json_of(r);
  EXPECT_EQ(j["rows"], 7);
  EXPECT_NEAR(j["systems"][0]["value"].get<double>(), 11.0 / 15, 1e-12);
  EXPECT_NEAR(j["systems"][1]["value"].get<double>(), 1.0, 1e-12);
  const nlohmann::json& m = j["differences"][0]["mcnemar"];
  EXPECT_EQ(m["only_baseline_right"], 0);
  EXPECT_EQ(m["only_system_right"], 2);
  EXPECT_DOUBLE_EQ(m["p"].get<double>(), 0.5);  // 2 * (1/2)^2
  // eval processbench gives A's average alone.
  const RunResult alone = run_arbiter("eval processbench --json --input " + prm_a);
  ASSERT_EQ(alone.exit_code, 0) << alone.out;
  EXPECT_NEAR(json_of(alone)["mean_subset_f1"].get<double>(), 11.0 / 15, 1e-12) << alone.out;
  EXPECT_NEAR(json_of(alone)["f1"].get<double>(), 12.0 / 17, 1e-12) << alone.out;

  // At a threshold of 0.85, A flags g1's second step and m4's only one: other verdicts, named in the statistic.
  const RunResult higher = run_arbiter("eval compare --json --bootstrap 50 --metric processbench --threshold 0.85 --pred " +
                                       prm_a + " --pred " + prm_b);
  ASSERT_EQ(higher.exit_code, 0) << higher.out;
  EXPECT_NE(json_of(higher)["statistic"].get<std::string>().find("threshold 0.85"), std::string::npos);
  const RunResult misplaced = run_arbiter("eval compare --metric accuracy --threshold 0.3 --pred " + prm_a + " --pred " + prm_b);
  EXPECT_NE(misplaced.exit_code, 0);
  EXPECT_NE(misplaced.out.find("--threshold and --label-field are for --metric processbench"), std::string::npos) << misplaced.out;
}

// Files without ids are paired by position among their rows, error lines counted: an error line leaves
// its own row out of the comparison and shifts no other row off its partner.
TEST_F(CliCompare, AnErrorLineInAFileWithoutIdsLeavesOnlyItsRowOut) {
  auto row = [](double chosen) { return "{\"score_chosen\": " + std::to_string(chosen) + ", \"score_rejected\": 0.5}\n"; };
  // A right on rows 0, 2, 4; B right on 0, 1, 3, and row 2 is an error line.
  const std::string a = scratch_file("pos-a.jsonl", row(1) + row(0) + row(1) + row(0) + row(1));
  const std::string b = scratch_file("pos-b.jsonl", row(1) + row(1) + "{\"error\": \"out of memory\"}\n" + row(1) + row(0));
  const RunResult r = run_arbiter("eval compare --json --bootstrap 100 --metric accuracy --pred " + a + " --pred " + b);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json j = json_of(r);
  EXPECT_EQ(j["rows"], 4);
  EXPECT_EQ(j["paired_by"], "position");
  EXPECT_DOUBLE_EQ(j["systems"][0]["value"].get<double>(), 0.5);   // rows 0 and 4 of 0, 1, 3, 4
  EXPECT_DOUBLE_EQ(j["systems"][1]["value"].get<double>(), 0.75);  // rows 0, 1, 3
  EXPECT_EQ(j["differences"][0]["mcnemar"]["only_baseline_right"], 1);  // row 4
  EXPECT_EQ(j["differences"][0]["mcnemar"]["only_system_right"], 2);    // rows 1 and 3
  EXPECT_NE(r.out.find("left out 1 rows of " + a + "; 1 error lines of " + b), std::string::npos) << r.out;
  // A file whose rows have ids after rows without is refused, not paired half by position.
  const std::string mixed = scratch_file("pos-mixed.jsonl", row(1) + "{\"id\": \"x\", \"score_chosen\": 1, \"score_rejected\": 0}\n");
  const RunResult refused = run_arbiter("eval compare --metric accuracy --pred " + a + " --pred " + mixed);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.out.find("row 2 has 'id', where the rows before it have none"), std::string::npos) << refused.out;
}

TEST_F(CliCompare, MistakesAreNamed) {
  const std::string judged = scratch_file("judged-errors.jsonl",
                                          "{\"id\": \"a\", \"human\": 1, \"vanilla\": 2}\n"
                                          "{\"id\": \"a\", \"human\": 2, \"vanilla\": 1}\n");
  const std::string judged_once = scratch_file("judged-once.jsonl", "{\"id\": \"a\", \"human\": 1, \"vanilla\": 2}\n");
  const struct {
    std::string args, message;
  } cases[] = {
      {"--pred " + judged + " --fields vanilla --human-field human", "one system to compare"},
      {"--pred " + judged + " --pred " + judged + " --human-field human --fields vanilla", "judged-errors.jsonl:2: id 'a' appears twice (first at "},
      {"--pred " + judged + " --fields vanilla,lager", "give --human-field"},
      {"--pred " + judged + " --fields vanilla,lager --human-field human --metric accuracy", "--human and --human-field are for correlations"},
      {"--pred " + judged + " --pred " + judged + " --metric accuracy --fields vanilla", "--fields: accuracy and rewardbench"},
      {"--pred " + judged_once + " --fields vanilla,lager --human-field human", "missing field 'lager'"},
      {"--pred " + judged_once + " --fields vanilla,lager --human-field human --ties half", "--ties is for --metric accuracy and rewardbench"},
      // The paper's weighted scores lack 5 items somewhere in the list, not at its end: paired by position,
      // every item after the first gap would meet another item's human score.
      {"--pred " + kFlask + "direct_score.json --pred " + kFlask + "weighted_score.json --human " + kFlask + "human_score.json",
       "direct_score.json has 1997 rows and " + kFlask + "weighted_score.json 1992, and neither has ids"},
      // An id field asked for by name that the rows lack is a misspelling, not rows without ids.
      {"--pred " + judged + " --fields vanilla,human --human-field human --id-field nope", "its rows have no 'nope' (--id-field)"},
  };
  for (const auto& c : cases) {
    const RunResult r = run_arbiter("eval compare --bootstrap 20 " + c.args);
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_NE(r.exit_code, 0) << c.args;
  }
}

// Files of objects without ids pair by position too: one with a row left out is refused, not paired off
// by one from the gap on.
TEST_F(CliCompare, RowsWithoutIdsOfDifferentCountsAreRefused) {
  std::string whole, gap;
  for (int i = 0; i < 40; ++i) {
    const std::string line = "{\"score\": " + std::to_string(i % 7) + ", \"human\": " + std::to_string(i % 5) + "}\n";
    whole += line;
    if (i != 3) gap += line;
  }
  const std::string a = scratch_file("no-ids-whole.jsonl", whole), b = scratch_file("no-ids-gap.jsonl", gap);
  const RunResult r = run_arbiter("eval compare --bootstrap 20 --pred " + a + " --pred " + b + " --human-field human");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("no-ids-whole.jsonl field 'score' has 40 rows and " + b + " field 'score' 39"), std::string::npos) << r.out;
  const RunResult same = run_arbiter("eval compare --bootstrap 20 --pred " + a + " --pred " + a + " --human-field human");
  ASSERT_EQ(same.exit_code, 0) << same.out;
  EXPECT_NE(same.out.find("40 rows paired by position"), std::string::npos) << same.out;
}

// What the table says of itself: the level as given (99.9%, not rounded to 100%), a warning when the
// resamples are too few for the interval's tails, and why a system has no value (its scores are constant).
TEST_F(CliCompare, TheTableExplainsItsNumbers) {
  std::string text;
  for (int i = 0; i < 40; ++i)
    text += "{\"id\": " + std::to_string(i) + ", \"human\": " + std::to_string(i % 5) + ", \"a\": " + std::to_string(i % 7) +
            ", \"flat\": 3}\n";
  const std::string file = scratch_file("explained.jsonl", text);
  const RunResult level = run_arbiter("eval compare --pred " + file + " --fields a,flat --human-field human --level 0.999");
  ASSERT_EQ(level.exit_code, 0) << level.out;
  EXPECT_NE(level.out.find("99.9% interval"), std::string::npos) << level.out;
  EXPECT_EQ(level.out.find("100% interval"), std::string::npos) << level.out;
  EXPECT_NE(level.out.find("flat: spearman with human is undefined on these rows (its scores are all equal)"), std::string::npos)
      << level.out;
  // 1000 resamples leave 0.5 in each tail of a 99.9% interval.
  EXPECT_NE(level.out.find("1000 bootstrap resamples leave less than one resample in each tail of a 99.9% interval, so its "
                           "ends are mostly chance: use --bootstrap 10000 or more"), std::string::npos) << level.out;
  const RunResult few = run_arbiter("eval compare --pred " + file + " --fields a,flat --human-field human --bootstrap 20");
  ASSERT_EQ(few.exit_code, 0) << few.out;
  EXPECT_NE(few.out.find("20 bootstrap resamples leave less than one resample in each tail of a 95% interval"),
            std::string::npos) << few.out;
}

// A file known by position (bare numbers) never pairs with one whose ids are its own: the labels'
// item numbers from 1 would pair every prediction with its neighbour's label.
TEST_F(CliCompare, PositionsAndOwnIdsAreNotPaired) {
  std::string a = "[", b = "[", labels;
  for (int i = 0; i < 30; ++i) {
    a += std::string(i ? ", " : "") + std::to_string(i % 5);
    b += std::string(i ? ", " : "") + std::to_string((i * 7) % 11);
    labels += "{\"id\": " + std::to_string(i + 1) + ", \"h\": " + std::to_string(i % 5) + "}\n";
  }
  const std::string pa = scratch_file("pos-a.json", a + "]"), pb = scratch_file("pos-b.json", b + "]");
  const std::string human = scratch_file("numbered.jsonl", labels);
  const RunResult r = run_arbiter("eval compare --bootstrap 20 --pred " + pa + " --pred " + pb + " --human " + human +
                                  " --human-field h");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("has no ids (its rows are known by position) and " + human + " field 'h' has ids of its own"),
            std::string::npos) << r.out;
}

// A scoring run's lines of dataset rows without ids carry the rows' indices as ids (and a row_digest):
// by position they pair with a label file that numbers its items otherwise, in the same order.
TEST_F(CliCompare, CorrelateByPositionTakesIndexIdsAsPositions) {
  const std::string pred = scratch_file("indexed.jsonl", "{\"id\": \"0\", \"row_digest\": \"x\", \"s\": 1}\n"
                                                          "{\"id\": \"1\", \"row_digest\": \"y\", \"s\": 2}\n"
                                                          "{\"id\": \"2\", \"row_digest\": \"z\", \"s\": 3}\n");
  const std::string human = scratch_file("from-one.jsonl", "{\"id\": 1, \"h\": 1}\n{\"id\": 2, \"h\": 2}\n{\"id\": 3, \"h\": 3}\n");
  const RunResult r = run_arbiter("eval correlate --bootstrap 0 --json --pred " + pred + " --pred-field s --human " + human +
                                  " --human-field h");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(json_of(r)["n"], 3);
  EXPECT_DOUBLE_EQ(json_of(r)["spearman"]["value"].get<double>(), 1.0);
}

// eval correlate pairs by position by default: two files whose rows carry ids in different orders would
// pair different rows, and are refused with the way out.
TEST_F(CliCompare, CorrelateByPositionRefusesFilesInDifferentOrders) {
  const std::string pred = scratch_file("ordered.jsonl", "{\"id\": \"a\", \"s\": 1}\n{\"id\": \"b\", \"s\": 2}\n{\"id\": \"c\", \"s\": 3}\n");
  const std::string human = scratch_file("shuffled.jsonl", "{\"id\": \"a\", \"h\": 1}\n{\"id\": \"c\", \"h\": 3}\n{\"id\": \"b\", \"h\": 2}\n");
  const RunResult r = run_arbiter("eval correlate --bootstrap 0 --pred " + pred + " --pred-field s --human " + human + " --human-field h");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("ordered.jsonl:2 is row 'b' and " + human + ":2 row 'c'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--join id"), std::string::npos) << r.out;
  const RunResult by_id = run_arbiter("eval correlate --bootstrap 0 --json --join id --pred " + pred + " --pred-field s --human " +
                                      human + " --human-field h");
  ASSERT_EQ(by_id.exit_code, 0) << by_id.out;
  EXPECT_DOUBLE_EQ(json_of(by_id)["spearman"]["value"].get<double>(), 1.0);
}

}  // namespace
