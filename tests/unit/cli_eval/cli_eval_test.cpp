// End-to-end: the arbiter binary's eval subcommands on the reference Flask scores and small files.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
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

std::string temp_file(const std::string& name, const std::string& text) {
  const auto dir = arbiter::test::scratch_root() / ("arbiter_cli_eval_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

class CliEval : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(ARBITER_BINARY)) GTEST_SKIP() << "arbiter binary not built: " << ARBITER_BINARY;
  }
};

// A shard of a judge run over rows without ids holds rows K, K+N, ...: pairing it with the dataset by
// position would pair other rows, so that is refused; by id, a dataset without ids is known by row index.
TEST_F(CliEval, AShardOfRowsWithoutIdsPairsByIndex) {
  std::string rows_text;
  for (int i = 0; i < 9; ++i)
    rows_text += nlohmann::json{{"prompt", "Rate the number " + std::to_string(i) + "."},
                                {"response", std::string(size_t(1 + (i * 5) % 7), 'z')},
                                {"helpfulness", (i * 3) % 5}}.dump() + "\n";
  const std::string data = temp_file("unnamed_rated.jsonl", rows_text);
  const std::string shard = temp_file("unnamed_rated.shard1.jsonl", "");
  const RunResult judged = run_arbiter("judge -q -m " + arbiter::testing::kShared + "/models/stories260K/stories260K.gguf -i " +
                                       data + " -o " + shard + " --shard 1/3 --schema generic --field labels=helpfulness");
  ASSERT_EQ(judged.exit_code, 0) << judged.out;
  const std::string common = "eval correlate --json --bootstrap 0 --pred " + shard + " --pred-field expected --human " + data +
                             " --human-field helpfulness";
  const RunResult by_position = run_arbiter(common);
  EXPECT_NE(by_position.exit_code, 0);
  EXPECT_NE(by_position.out.find("shard1.jsonl:1 holds dataset row 1 (a --shard or --limit run's line), where pairing by position needs row 0: "
                                     "pair the files with --join id"),
            std::string::npos)
      << by_position.out;
  const RunResult by_id = run_arbiter(common + " --join id");
  ASSERT_EQ(by_id.exit_code, 0) << by_id.out;
  const auto j = nlohmann::json::parse(by_id.out.substr(by_id.out.find('{')));
  EXPECT_EQ(j["n"], 3);
  // The same as the three pairs written out by hand: rows 1, 4 and 7 with their lines.
  std::string pred = "[", human = "[";
  std::ifstream lines(shard);
  std::string line;
  for (int k = 0; std::getline(lines, line); ++k) {
    pred += (k ? ", " : "") + nlohmann::json::parse(line)["expected"].dump();
    human += (k ? ", " : "") + std::to_string(((1 + 3 * k) * 3) % 5);
  }
  const RunResult by_hand = run_arbiter("eval correlate --json --bootstrap 0 --pred " + temp_file("pred3.json", pred + "]") +
                                        " --human " + temp_file("human3.json", human + "]"));
  ASSERT_EQ(by_hand.exit_code, 0) << by_hand.out;
  const auto expected = nlohmann::json::parse(by_hand.out.substr(by_hand.out.find('{')));
  EXPECT_EQ(j["spearman"]["value"], expected["spearman"]["value"]);
  EXPECT_EQ(j["pearson"]["value"], expected["pearson"]["value"]);
}

// The LAGER paper's Table 1 row for Mistral-7B-Instruct-v0.3 on Flask: 0.266, 0.239, 0.347.
TEST_F(CliEval, CorrelateReproducesLagerTable1) {
  const std::pair<const char*, const char*> rows[] = {
      {"direct_score.json", "0.266"}, {"e_score.json", "0.239"}, {"palmscore_w.json", "0.347"}};
  for (const auto& [file, expected] : rows) {
    const RunResult r = run_arbiter("eval correlate --pred " + kFlask + file + " --human " + kFlask +
                                    "human_score.json --bootstrap 100 --seed 1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("n                  1997"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(std::string("spearman           ") + expected + "  ["), std::string::npos) << r.out;
  }
}

TEST_F(CliEval, CorrelateJsonIsDeterministicForASeed) {
  const std::string args = "eval correlate --json --bootstrap 200 --seed 9 --pred " + kFlask +
                           "palmscore_w.json --human " + kFlask + "human_score.json";
  const RunResult a = run_arbiter(args), b = run_arbiter(args);
  ASSERT_EQ(a.exit_code, 0) << a.out;
  EXPECT_EQ(a.out, b.out);
  const auto j = nlohmann::json::parse(a.out);
  EXPECT_EQ(j["n"], 1997);
  const double rho = j["spearman"]["value"];
  EXPECT_NEAR(rho, 0.347, 0.0005);
  EXPECT_LT(j["spearman"]["ci95"][0].get<double>(), rho);
  EXPECT_GT(j["spearman"]["ci95"][1].get<double>(), rho);
  EXPECT_EQ(j["spearman"]["resamples_used"], 200);
  // On four rows many resamples are constant (no correlation) and are left out: the table says from how many
  // the interval comes, and --json gives the count.
  const std::string pred = temp_file("four-pred.json", "[1, 2, 2, 3]"), human = temp_file("four-human.json", "[1, 1, 2, 2]");
  const RunResult few = run_arbiter("eval correlate --bootstrap 1000 --pred " + pred + " --human " + human);
  ASSERT_EQ(few.exit_code, 0) << few.out;
  EXPECT_NE(few.out.find("resamples: the others were constant)"), std::string::npos) << few.out;
  const RunResult few_json = run_arbiter("eval correlate --json --bootstrap 1000 --pred " + pred + " --human " + human);
  ASSERT_EQ(few_json.exit_code, 0) << few_json.out;
  const int used = nlohmann::json::parse(few_json.out)["spearman"]["resamples_used"];
  EXPECT_GT(used, 0);
  EXPECT_LT(used, 1000);
}

TEST_F(CliEval, CorrelateFieldsFromJsonlAndErrors) {
  const std::string pred = temp_file("pred.jsonl", "{\"s\": 1}\n{\"s\": 2}\n{\"s\": 3}\n");
  const std::string human = temp_file("human.json", R"([{"h": 1}, {"h": 3}, {"h": 2}])");
  const RunResult r = run_arbiter("eval correlate --json --bootstrap 0 --pred " + pred + " --pred-field s --human " +
                                  human + " --human-field h");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // Ranks (1,2,3) vs (1,3,2): rho = 1 - 6 * 2 / (3 * 8) = 0.5.
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(r.out)["spearman"]["value"].get<double>(), 0.5);
  // A multi-output reward model's line holds its outputs under `attributes`: a dotted name reads one, by
  // position and joined by id, as in eval compare.
  const std::string nested = temp_file("pred-nested.jsonl",
                                       "{\"id\": \"x\", \"attributes\": {\"helpfulness\": 1, \"verbosity\": 3}}\n"
                                       "{\"id\": \"y\", \"attributes\": {\"helpfulness\": 2, \"verbosity\": 2}}\n"
                                       "{\"id\": \"z\", \"attributes\": {\"helpfulness\": 3, \"verbosity\": 1}}\n");
  const RunResult dotted = run_arbiter("eval correlate --json --bootstrap 0 --pred " + nested +
                                       " --pred-field attributes.helpfulness --human " + human + " --human-field h");
  ASSERT_EQ(dotted.exit_code, 0) << dotted.out;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(dotted.out)["spearman"]["value"].get<double>(), 0.5);
  const RunResult compared = run_arbiter("eval compare --json --pred " + nested +
                                         " --fields attributes.helpfulness,attributes.verbosity --human " + nested +
                                         " --human-field attributes.helpfulness");
  ASSERT_EQ(compared.exit_code, 0) << compared.out;
  EXPECT_NE(compared.out.find("attributes.verbosity"), std::string::npos) << compared.out;
  const RunResult mismatch = run_arbiter("eval correlate --pred " + kFlask + "weighted_score.json --human " + kFlask +
                                         "human_score.json");
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_NE(mismatch.out.find("length mismatch: 1992 predictions vs 1997 labels"), std::string::npos) << mismatch.out;
}

// Files of different rows and orders, with a scoring run's error line: --join id pairs what both have,
// leaves out the rest and says how much; by position, the rows in another order are refused with that
// advice, and so is the error line of files in the same order.
TEST_F(CliEval, CorrelateJoinsById) {
  const std::string pred = temp_file("pred-ids.jsonl",
                                     "{\"id\": \"c\", \"s\": 3}\n{\"id\": 7, \"error\": \"too long\"}\n"
                                     "{\"id\": \"a\", \"s\": 1}\n{\"id\": \"b\", \"s\": 2}\n{\"id\": \"z\", \"s\": 9}\n");
  const std::string human = temp_file("human-ids.json",
                                      R"([{"id": "a", "h": 1}, {"id": "b", "h": 3}, {"id": 7, "h": 4}, {"id": "c", "h": 2}])");
  const RunResult r = run_arbiter("eval correlate --json --bootstrap 0 --join id --pred " + pred +
                                  " --pred-field s --human " + human + " --human-field h");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  EXPECT_EQ(j["n"], 3);
  // Pairs (c: 3, 2), (a: 1, 1), (b: 2, 3): ranks (3,1,2) vs (2,1,3), rho = 1 - 6 * (1 + 0 + 1) / 24 = 0.5.
  EXPECT_DOUBLE_EQ(j["spearman"]["value"].get<double>(), 0.5);
  EXPECT_EQ(j["join"]["error_rows"], 1);
  EXPECT_EQ(j["join"]["pred_only"], 1);   // z
  EXPECT_EQ(j["join"]["human_only"], 0);  // 7 has a label, and its prediction is the error line (counted there)
  EXPECT_NE(r.out.find("paired 3 rows"), std::string::npos) << r.out;

  const RunResult by_position = run_arbiter("eval correlate --pred " + pred + " --pred-field s --human " + human +
                                            " --human-field h");
  EXPECT_EQ(by_position.exit_code, 1);
  // Read side by side, the first row already pairs two ids (its error line comes later).
  EXPECT_NE(by_position.out.find("pred-ids.jsonl:1 is row 'c' and"), std::string::npos) << by_position.out;
  EXPECT_NE(by_position.out.find("--join id"), std::string::npos) << by_position.out;
  const std::string same_order = temp_file("human-same-order.jsonl",
                                           "{\"id\": \"c\", \"h\": 2}\n{\"id\": 7, \"h\": 4}\n{\"id\": \"a\", \"h\": 1}\n"
                                           "{\"id\": \"b\", \"h\": 3}\n{\"id\": \"z\", \"h\": 5}\n");
  const RunResult error_line = run_arbiter("eval correlate --pred " + pred + " --pred-field s --human " + same_order +
                                           " --human-field h");
  EXPECT_EQ(error_line.exit_code, 1);
  EXPECT_NE(error_line.out.find("pred-ids.jsonl:2: an error line"), std::string::npos) << error_line.out;
  EXPECT_NE(error_line.out.find("--join id"), std::string::npos) << error_line.out;

  const std::string twice = temp_file("twice.jsonl", "{\"id\": \"a\", \"h\": 1}\n{\"id\": \"a\", \"h\": 2}\n");
  const RunResult duplicate = run_arbiter("eval correlate --join id --pred " + pred + " --pred-field s --human " + twice +
                                          " --human-field h");
  EXPECT_EQ(duplicate.exit_code, 1);
  EXPECT_NE(duplicate.out.find("twice.jsonl:2: id 'a' appears twice (first at " + twice + ":1)"), std::string::npos)
      << duplicate.out;
}

TEST_F(CliEval, PreferenceAccuracyByStrength) {
  const std::string path = temp_file(
      "pairs.jsonl",
      R"({"id": "1", "responses": [{"score": 2}, {"score": 1}], "human_preference_strength": -2})" "\n"
      R"({"id": "2", "responses": [{"score": 2}, {"score": 1}], "human_preference_strength": 1})" "\n"
      R"({"id": "3", "responses": [{"score": 0}, {"score": 1}], "human_preference_strength": 0})" "\n"
      R"({"id": "4", "responses": [{"score": 0}, {"score": 1}], "human_preference_strength": 2})" "\n");
  const RunResult r = run_arbiter("eval preference --json --input " + path);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["pairs"], 3);
  EXPECT_EQ(j["ties_left_out"], 1);
  EXPECT_NEAR(j["accuracy"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(j["by_strength"]["2"]["correct"], 2);
  EXPECT_EQ(j["by_strength"]["1"]["correct"], 0);
}

TEST_F(CliEval, ProcessBenchFirstErrorF1) {
  // At 0.5: "a" finds its wrong step, "b" misses it, "c" is clean, "d" is flagged; an error line is left out.
  const std::string path = temp_file(
      "steps.jsonl",
      R"({"id": "a", "step_rewards": [0.9, 0.2], "human_first_error_step": 1})" "\n"
      R"({"id": "b", "step_rewards": [0.9, 0.8], "human_first_error_step": 0})" "\n"
      R"({"id": "c", "step_rewards": [0.7, 0.6], "human_first_error_step": -1})" "\n"
      R"({"id": "d", "step_rewards": [0.4, 0.9], "human_first_error_step": -1})" "\n"
      R"({"id": "e", "error": "too long"})" "\n");
  RunResult r = run_arbiter("eval processbench --json --input " + path);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  EXPECT_EQ(j["erroneous"], 2);
  EXPECT_EQ(j["correct"], 2);
  EXPECT_DOUBLE_EQ(j["erroneous_accuracy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["correct_accuracy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["f1"].get<double>(), 0.5);
  EXPECT_EQ(j["error_rows"], 1);
  // At 0.2 (a reward at the threshold is wrong, as ProcessBench's argmax takes a tie) "a" is still found and
  // "d" (0.4) is no longer flagged: 1/2 and 2/2, F1 2/3, the best on the grid ("b" needs a threshold at or
  // above 0.9, which flags both clean solutions).
  EXPECT_DOUBLE_EQ(j["best_threshold"].get<double>(), 0.2);
  EXPECT_NEAR(j["best_f1"].get<double>(), 2.0 / 3.0, 1e-12);

  // The report holds the same numbers and the whole threshold sweep.
  const std::string report_dir = std::filesystem::path(path).parent_path().string() + "/pb-report";
  r = run_arbiter("eval processbench --input " + path + " --report " + report_dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream report_in(report_dir + "/report.json");
  const auto report = nlohmann::json::parse(report_in);
  EXPECT_DOUBLE_EQ(report["f1"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(report["best_threshold"].get<double>(), 0.2);
  ASSERT_EQ(report["sweep"].size(), 99u);
  EXPECT_NEAR(report["sweep"][19]["f1"].get<double>(), 2.0 / 3.0, 1e-12);  // threshold 0.2
  EXPECT_TRUE(std::filesystem::exists(report_dir + "/threshold.svg"));
  EXPECT_TRUE(std::filesystem::exists(report_dir + "/report.html"));

  const std::string bad = temp_file("bad-steps.jsonl", R"({"step_rewards": [0.9, 0.2], "human_first_error_step": 2})" "\n");
  r = run_arbiter("eval processbench --input " + bad);
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("human_first_error_step"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bad-steps.jsonl:1:"), std::string::npos) << r.out;
}

TEST_F(CliEval, RewardBenchV1Sections) {
  // Chat: alpacaeval-easy 1/2 (weight 100), mt-bench-easy 1/1 (28). Reasoning: math-prm 0/1 (984), hep-js 1/1 (164).
  const std::string path = temp_file(
      "scored.jsonl",
      "{\"subset\": \"alpacaeval-easy\", \"score_chosen\": 1.0, \"score_rejected\": 0.5}\n"
      "{\"subset\": \"alpacaeval-easy\", \"score_chosen\": 0.5, \"score_rejected\": 0.5}\n"
      "{\"subset\": \"mt-bench-easy\", \"score_chosen\": 2, \"score_rejected\": 1}\n"
      "{\"subset\": \"math-prm\", \"score_chosen\": 0, \"score_rejected\": 1}\n"
      "{\"subset\": \"hep-js\", \"score_chosen\": 3, \"score_rejected\": -1}\n");
  const RunResult r = run_arbiter("eval rewardbench --json --input " + path);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  const double chat = 100.0 * (100 * 0.5 + 28) / 128, reasoning = 100.0 * 164 / (984 + 164);
  EXPECT_NEAR(j["sections"]["Chat"].get<double>(), chat, 1e-9);
  EXPECT_NEAR(j["sections"]["Reasoning"].get<double>(), reasoning, 1e-9);
  EXPECT_TRUE(j["sections"]["Safety"].is_null());
  EXPECT_FALSE(j["complete"].get<bool>());
  EXPECT_NEAR(j["overall"].get<double>(), (chat + reasoning) / 2, 1e-9);
}

// RM-Bench rows (three chosen and three rejected responses, by style) scored by a sequence classifier:
// the scores come with num_chosen and the domain, and eval rmbench's matrix is the one the scores make.
TEST_F(CliEval, RmBenchFromAScoringRun) {
  nlohmann::json rows = nlohmann::json::array();
  const char* domains[] = {"chat", "math", "safety-refuse", "safety-response", "chat"};
  for (int i = 0; i < 5; ++i) {
    const std::string n = std::to_string(i);
    rows.push_back({{"id", "q" + n},
                    {"prompt", "Question " + n + "?"},
                    {"chosen", {"Right " + n + ".", "The right answer to " + n + ", in detail.", "**Right** " + n + "."}},
                    {"rejected", {"Wrong " + n + ".", "A wrong answer to " + n + ", in detail.", "**Wrong** " + n + "."}},
                    {"domain", domains[i]}});
  }
  const std::string data = temp_file("rm_bench.json", rows.dump());
  const std::string scored = temp_file("rm_bench.scores.jsonl", "");
  const RunResult score = run_arbiter("score -q -m " + arbiter::testing::kShared + "/fixtures/hf/qwen2-seqcls1 -i " +
                                      data + " -o " + scored);
  ASSERT_EQ(score.exit_code, 0) << score.out;
  // The chat matrix from the scored lines, counted here.
  std::vector<std::vector<double>> chat(3, std::vector<double>(3, 0.0));
  std::ifstream lines(scored);
  std::string line;
  int chat_rows = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    ASSERT_EQ(j["num_chosen"], 3) << line;
    ASSERT_EQ(j["scores"].size(), 6u) << line;
    if (j["domain"] != "chat") continue;
    ++chat_rows;
    for (int c = 0; c < 3; ++c)
      for (int r = 0; r < 3; ++r) chat[c][r] += j["scores"][c].get<double>() > j["scores"][3 + r].get<double>() ? 1 : 0;
  }
  ASSERT_EQ(chat_rows, 2);
  for (auto& row : chat)
    for (double& v : row) v /= 2;
  const RunResult r = run_arbiter("eval rmbench --json --input " + scored);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["domains"]["chat"]["matrix"], nlohmann::json(chat));
  EXPECT_EQ(j["domains"]["safety"]["n"], 2);
  EXPECT_EQ(j["subdomains"]["safety-refuse"]["n"], 1);
  EXPECT_EQ(j["domains"].size(), 3u);
  const double normal = 100.0 * (chat[0][0] + chat[1][1] + chat[2][2]) / 3;
  EXPECT_NEAR(j["domains"]["chat"]["normal"].get<double>(), normal, 1e-9);

  // --report writes the same numbers, with the figure and the tables.
  const std::string report_dir = temp_file("rm_bench_report.keep", "") + ".d";
  const RunResult reported = run_arbiter("eval rmbench --input " + scored + " --report " + report_dir);
  ASSERT_EQ(reported.exit_code, 0) << reported.out;
  std::ifstream report_json(report_dir + "/report.json");
  const auto saved = nlohmann::json::parse(report_json);
  EXPECT_EQ(saved["domains"], j["domains"]);
  EXPECT_EQ(saved["overall"], j["overall"]);
  EXPECT_EQ(saved["command"], "rmbench");
  EXPECT_TRUE(std::filesystem::exists(report_dir + "/difficulty.svg"));
  std::ifstream report_md(report_dir + "/report.md");
  const std::string markdown((std::istreambuf_iterator<char>(report_md)), std::istreambuf_iterator<char>());
  // Its header's backslash escaped, as Markdown reads one (it renders as "right \ wrong").
  EXPECT_NE(markdown.find("| right \\\\ wrong | concise | detailed | detailed + markdown |"), std::string::npos) << markdown;
  // What scored the file, from its run record.
  EXPECT_EQ(saved["run_record"]["command"], "score");
  EXPECT_EQ(saved["run_record"]["model"], arbiter::testing::kShared + "/fixtures/hf/qwen2-seqcls1");
  EXPECT_NE(markdown.find("- scored by score: " + arbiter::testing::kShared + "/fixtures/hf/qwen2-seqcls1 (fingerprint "),
            std::string::npos)
      << markdown;

  // A file without num_chosen (RewardBench 2 rows scored elsewhere) says what is missing.
  const std::string bare = temp_file("bare.jsonl", "{\"scores\": [1, 2, 3, 4, 5, 6]}\n");
  const RunResult missing = run_arbiter("eval rmbench --input " + bare);
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.out.find("missing field 'num_chosen'"), std::string::npos) << missing.out;
  // Rows of other shapes name their line.
  const std::string uneven = temp_file("uneven.jsonl", "{\"scores\": [1, 2, 3, 4, 5, 6], \"num_chosen\": 3}\n"
                                                       "{\"scores\": [1, 2, 3, 4], \"num_chosen\": 1}\n"
                                                       "{\"scores\": [1, 2, 3, 4], \"num_chosen\": 2}\n");
  const RunResult shapes = run_arbiter("eval rmbench --input " + uneven);
  EXPECT_NE(shapes.exit_code, 0);
  EXPECT_NE(shapes.out.find("uneven.jsonl:2: 1 chosen and 3 rejected scores"), std::string::npos) << shapes.out;
}

// Rows of no RewardBench subset have no RewardBench score: an error naming the subsets found, not "nan".
TEST_F(CliEval, RewardBenchRowsOfNoSubsetAreAnError) {
  const std::string rows = temp_file("no-subset.jsonl", R"({"subset": "foo", "score_chosen": 1, "score_rejected": 0})" "\n");
  const RunResult r = run_arbiter("eval rewardbench --input " + rows);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("no-subset.jsonl: no row is in a RewardBench v1 subset (field 'subset' holds foo)"),
            std::string::npos)
      << r.out;
}

// A row id seen twice (shard outputs joined with an overlap, a run appended to a finished one) would count
// that row twice: every benchmark command refuses it, naming both lines.
TEST_F(CliEval, ARepeatedIdIsAnError) {
  const std::string v1 = temp_file("dup-v1.jsonl",
                                   "{\"id\": \"1\", \"subset\": \"alpacaeval-easy\", \"score_chosen\": 1, \"score_rejected\": 0}\n"
                                   "{\"id\": \"2\", \"subset\": \"alpacaeval-easy\", \"score_chosen\": 1, \"score_rejected\": 0}\n"
                                   "{\"id\": \"1\", \"subset\": \"alpacaeval-easy\", \"score_chosen\": 0, \"score_rejected\": 1}\n");
  const std::string v2 = temp_file("dup-v2.jsonl",
                                   "{\"subset\": \"Focus\", \"id\": 7, \"scores\": [1, 0, 0, 0]}\n"
                                   "{\"subset\": \"Focus\", \"id\": 7, \"scores\": [1, 0, 0, 0]}\n");
  const std::string pairs = temp_file("dup-pairs.jsonl",
                                      "{\"id\": \"p\", \"responses\": [{\"score\": 1}, {\"score\": 0}], \"human_preference_strength\": -1}\n"
                                      "{\"id\": \"p\", \"responses\": [{\"score\": 1}, {\"score\": 0}], \"human_preference_strength\": -1}\n");
  const RunResult one = run_arbiter("eval rewardbench --input " + v1);
  EXPECT_NE(one.exit_code, 0) << one.out;
  EXPECT_NE(one.out.find("dup-v1.jsonl:3: id '1' appears twice (first at "), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("dup-v1.jsonl:1)"), std::string::npos) << one.out;
  const RunResult two = run_arbiter("eval rewardbench --input " + v2);
  EXPECT_NE(two.exit_code, 0) << two.out;
  EXPECT_NE(two.out.find("dup-v2.jsonl:2: id '7' appears twice"), std::string::npos) << two.out;
  const RunResult preference = run_arbiter("eval preference --input " + pairs);
  EXPECT_NE(preference.exit_code, 0) << preference.out;
  EXPECT_NE(preference.out.find("dup-pairs.jsonl:2: id 'p' appears twice"), std::string::npos) << preference.out;
}

TEST_F(CliEval, RewardBenchV2Detected) {
  const std::string path = temp_file("v2.jsonl",
                                     "{\"subset\": \"Math\", \"id\": \"a\", \"scores\": [3, 1, 2, 0]}\n"
                                     "{\"subset\": \"Math\", \"id\": \"b\", \"scores\": [1, 1, 2, 0]}\n");
  const RunResult r = run_arbiter("eval rewardbench --json --input " + path);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["version"], 2);
  EXPECT_DOUBLE_EQ(j["overall"].get<double>(), 50.0);
}

TEST_F(CliEval, LayersPerLayerSpearman) {
  const std::string path = temp_file(
      "layers.jsonl",
      R"({"per_layer_logits": [[0, -1], [0, 1]], "score_values": [1, 2], "human": 1})" "\n"
      R"({"per_layer_logits": [[0, 0], [0, 0]], "score_values": [1, 2], "human": 2})" "\n"
      R"({"per_layer_logits": [[0, 1], [0, -1]], "score_values": [1, 2], "human": 3})" "\n");
  const RunResult r = run_arbiter("eval layers --json --human-field human --input " + path);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["layers"][0]["spearman"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["layers"][1]["spearman"].get<double>(), -1.0);
}

}  // namespace
