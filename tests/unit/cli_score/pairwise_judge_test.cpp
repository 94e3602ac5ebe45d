// `arbiter judge` with pairwise and listwise templates, end to end on a random-weight model with a real
// tokenizer: which response is shown under which label, how the orders cancel the judge's position
// preference, best-of-N rows, and the errors a user meets.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>

#include "../../support/cli_helpers.h"
#include "score/judge_templates.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;
using nlohmann::json;

class PairwiseJudge : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(temp_dir("pairwise-judge"));
    auto made = run_arbiter("-q create-model --arch qwen2 --tokenizer " + kShared +
                            "/fixtures/tokenizers/qwen3 --out " + *dir_ + "/judge");
    setup_.expect(made.exit_code == 0, made.out);
  }
  static void TearDownTestSuite() { delete dir_; }

  static std::string write(const std::string& name, const std::vector<json>& rows) {
    const std::string path = *dir_ + "/" + name;
    std::ofstream out(path);
    for (const json& row : rows) out << row.dump() << "\n";
    return path;
  }
  static RunResult judge(const std::string& rows, const std::string& out, const std::string& options) {
    return run_arbiter("judge -q -m " + *dir_ + "/judge -i " + rows + " -o " + out + " " + options);
  }
  // A built-in template filled here by hand, judged as a fixed pointwise prompt with these labels: the
  // label probabilities a read of exactly that prompt gives.
  static std::vector<double> fixed_prompt_probabilities(const std::string& template_name,
                                                        const std::map<std::string, std::string>& values,
                                                        const std::string& labels) {
    auto tmpl = builtin_judge_template(template_name);
    EXPECT_TRUE(tmpl.is_ok());
    if (!tmpl) return {};
    std::string text = tmpl->text;
    for (const auto& [key, value] : values)
      for (size_t at; (at = text.find("{" + key + "}")) != std::string::npos;) text.replace(at, key.size() + 2, value);
    // A template must show the response it grades: here an empty one, at the end, so the prompt is the text.
    const std::string file = *dir_ + "/fixed-" + template_name + ".txt", out = *dir_ + "/fixed-" + template_name + ".out";
    std::ofstream(file) << text << "{response}";
    const std::string one = write("fixed-row.jsonl", {{{"id", "x"}, {"prompt", "unused"}, {"response", ""}}});
    auto r = judge(one, out, "--template-file " + file + " --score-tokens " + labels);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    if (r.exit_code != 0) return {};
    return read_jsonl(out).at(0)["probabilities"].get<std::vector<double>>();
  }
  void SetUp() override { setup_.check(); }
  static std::string* dir_;
  inline static SuiteSetup setup_;
};
std::string* PairwiseJudge::dir_ = nullptr;

const std::vector<json> kPairs = {
    {{"id", "p1"}, {"prompt", "What is 2+2?"}, {"chosen", "2+2 is 4."}, {"rejected", "It is 5."}, {"subset", "math-prm"}},
    {{"id", "p2"}, {"prompt", "Name a colour."}, {"chosen", "Blue."}, {"rejected", "I do not know."}, {"subset", "alpacaeval-easy"}},
    {{"id", "p3"}, {"prompt", "Say hi."}, {"chosen", "Hi there!"}, {"rejected", "No."}, {"subset", "alpacaeval-easy"}},
};

TEST_F(PairwiseJudge, SwappingTheResponsesMirrorsEveryScore) {
  std::vector<json> swapped = kPairs;
  for (json& row : swapped) std::swap(row["chosen"], row["rejected"]);
  const std::string out = *dir_ + "/pairs.out.jsonl", out_swapped = *dir_ + "/swapped.out.jsonl";
  auto r = judge(write("pairs.jsonl", kPairs), out, "--template pairwise --per-layer");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = judge(write("swapped.jsonl", swapped), out_swapped, "--template pairwise");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(out), mirrored = read_jsonl(out_swapped);
  ASSERT_EQ(lines.size(), 3u);
  ASSERT_EQ(mirrored.size(), 3u);
  for (size_t i = 0; i < lines.size(); ++i) {
    const json& a = lines[i];
    const json& b = mirrored[i];
    ASSERT_EQ(a["comparisons"].size(), 2u) << a.dump();
    EXPECT_EQ(a["score_values"], json::array({1.0, 0.0}));
    EXPECT_EQ(a["comparisons"][0]["per_layer_logits"].size(), 3u);  // tiny: 2 layers + embeddings
    for (const char* kind : {"vanilla", "expected", "lager"}) {
      const double chosen = a["responses"][0][kind].get<double>(), rejected = a["responses"][1][kind].get<double>();
      EXPECT_NEAR(chosen + rejected, 1.0, 1e-12) << kind;  // win rates of two responses
      EXPECT_NEAR(chosen, b["responses"][1][kind].get<double>(), 1e-9) << kind << " row " << i;
      EXPECT_NEAR(rejected, b["responses"][0][kind].get<double>(), 1e-9) << kind << " row " << i;
    }
    // The same reads, shown the other way round.
    EXPECT_NEAR(a["comparisons"][0]["expected"].get<double>(), b["comparisons"][1]["expected"].get<double>(), 1e-9);
    EXPECT_EQ(a["order_agreement"], b["order_agreement"]);
    EXPECT_EQ(a["score_chosen"], a["responses"][0]["lager"]);  // --rank-by lager by default
    EXPECT_EQ(a["subset"], kPairs[i]["subset"]);
    // People chose response 0: A's credit by their verdict is 1 shown first, 0 shown second.
    EXPECT_EQ(a["comparisons"][0]["human"], 1.0);
    EXPECT_EQ(a["comparisons"][1]["human"], 0.0);
  }
  // Layer weights fit to those verdicts: one item per comparison.
  auto trained = run_arbiter("train lager --input " + out + " --human-field human --out " + *dir_ + "/w.json");
  ASSERT_EQ(trained.exit_code, 0) << trained.out;
  EXPECT_NE(trained.out.find("rows 6 "), std::string::npos) << trained.out;
  EXPECT_NE(trained.out.find("pairwise accuracy"), std::string::npos) << trained.out;
  auto with_weights = judge(*dir_ + "/pairs.jsonl", *dir_ + "/weighted.out.jsonl",
                            "--template pairwise --lager-weights " + *dir_ + "/w.json");
  ASSERT_EQ(with_weights.exit_code, 0) << with_weights.out;
}

TEST_F(PairwiseJudge, EachComparisonReadsThePromptWithItsResponsesInPlace) {
  // The pairwise prompt of p1 with the rejected response shown first, filled here by hand, judged as a
  // fixed pointwise prompt: its two label probabilities must be those of comparison (1, 0).
  const std::vector<double> pp = fixed_prompt_probabilities(
      "pairwise",
      {{"prompt", "What is 2+2?"},
       {"response_a", "It is 5."},
       {"response_b", "2+2 is 4."},
       {"verdicts", "A if Response A is better, B if Response B is better"},
       {"label_a", "A"},
       {"label_b", "B"}},
      "A,B");
  auto pairwise = judge(write("p1.jsonl", {kPairs[0]}), *dir_ + "/p1.out.jsonl", "--template pairwise");
  ASSERT_EQ(pairwise.exit_code, 0) << pairwise.out;
  const json c = read_jsonl(*dir_ + "/p1.out.jsonl").at(0)["comparisons"][1];
  ASSERT_EQ(c["a"], 1);
  ASSERT_EQ(c["b"], 0);
  const auto cp = c["probabilities"].get<std::vector<double>>();
  ASSERT_EQ(pp.size(), 2u);
  ASSERT_EQ(cp.size(), 2u);
  for (size_t k = 0; k < 2; ++k) EXPECT_NEAR(pp[k], cp[k], 1e-9) << k;
  // Pointwise, the labels are worth 1 and 2; pairwise, A's credit is P(A).
  EXPECT_NEAR(c["expected"].get<double>(), cp[0], 1e-12);
}

TEST_F(PairwiseJudge, BestOfNRowsGetRoundRobinWinRates) {
  const json row = {{"id", "focus:1"},
                    {"prompt", "Write a haiku."},
                    {"chosen", json::array({"Leaves fall in silence."})},
                    {"rejected", json::array({"No.", "Haiku is a car."})},
                    {"subset", "Focus"}};
  const std::string out = *dir_ + "/bon.out.jsonl";
  auto r = judge(write("bon.jsonl", {row}), out, "--template pairwise --rank-by expected");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json line = read_jsonl(out).at(0);
  EXPECT_EQ(line["comparisons"].size(), 6u);
  const auto scores = line["scores"].get<std::vector<double>>();
  ASSERT_EQ(scores.size(), 3u);
  // Every comparison hands out one unit of credit; each response is in 4 of the 6.
  EXPECT_NEAR(scores[0] + scores[1] + scores[2], 6.0 / 4.0, 1e-12);
  for (double s : scores) {
    EXPECT_GE(s, 0.0);
    EXPECT_LE(s, 1.0);
  }
  // People's verdicts: the chosen completion (0) beats each rejected one; the two rejected ones are
  // not ranked against each other.
  for (const json& c : line["comparisons"]) {
    const bool with_chosen = c["a"] == 0 || c["b"] == 0;
    ASSERT_EQ(c.contains("human"), with_chosen) << c.dump();
    if (with_chosen) {
      EXPECT_EQ(c["human"], c["a"] == 0 ? 1.0 : 0.0) << c.dump();
    }
  }
  auto given = judge(write("bon.jsonl", {row}), *dir_ + "/bon-given.out.jsonl", "--template pairwise --orders given");
  ASSERT_EQ(given.exit_code, 0) << given.out;
  const json one_order = read_jsonl(*dir_ + "/bon-given.out.jsonl").at(0);
  EXPECT_EQ(one_order["comparisons"].size(), 3u);
  EXPECT_FALSE(one_order.contains("order_agreement"));
}

// RM-Bench rows (three chosen, three rejected) with --pairs chosen-rejected: only the nine pairs of a
// chosen and a rejected response, each in both orders; eval rmbench decides each pair by its comparisons.
TEST_F(PairwiseJudge, ChosenAgainstRejectedPairsForRmBench) {
  const json row = {{"id", "rm:1"},
                    {"prompt", "What is the capital of France?"},
                    {"chosen", json::array({"Paris.", "The capital of France is Paris.", "**Paris** is the capital."})},
                    {"rejected", json::array({"Lyon.", "The capital of France is Lyon.", "**Lyon** is the capital."})},
                    {"domain", "chat"}};
  const std::string out = *dir_ + "/rmb.out.jsonl";
  json again = row;
  again["id"] = "rm:2";
  auto r = judge(write("rmb.jsonl", {row, again}), out, "--template pairwise --pairs chosen-rejected");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json line = read_jsonl(out).at(0);
  ASSERT_EQ(line["comparisons"].size(), 18u);
  EXPECT_EQ(line["num_chosen"], 3);
  // The chosen response in style i's mean lager credit against the rejected one in style j, as eval reads it.
  double credit[3][3] = {};
  for (const json& c : line["comparisons"]) {
    const size_t a = c["a"], b = c["b"];
    ASSERT_NE(a < 3, b < 3) << "a comparison within the chosen or the rejected: " << c.dump();
    ASSERT_TRUE(c.contains("human")) << c.dump();
    if (a < 3) credit[a][b - 3] += c["lager"].get<double>() / 2;
    else credit[b][a - 3] += (1.0 - c["lager"].get<double>()) / 2;
  }
  auto eval = run_arbiter("eval rmbench --json --input " + out);
  ASSERT_EQ(eval.exit_code, 0) << eval.out;
  const json report = json::parse(eval.out);
  const json matrix = report["domains"]["chat"]["matrix"];
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j) EXPECT_EQ(matrix[i][j].get<double>(), credit[i][j] > 0.5 ? 1.0 : 0.0) << i << "," << j;
  // --no-comparisons compares the win rates instead.
  auto by_scores = run_arbiter("eval rmbench --json --no-comparisons --input " + out);
  ASSERT_EQ(by_scores.exit_code, 0) << by_scores.out;
  const auto scores = line["scores"].get<std::vector<double>>();
  const json score_matrix = json::parse(by_scores.out)["domains"]["chat"]["matrix"];
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j) EXPECT_EQ(score_matrix[i][j].get<double>(), scores[i] > scores[3 + j] ? 1.0 : 0.0);

  // A row without rejected responses, and --pairs with a pointwise template, are errors.
  const json graded = {{"id", "x"}, {"prompt", "p"}, {"response_1", "a"}, {"response_2", "b"}, {"preference_strength", 1}};
  auto no_chosen = judge(write("graded.jsonl", {graded}), *dir_ + "/graded.out.jsonl",
                         "--template pairwise --pairs chosen-rejected");
  EXPECT_NE(no_chosen.exit_code, 0);
  EXPECT_NE(no_chosen.out.find("--pairs chosen-rejected compares chosen with rejected responses; this row has no "
                               "'chosen' field"),
            std::string::npos)
      << no_chosen.out;
  auto pointwise = judge(write("rmb.jsonl", {row}), *dir_ + "/pw.out.jsonl", "--pairs chosen-rejected");
  EXPECT_NE(pointwise.exit_code, 0);
  EXPECT_NE(pointwise.out.find("--pairs applies to pairwise templates"), std::string::npos) << pointwise.out;
}

TEST_F(PairwiseJudge, RewardBenchReadsTheScores) {
  const std::string out = *dir_ + "/rb.out.jsonl";
  auto r = judge(write("rb.jsonl", kPairs), out, "--template pairwise");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto eval = run_arbiter("eval rewardbench --input " + out + " --json");
  ASSERT_EQ(eval.exit_code, 0) << eval.out;
  EXPECT_NE(eval.out.find("alpacaeval-easy"), std::string::npos) << eval.out;

  // Vanilla verdicts with ties counted half: per row, the chosen response's mean credit over the two
  // orders, which is what RewardBench's generative script scores in expectation over its random order.
  const std::string vanilla = *dir_ + "/rb-vanilla.out.jsonl";
  r = judge(*dir_ + "/rb.jsonl", vanilla, "--template pairwise --rank-by vanilla");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto half = run_arbiter("eval rewardbench --input " + vanilla + " --json --ties half");
  ASSERT_EQ(half.exit_code, 0) << half.out;
  const json report = json::parse(half.out.substr(half.out.find('{')));
  double expected = 0;
  size_t n = 0;
  for (const json& line : read_jsonl(vanilla))
    if (line["subset"] == "alpacaeval-easy") {
      expected += line["score_chosen"].get<double>();
      ++n;
    }
  ASSERT_EQ(n, 2u);
  EXPECT_NEAR(report["subsets"]["alpacaeval-easy"]["accuracy"].get<double>(), expected / 2.0, 1e-12) << half.out;
  EXPECT_EQ(report["ties"], "half");
}

TEST_F(PairwiseJudge, TheRunSaysHowOftenTheOrdersAgreed) {
  const std::string out = *dir_ + "/summary.out.jsonl";
  auto r = run_arbiter("judge -m " + *dir_ + "/judge -i " + write("summary.jsonl", kPairs) + " -o " + out +
                       " --template pairwise");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  size_t agreeing = 0;
  for (const json& line : read_jsonl(out)) agreeing += line["order_agreement"].get<double>() == 1.0;
  EXPECT_NE(r.out.find("the two orders named the same winner in " + std::to_string(agreeing) + " of 3 pairs"),
            std::string::npos)
      << r.out;
  // Listwise: the mean of the rows' order agreements.
  const std::string list_out = *dir_ + "/summary-list.out.jsonl";
  auto l = run_arbiter("judge -m " + *dir_ + "/judge -i " + write("summary-list.jsonl", kPairs) + " -o " + list_out +
                       " --template listwise");
  ASSERT_EQ(l.exit_code, 0) << l.out;
  double sum = 0;
  for (const json& line : read_jsonl(list_out)) sum += line["order_agreement"].get<double>();
  char expected[64];
  std::snprintf(expected, sizeof expected, "on average %.1f%% of a row's orders", 100.0 * sum / 3.0);
  EXPECT_NE(l.out.find(expected), std::string::npos) << l.out;
}

TEST_F(PairwiseJudge, ListwiseScoresFollowTheResponsesWhateverTheirOrder) {
  // Every rotation is shown, so rotating a row's responses only rotates its scores.
  const std::vector<std::string> samples = {"Paris.", "London.", "It is Paris, on the Seine.", "Rome, I think."};
  std::vector<std::string> rotated(samples.begin() + 1, samples.end());
  rotated.push_back(samples[0]);
  const std::string rows = write("list.jsonl", {{{"id", "a"}, {"prompt", "Capital of France?"}, {"samples", samples}},
                                                {{"id", "b"}, {"prompt", "Capital of France?"}, {"samples", rotated}}});
  const std::string out = *dir_ + "/list.out.jsonl";
  auto r = judge(rows, out, "--template listwise --field response=samples --per-layer");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(out);
  ASSERT_EQ(lines.size(), 2u);
  for (const json& line : lines) {
    ASSERT_EQ(line["orders"].size(), 4u) << line.dump();
    ASSERT_EQ(line["scores"].size(), 4u);
    double total = 0;
    for (const json& resp : line["responses"]) total += resp["expected"].get<double>();
    EXPECT_NEAR(total, 1.0, 1e-12);
    for (const json& order : line["orders"]) {
      EXPECT_EQ(order["probabilities"].size(), 4u);
      EXPECT_EQ(order["per_layer_logits"][0].size(), 4u);  // the four labels shown
    }
  }
  for (size_t i = 0; i < 4; ++i)
    for (const char* kind : {"vanilla", "expected", "lager"})
      EXPECT_NEAR(lines[0]["responses"][i][kind].get<double>(), lines[1]["responses"][(i + 3) % 4][kind].get<double>(),
                  1e-9)
          << kind << " of response " << i;
}

// RewardBench 2 rows (one chosen response, three rejected): each order names where people's best response
// sits, and LAGER weights fit to those reads judge the rows again.
TEST_F(PairwiseJudge, ListwiseReadsCarryPeoplesBestAndTrainLagerWeights) {
  std::vector<json> rows;
  const char* prompts[] = {"Capital of France?", "Largest planet?", "Boiling point of water at sea level?"};
  const char* answers[] = {"Paris.", "Jupiter.", "100 degrees Celsius."};
  for (int i = 0; i < 3; ++i) {
    std::string id = "r";
    id += std::to_string(i);
    rows.push_back({{"id", id},
                    {"subset", "Focus"},
                    {"prompt", prompts[i]},
                    {"chosen", {answers[i]}},
                    {"rejected", {"I am not sure.", "Something else.", answers[(i + 1) % 3]}}});
  }
  const std::string out = *dir_ + "/rb2-list.out.jsonl";
  auto r = judge(write("rb2-list.jsonl", rows), out, "--template listwise --per-layer");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const json& line : read_jsonl(out)) {
    ASSERT_EQ(line["orders"].size(), 4u) << line.dump();
    for (const json& order : line["orders"]) {
      const auto shown = order["order"].get<std::vector<size_t>>();
      const size_t chosen_at = size_t(std::find(shown.begin(), shown.end(), size_t(0)) - shown.begin());
      EXPECT_EQ(order["human"], chosen_at) << order.dump();
    }
  }
  auto trained = run_arbiter("train lager --input " + out + " --human-field human --out " + *dir_ + "/list-w.json" +
                             " --report-json " + *dir_ + "/list-report.json");
  ASSERT_EQ(trained.exit_code, 0) << trained.out;
  EXPECT_NE(trained.out.find("rows 12 "), std::string::npos) << trained.out;  // 3 rows x 4 orders
  EXPECT_NE(trained.out.find("listwise accuracy"), std::string::npos) << trained.out;
  const json report = json::parse(read_text(*dir_ + "/list-report.json"));
  EXPECT_EQ(report["per_layer_accuracy"].size(), 3u);  // tiny: 2 layers + embeddings
  for (const char* kind : {"final_layer", "uniform", "tuned"}) {
    const double accuracy = report["listwise_accuracy"][kind].get<double>();
    EXPECT_GE(accuracy, 0.0);
    EXPECT_LE(accuracy, 1.0);
  }
  auto with_weights = judge(*dir_ + "/rb2-list.jsonl", *dir_ + "/rb2-list.weighted.jsonl",
                            "--template listwise --lager-weights " + *dir_ + "/list-w.json");
  ASSERT_EQ(with_weights.exit_code, 0) << with_weights.out;
  // The weights name the judge run they were fitted on (its record): the same judge and options apply them
  // without a word; another model of the same depth, or another system prompt, with a warning naming it.
  const json fitted = json::parse(read_text(*dir_ + "/list-w.json"));
  EXPECT_EQ(fitted["judge"]["model"], *dir_ + "/judge") << fitted.dump();
  EXPECT_EQ(fitted["judge"]["model_fingerprint"].get<std::string>().size(), 16u) << fitted.dump();
  const std::string apply = " -i " + *dir_ + "/rb2-list.jsonl -o " + *dir_ + "/rb2-list.applied.jsonl --template listwise "
                            "--lager-weights " + *dir_ + "/list-w.json";
  const RunResult same = run_arbiter("judge -m " + *dir_ + "/judge" + apply);
  ASSERT_EQ(same.exit_code, 0) << same.out;
  EXPECT_EQ(same.out.find("list-w.json was fitted"), std::string::npos) << same.out;
  ASSERT_EQ(run_arbiter("-q create-model --arch qwen2 --seed 7 --tokenizer " + kShared + "/fixtures/tokenizers/qwen3 --out " +
                        *dir_ + "/judge-other").exit_code, 0);
  const RunResult other_model = run_arbiter("judge -m " + *dir_ + "/judge-other" + apply);
  ASSERT_EQ(other_model.exit_code, 0) << other_model.out;
  EXPECT_NE(other_model.out.find("list-w.json was fitted on the reads of " + *dir_ + "/judge (fingerprint "),
            std::string::npos) << other_model.out;
  const RunResult other_prompt = run_arbiter("judge -m " + *dir_ + "/judge" + apply + " --system-prompt 'Be strict.'");
  ASSERT_EQ(other_prompt.exit_code, 0) << other_prompt.out;
  EXPECT_NE(other_prompt.out.find("list-w.json was fitted on reads made with other options (--system-prompt"),
            std::string::npos) << other_prompt.out;
  // eval layers: each layer's share of reads whose logit for people's best label is the largest, alone.
  std::vector<double> right(3, 0.0);
  for (const json& line : read_jsonl(out))
    for (const json& order : line["orders"])
      for (size_t l = 0; l < 3; ++l) {
        const auto logits = order["per_layer_logits"][l].get<std::vector<double>>();
        const size_t best = order["human"].get<size_t>();
        bool alone = true;
        for (size_t k = 0; k < logits.size(); ++k) alone = alone && (k == best || logits[k] < logits[best]);
        right[l] += alone;
      }
  auto layers = run_arbiter("eval layers --input " + out + " --human-field human --json");
  ASSERT_EQ(layers.exit_code, 0) << layers.out;
  const json j = json::parse(layers.out);
  EXPECT_EQ(j["n"], 12);
  EXPECT_EQ(j["listwise"], true);
  ASSERT_EQ(j["layers"].size(), 3u);
  for (size_t l = 0; l < 3; ++l) EXPECT_DOUBLE_EQ(j["layers"][l]["accuracy"].get<double>(), right[l] / 12.0) << l;
}

TEST_F(PairwiseJudge, ListwiseReadsThePromptWithEachResponseUnderItsLabel) {
  // The row's second rotation ([1, 2, 0]) filled here by hand and judged as a fixed prompt.
  const std::vector<double> expected = fixed_prompt_probabilities(
      "listwise",
      {{"n", "3"},
       {"prompt", "Write a haiku."},
       {"responses", "[Response A]\nNo.\n\n[Response B]\nHaiku is a car.\n\n[Response C]\nLeaves fall in silence."},
       {"labels", "A, B or C"}},
      "A,B,C");
  const json row = {{"id", "focus:2"},
                    {"prompt", "Write a haiku."},
                    {"chosen", json::array({"Leaves fall in silence."})},
                    {"rejected", json::array({"No.", "Haiku is a car."})},
                    {"subset", "Focus"}};
  auto listwise = judge(write("list-bon.jsonl", {row}), *dir_ + "/list-bon.out.jsonl", "--template listwise");
  ASSERT_EQ(listwise.exit_code, 0) << listwise.out;
  const json order = read_jsonl(*dir_ + "/list-bon.out.jsonl").at(0)["orders"][1];
  ASSERT_EQ(order["order"], json::array({1, 2, 0}));
  const auto got = order["probabilities"].get<std::vector<double>>();
  ASSERT_EQ(got.size(), 3u);
  for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(got[k], expected[k], 1e-9) << k;
  // RewardBench 2 reads the scores.
  auto eval = run_arbiter("eval rewardbench --input " + *dir_ + "/list-bon.out.jsonl --json");
  ASSERT_EQ(eval.exit_code, 0) << eval.out;
  EXPECT_NE(eval.out.find("\"Focus\""), std::string::npos) << eval.out;
}

TEST_F(PairwiseJudge, ClearErrors) {
  const std::string pairs = write("err-pairs.jsonl", kPairs);
  const std::string rated = write("rated.jsonl", {{{"id", "r1"}, {"prompt", "p"}, {"response", "r"}}});
  auto single = judge(rated, *dir_ + "/single.out.jsonl", "--template pairwise");
  EXPECT_NE(single.exit_code, 0);
  EXPECT_NE(single.out.find("two or more responses"), std::string::npos) << single.out;
  EXPECT_NE(single.out.find("r1"), std::string::npos) << single.out;  // names the row

  auto four = judge(pairs, *dir_ + "/four.out.jsonl", "--template pairwise --score-tokens A,B,C,D");
  EXPECT_NE(four.exit_code, 0);
  EXPECT_NE(four.out.find("2 score labels"), std::string::npos) << four.out;

  auto orders = judge(pairs, *dir_ + "/orders.out.jsonl", "--template generic --orders given");
  EXPECT_NE(orders.exit_code, 0);
  EXPECT_NE(orders.out.find("--orders applies to pairwise and listwise templates"), std::string::npos) << orders.out;

  auto list_one = judge(rated, *dir_ + "/list-one.out.jsonl", "--template listwise");
  EXPECT_NE(list_one.exit_code, 0);
  EXPECT_NE(list_one.out.find("a listwise judge needs two or more responses"), std::string::npos) << list_one.out;
  auto few_labels = judge(write("three.jsonl", {{{"id", "t"}, {"prompt", "p"}, {"samples", {"a", "b", "c"}}}}),
                          *dir_ + "/three.out.jsonl", "--template listwise --field response=samples --score-tokens A,B");
  EXPECT_NE(few_labels.exit_code, 0);
  EXPECT_NE(few_labels.out.find("3 responses and the judge 2 labels"), std::string::npos) << few_labels.out;

  auto unmarked = judge(pairs, *dir_ + "/unmarked.out.jsonl", "--template pairwise --generate");
  EXPECT_NE(unmarked.exit_code, 0);
  EXPECT_NE(unmarked.out.find("needs a score marker"), std::string::npos) << unmarked.out;

  auto feedback = judge(pairs, *dir_ + "/feedback.out.jsonl", "--template pairwise-feedback");
  EXPECT_NE(feedback.exit_code, 0);
  EXPECT_NE(feedback.out.find("--generate"), std::string::npos) << feedback.out;
}

// Score tokens listed from the best down: {min_score} / {max_score} are the labels of the lowest and
// highest values, so the prompt says what the values read from it mean. The filled template equals the
// same text written out by hand, judged with the same labels.
TEST_F(PairwiseJudge, MinAndMaxScoreAreTheLowestAndHighestValuesLabels) {
  const std::string rated = write("desc-rated.jsonl", {{{"id", "r1"}, {"prompt", "What is 2+2?"}, {"response", "4"}}});
  std::ofstream(*dir_ + "/desc-filled.txt") << "{min_score} means very poor, {max_score} excellent.\n{prompt}\n{response}\nScore:";
  std::ofstream(*dir_ + "/desc-by-hand.txt") << "1 means very poor, 5 excellent.\n{prompt}\n{response}\nScore:";
  const std::string filled = *dir_ + "/desc-filled.out.jsonl", by_hand = *dir_ + "/desc-by-hand.out.jsonl";
  const std::string labels = " --plain --score-tokens 5,4,3,2,1 --skip-lager";
  auto a = judge(rated, filled, "--template-file " + *dir_ + "/desc-filled.txt" + labels);
  ASSERT_EQ(a.exit_code, 0) << a.out;
  auto b = judge(rated, by_hand, "--template-file " + *dir_ + "/desc-by-hand.txt" + labels);
  ASSERT_EQ(b.exit_code, 0) << b.out;
  const auto filled_lines = read_jsonl(filled), by_hand_lines = read_jsonl(by_hand);
  ASSERT_EQ(filled_lines.size(), 1u);
  ASSERT_EQ(by_hand_lines.size(), 1u);
  EXPECT_EQ(filled_lines[0].dump(), by_hand_lines[0].dump());
}

// A template file is checked once, before any row: one that never shows what it grades would give every
// response of a prompt the same score, and one with a placeholder its kind does not fill would fail every
// row (an all-error output under --on-error skip; a server answering every request 400).
TEST_F(PairwiseJudge, ATemplateFileIsCheckedBeforeAnyRow) {
  const std::string pairs = write("tf-pairs.jsonl", kPairs);
  const std::string rated = write("tf-rated.jsonl", {{{"id", "r1"}, {"prompt", "p"}, {"response", "r"}}});
  auto checked = [&](const std::string& name, const std::string& text, const std::string& rows) {
    const std::string file = *dir_ + "/" + name + ".txt";
    std::ofstream(file) << text;
    const std::string out = *dir_ + "/" + name + ".out.jsonl";
    RunResult r = judge(rows, out, "--template-file " + file + " --on-error skip");
    EXPECT_FALSE(std::filesystem::exists(out) && std::filesystem::file_size(out) > 0) << name << ": rows were written";
    return r;
  };
  auto no_response = checked("no-response", "Rate this: {prompt}\nScore {min_score}-{max_score}:", rated);
  EXPECT_NE(no_response.exit_code, 0);
  EXPECT_NE(no_response.out.find("a pointwise template must show {response}"), std::string::npos) << no_response.out;
  auto one_side = checked("one-side", "Which is better? {prompt}\nA: {response_a}\nAnswer {label_a} or {label_b}:", pairs);
  EXPECT_NE(one_side.exit_code, 0);
  EXPECT_NE(one_side.out.find("a pairwise template must show {response_b}"), std::string::npos) << one_side.out;
  auto unknown = checked("unknown", "Rate {prompt} {response} {bogus}", rated);
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.out.find("unknown placeholder {bogus} in a pointwise template"), std::string::npos) << unknown.out;
  auto wrong_kind = checked("wrong-kind", "Rate {prompt} {response} against {response_b}", rated);
  EXPECT_NE(wrong_kind.exit_code, 0);
  EXPECT_NE(wrong_kind.out.find("unknown placeholder {response_b}"), std::string::npos) << wrong_kind.out;
  auto tie = checked("tie", "{prompt} A: {response_a} B: {response_b} ({label_a}, {label_b} or {label_tie})", pairs);
  EXPECT_NE(tie.exit_code, 0);
  EXPECT_NE(tie.out.find("shows {label_tie}, the third label"), std::string::npos) << tie.out;
  // A server is not started with one.
  const RunResult served = run_arbiter("serve -m " + *dir_ + "/judge --mode judge --port 0 --template-file " + *dir_ +
                                       "/unknown.txt");
  EXPECT_NE(served.exit_code, 0);
  EXPECT_NE(served.out.find("unknown placeholder {bogus}"), std::string::npos) << served.out;
  // {{ and }} write a brace (tests/unit/score/judge_templates_test.cpp): such a template runs.
  const std::string braces = *dir_ + "/braces.txt";
  std::ofstream(braces) << "Answer as {{\"score\": N}}. {prompt} {response}";
  auto with_braces = judge(rated, *dir_ + "/braces.out.jsonl", "--template-file " + braces);
  ASSERT_EQ(with_braces.exit_code, 0) << with_braces.out;
  EXPECT_FALSE(read_jsonl(*dir_ + "/braces.out.jsonl")[0].contains("error"));

}

}  // namespace
}  // namespace arbiter
