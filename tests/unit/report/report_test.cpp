// Reports: report.json holds exactly what the metric functions return, the HTML has its sections and
// stays self-contained, the Markdown has its tables, and `arbiter eval ... --report` writes all files.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "data/values.h"
#include "eval/report.h"
#include "eval/report_builders.h"
#include "eval/report_stats.h"
#include "xml_check.h"
#include "../../support/scratch_root.h"
#include "../../support/shared_dir.h"

namespace arbiter::eval {
namespace {

using nlohmann::json;

using arbiter::testing::kFlask;

using arbiter::testing::load_flask_scores;

std::filesystem::path temp_dir(const std::string& name) {
  const auto dir = arbiter::test::scratch_root() /
                   ("arbiter_report_test_" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A double from report.json, NaN for null.
double number(const json& value) { return value.is_null() ? std::nan("") : value.get<double>(); }

void expect_same(double from_report, double from_metric, const std::string& what) {
  if (std::isnan(from_metric)) {
    EXPECT_TRUE(std::isnan(from_report)) << what;
  } else {
    EXPECT_EQ(from_report, from_metric) << what;  // exact: the JSON round-trips doubles
  }
}

// The HTML must be well-formed XML, carry every section id, and fetch nothing.
void expect_self_contained_html(const std::string& html, const std::vector<std::string>& section_ids,
                                size_t svg_count) {
  EXPECT_EQ(test::check_xml(html), "");
  for (const auto& id : section_ids) EXPECT_NE(html.find("<section id=\"" + id + "\">"), std::string::npos) << id;
  EXPECT_EQ(count(html, "<svg "), svg_count);
  EXPECT_EQ(count(html, "</svg>"), svg_count);
  for (const char* external : {"<script", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import"})
    EXPECT_EQ(html.find(external), std::string::npos) << external;
}

struct Flask {
  std::vector<double> pred = load_flask_scores("palmscore_w.json"), human = load_flask_scores("human_score.json");
};

TEST(CorrelateReport, JsonEqualsTheMetricFunctions) {
  const Flask f;
  const BootstrapOptions options{.resamples = 200, .seed = 5, .level = 0.95};
  auto metrics = correlate(f.pred, f.human, options);
  ASSERT_TRUE(metrics) << metrics.message();
  const Report report = correlate_report(f.pred, f.human, *metrics, {"p.json", "h.json", options});

  const auto dir = temp_dir("correlate");
  ASSERT_TRUE(write_report(report, dir.string()));
  const json j = json::parse(read_text(dir / "report.json"));
  EXPECT_EQ(j["n"], 1997);
  // The LAGER paper's Table 1: 0.347 for Mistral-7B-Instruct-v0.3's weighted PALM score on Flask.
  EXPECT_NEAR(number(j["spearman"]["value"]), 0.347, 0.0005);

  // Each metric as computed on its own, not through correlate().
  expect_same(number(j["spearman"]["value"]), *spearman(f.pred, f.human), "spearman");
  expect_same(number(j["kendall_tau_b"]["value"]), *kendall_tau_b(f.pred, f.human), "kendall");
  expect_same(number(j["pearson"]["value"]), *pearson(f.pred, f.human), "pearson");
  expect_same(number(j["pairwise_accuracy"]["value"]), *pairwise_accuracy(f.pred, f.human), "pairwise");
  const auto ci = bootstrap_interval(f.pred, f.human, spearman, options);
  ASSERT_TRUE(ci);
  expect_same(number(j["spearman"]["ci95"][0]), ci->lo, "spearman ci lo");
  expect_same(number(j["spearman"]["ci95"][1]), ci->hi, "spearman ci hi");
  EXPECT_EQ(j["spearman"]["resamples_used"], ci->resamples_used);
  EXPECT_EQ(j["bootstrap"]["resamples"], 200);
  EXPECT_EQ(j["bootstrap"]["seed"], 5);

  const HistogramBins hb = histogram_bins(f.human);
  EXPECT_EQ(j["human"]["histogram"]["counts"].get<std::vector<size_t>>(), hb.counts);
  EXPECT_EQ(j["human"]["histogram"]["discrete"], true);
  const auto bins = calibration_bins(f.pred, f.human);
  ASSERT_EQ(j["calibration"].size(), bins.size());
  for (size_t b = 0; b < bins.size(); ++b) {
    EXPECT_EQ(j["calibration"][b]["n"], bins[b].n);
    expect_same(number(j["calibration"][b]["mean_human"]), bins[b].mean_human, "calibration mean");
  }

  for (const char* file : {"report.md", "report.html", "hist-pred.svg", "hist-human.svg", "calibration.svg",
                           "scatter.svg"})
    EXPECT_TRUE(std::filesystem::exists(dir / file)) << file;
  for (const char* file : {"hist-pred.svg", "hist-human.svg", "calibration.svg", "scatter.svg"})
    EXPECT_EQ(test::check_xml(read_text(dir / file)), "") << file;

  const std::string html = read_text(dir / "report.html");
  expect_self_contained_html(html, {"correlation", "histograms", "calibration"}, 4);
  // The scatter has one point per item.
  EXPECT_GE(count(html, "<circle"), 1997u);

  const std::string md = read_text(dir / "report.md");
  char rho[32];
  std::snprintf(rho, sizeof(rho), "| Spearman | %.3f |", *spearman(f.pred, f.human));
  EXPECT_NE(md.find(rho), std::string::npos) << md;
  EXPECT_NE(md.find("![" ), std::string::npos);
  EXPECT_NE(md.find("(scatter.svg)"), std::string::npos);
}

TEST(CorrelateReport, ConstantInputGivesNullsNotNaN) {
  const std::vector<double> pred{1, 1, 1, 1}, human{1, 2, 3, 4};
  auto metrics = correlate(pred, human, {.resamples = 0});
  ASSERT_TRUE(metrics);
  const Report report = correlate_report(pred, human, *metrics, {"p", "h", {.resamples = 0}});
  EXPECT_TRUE(report.data["spearman"]["value"].is_null());
  EXPECT_FALSE(report.data.contains("bootstrap"));
  EXPECT_EQ(report.data["pred_constant"], true);
  const std::string html = render_html(report);
  EXPECT_EQ(test::check_xml(html), "");
  EXPECT_NE(html.find("predictions are constant"), std::string::npos);
  EXPECT_NE(html.find(">n/a</td>"), std::string::npos);
}

// 100,000 items whose rows alternate in kind: the scatter draws a seeded random 20,000 of them (both kinds,
// the same ones every run), says so, and the calibration bins use them all.
TEST(CorrelateReport, ALargeScatterDrawsARandomSample) {
  std::vector<double> pred(100000), human(100000);
  for (size_t i = 0; i < pred.size(); ++i) {
    human[i] = i % 2 ? 5.0 : 1.0;
    pred[i] = human[i] + double((i * 7919) % 1000) / 500.0 - 1.0;
  }
  auto metrics = correlate(pred, human, {.resamples = 0});
  ASSERT_TRUE(metrics);
  const Report report = correlate_report(pred, human, *metrics, {"p", "h", {.resamples = 0}});
  const std::string html = render_html(report);
  // The bin means are drawn on the scatter and on the calibration chart.
  EXPECT_EQ(count(html, "<circle"), 20000u + 2 * calibration_bins(pred, human).size());
  const size_t caption = html.find("One point per item for");
  ASSERT_NE(caption, std::string::npos);
  EXPECT_EQ(html.substr(caption, 83), "One point per item for a random 20000 of the 100000 items (the same ones every run)");
  EXPECT_EQ(render_html(correlate_report(pred, human, *metrics, {"p", "h", {.resamples = 0}})), html);
  size_t binned = 0;
  for (const auto& bin : report.data["calibration"]) binned += bin["n"].get<size_t>();
  EXPECT_EQ(binned, 100000u);
}

TEST(CorrelateReport, PathsAreEscapedInHtml) {
  const std::vector<double> pred{1, 2, 3}, human{1, 3, 2};
  auto metrics = correlate(pred, human, {.resamples = 0});
  ASSERT_TRUE(metrics);
  const Report report = correlate_report(pred, human, *metrics, {"<b>&\"x\".json", "h.json", {.resamples = 0}});
  const std::string html = render_html(report);
  EXPECT_EQ(test::check_xml(html), "");
  EXPECT_NE(html.find("&lt;b&gt;&amp;&quot;x&quot;.json"), std::string::npos);
}

// report.md: names from the data are text, not markup (a viewer would render `<script>` raw, `*x*` in
// italics, and a `|` would split a table cell).
TEST(RewardBenchReport, NamesAreEscapedInMarkdown) {
  const std::vector<PreferenceRow> rows = {{"<script>alert(1)</script>", 1, 0}, {"a|b*c*_d_", 0, 1}, {"hep-go", 1, 0}};
  const Report report = rewardbench_v1_report(rows, score_rewardbench_v1(rows), "d/a&b<i>/rb.jsonl");
  const std::string md = render_markdown(report);
  EXPECT_EQ(md.find("<script>"), std::string::npos) << md;
  EXPECT_NE(md.find("\\<script\\>alert(1)\\</script\\>"), std::string::npos) << md;
  EXPECT_NE(md.find("a\\|b\\*c\\*\\_d\\_"), std::string::npos) << md;
  EXPECT_NE(md.find("d/a\\&b\\<i\\>/rb.jsonl"), std::string::npos) << md;
}

std::vector<PreferenceRow> v1_rows() {
  // Every leaderboard section plus one subset in none; ties and wrong orderings included.
  return {{"alpacaeval-easy", 2, 1},    {"alpacaeval-easy", 1, 1},     {"mt-bench-easy", 3, 2.5},
          {"llmbar-natural", 0, 1},     {"mt-bench-hard", 5, 4},       {"xstest-should-refuse", 1, 0},
          {"xstest-should-refuse", 0, 1}, {"donotanswer", 1, 0.5},     {"math-prm", 1, 0},
          {"math-prm", 0, 1},           {"hep-python", 1.5, 0},        {"anthropic_helpful", 1, 0}};
}

TEST(RewardBenchReport, V1JsonEqualsTheScores) {
  const auto rows = v1_rows();
  const RewardBenchReport scores = score_rewardbench_v1(rows);
  const Report report = rewardbench_v1_report(rows, scores, "rb.jsonl");
  const json& j = report.data;
  EXPECT_EQ(j["rows"], rows.size());
  for (const SectionScore& s : scores.sections) expect_same(number(j["sections"][s.name]), 100.0 * s.score, s.name);
  expect_same(number(j["overall"]), 100.0 * scores.overall, "overall");
  for (const SubsetAccuracy& s : scores.subsets) {
    EXPECT_EQ(j["subsets"][s.subset]["n"], s.n);
    EXPECT_EQ(j["subsets"][s.subset]["correct"], s.correct);
    expect_same(number(j["subsets"][s.subset]["accuracy"]), s.accuracy, s.subset);
  }
  EXPECT_EQ(j["unknown_subsets"], json::array({"anthropic_helpful"}));
  EXPECT_EQ(j["margins"]["n"], rows.size());
  EXPECT_EQ(j["margins"]["positive"], 8);
  EXPECT_EQ(j["margins"]["zero"], 1);
  EXPECT_EQ(j["margins"]["negative"], 3);

  const std::string html = render_html(report);
  expect_self_contained_html(html, {"categories", "subsets", "margins"}, 2);
  for (const char* label : {">Chat</text>", ">Chat Hard</text>", ">Safety</text>", ">Reasoning</text>",
                            ">Overall</text>"})
    EXPECT_NE(html.find(label), std::string::npos) << label;
  EXPECT_NE(html.find("<td>Chat Hard</td>"), std::string::npos);  // llmbar-natural's section in the subset table
  EXPECT_NE(html.find("(none: not scored)"), std::string::npos);
  const std::string md = render_markdown(report);
  EXPECT_NE(md.find("| math-prm | Reasoning | 984 | 2 | 1 | 50.00 |"), std::string::npos) << md;
}

// Scores 1e308 apart make an infinite margin: counted (a win), but no bin holds it, which the caption says.
TEST(RewardBenchReport, AMarginTooLargeToDrawIsNamed) {
  auto rows = v1_rows();
  rows.push_back({"alpacaeval-easy", 1e308, -1e308});
  const Report report = rewardbench_v1_report(rows, score_rewardbench_v1(rows), "rb.jsonl");
  EXPECT_EQ(report.data["margins"]["n"], rows.size());
  EXPECT_EQ(report.data["margins"]["positive"], 9);
  size_t drawn = 0;
  for (const json& count : report.data["margins"]["histogram"]["counts"]) drawn += count.get<size_t>();
  EXPECT_EQ(drawn, rows.size() - 1);
  const std::string caption = "over " + std::to_string(rows.size() - 1) + " rows (1 margin too large to draw is left out)";
  EXPECT_NE(render_html(report).find(caption), std::string::npos);
}

TEST(RewardBenchReport, V2WithTiesJsonEqualsTheScores) {
  const std::vector<BestOfNRow> rows{
      {"Factuality", "f1", {3, 1, 2, 0}, 1}, {"Factuality", "f2", {1, 2, 0, 0}, 1}, {"Math", "m1", {5, 1, 1, 1}, 1},
      {"Ties", "ref:1", {4, 1, 0}, 1},       {"Ties", "tied:1", {4, 3.9, 1, 0}, 2}, {"Ties", "ref:2", {1, 2}, 1},
      {"Ties", "tied:2", {3, 2, 2.5}, 2}};
  auto scores = score_rewardbench_v2(rows);
  ASSERT_TRUE(scores) << scores.message();
  ASSERT_TRUE(scores->has_ties);
  const Report report = rewardbench_v2_report(rows, *scores, "rb2.jsonl");
  const json& j = report.data;
  expect_same(number(j["overall"]), 100.0 * scores->overall, "overall");
  expect_same(number(j["ties"]["score"]), 100.0 * scores->ties.score, "ties");
  expect_same(number(j["ties"]["correctness_margin"]), scores->ties.correctness_margin, "ties margin");
  for (const SubsetAccuracy& s : scores->subsets)
    expect_same(number(j["subsets"][s.subset]["accuracy"]), s.accuracy, s.subset);
  EXPECT_EQ(j["margins"]["n"], best_of_n_margins(rows).size());
  expect_self_contained_html(render_html(report), {"categories", "subsets", "ties", "margins"}, 2);
}

TEST(LayersReport, JsonEqualsLayerSpearmanAndMarksTheBestLayer) {
  // Four layers over six rows: layer 0 constant, 1 partly right, 2 in the human order, 3 reversed.
  std::vector<LayerRow> rows;
  const double human[] = {1, 2, 3, 4, 5, 6};
  const double partly[] = {0.2, -0.5, 0.3, 0.9, 0.1, 1.2};
  for (int i = 0; i < 6; ++i) {
    const double t = double(i) / 5.0;
    rows.push_back({{{0, 0}, {0, partly[i]}, {0, -1 + 2 * t}, {0, 1 - 2 * t}}, {1, 2}, human[i]});
  }
  auto layers = layer_spearman(rows);
  ASSERT_TRUE(layers) << layers.message();
  const Report report = layers_report(rows.size(), *layers, "layers.jsonl", "human");
  const json& j = report.data;
  ASSERT_EQ(j["layers"].size(), layers->size());
  for (size_t l = 0; l < layers->size(); ++l)
    expect_same(number(j["layers"][l]["spearman"]), (*layers)[l].spearman, "layer " + std::to_string(l));
  EXPECT_TRUE(j["layers"][0]["spearman"].is_null());
  EXPECT_EQ(j["best_layer"], 2);
  EXPECT_EQ(number(j["best_spearman"]), 1.0);
  const std::string html = render_html(report);
  expect_self_contained_html(html, {"layers"}, 1);
  EXPECT_NE(html.find(">best: layer 2, 1.000</text>"), std::string::npos);
  EXPECT_NE(html.find("<td>2 (best)</td>"), std::string::npos);
}

TEST(LayersReport, ListwiseReadsAreMeasuredByAccuracy) {
  const Report report = layers_accuracy_report(12, {0.25, 0.5, 0.75, 0.5}, "listwise.jsonl", "human");
  const json& j = report.data;
  ASSERT_EQ(j["layers"].size(), 4u);
  EXPECT_EQ(number(j["layers"][1]["accuracy"]), 0.5);
  EXPECT_FALSE(j["layers"][1].contains("spearman"));
  EXPECT_EQ(j["best_layer"], 2);
  EXPECT_EQ(number(j["best_accuracy"]), 0.75);
  const std::string html = render_html(report);
  expect_self_contained_html(html, {"layers"}, 1);
  EXPECT_NE(html.find(">best: layer 2, 0.750</text>"), std::string::npos);
  EXPECT_NE(html.find("accuracy by layer"), std::string::npos);
}

TEST(WriteReport, UnwritableDirectoryIsAnError) {
  const auto dir = temp_dir("blocked");
  std::ofstream(dir / "file") << "x";
  Report report;
  report.title = "t";
  const Status status = write_report(report, (dir / "file" / "sub").string());
  EXPECT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("file/sub"), std::string::npos) << status.message();
}

std::string slurp_report_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Report report_with_figures(const std::string& title, const std::vector<std::string>& figure_ids) {
  Report report;
  report.title = title;
  report.data = {{"title", title}};
  ReportSection section;
  section.id = "s";
  section.title = "figures";
  for (const std::string& id : figure_ids) section.figures.push_back({id, "caption " + id, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"});
  report.sections.push_back(section);
  return report;
}

// A report written where one was: the figures the old one linked and the new one lacks go. A report that
// fails part-way (here a figure whose file name the file system refuses) leaves the old report whole,
// every file, and no temporary files.
TEST(WriteReport, ASecondReportReplacesTheFirstWholeOrNotAtAll) {
  const auto dir = temp_dir("replaced");
  ASSERT_TRUE(write_report(report_with_figures("first", {"alpha", "shared"}), dir.string()));
  ASSERT_TRUE(std::filesystem::exists(dir / "alpha.svg"));
  std::ofstream(dir / "notes.txt") << "the user's own file";
  ASSERT_TRUE(write_report(report_with_figures("second", {"beta", "shared"}), dir.string()));
  EXPECT_FALSE(std::filesystem::exists(dir / "alpha.svg"));
  EXPECT_TRUE(std::filesystem::exists(dir / "beta.svg"));
  EXPECT_TRUE(std::filesystem::exists(dir / "shared.svg"));
  EXPECT_EQ(slurp_report_file(dir / "notes.txt"), "the user's own file");
  EXPECT_NE(slurp_report_file(dir / "report.md").find("# second"), std::string::npos);

  const std::string json_before = slurp_report_file(dir / "report.json");
  const std::string html_before = slurp_report_file(dir / "report.html");
  const std::string too_long(250, 'x');  // its temporary name passes the file system's 255-byte limit
  const Status failed = write_report(report_with_figures("third", {"gamma", too_long}), dir.string());
  ASSERT_FALSE(failed.is_ok());
  EXPECT_NE(failed.message().find(too_long + ".svg"), std::string::npos) << failed.message();
  EXPECT_EQ(slurp_report_file(dir / "report.json"), json_before);
  EXPECT_EQ(slurp_report_file(dir / "report.html"), html_before);
  EXPECT_NE(slurp_report_file(dir / "report.md").find("# second"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "gamma.svg"));
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
}

// The command line: --report beside --json, report.json equal to the metric functions' results.
struct RunResult {
  int exit_code = -1;
  std::string out;
};

RunResult run_arbiter(const std::string& args) {
  RunResult result;
  FILE* pipe = popen((std::string(ARBITER_BINARY) + " " + args + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buf;
  size_t got;
  while ((got = fread(buf.data(), 1, buf.size(), pipe)) > 0) result.out.append(buf.data(), got);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

TEST(CliReport, CorrelateWritesTheReportFiles) {
  if (!std::filesystem::exists(ARBITER_BINARY)) GTEST_SKIP() << "arbiter binary not built: " << ARBITER_BINARY;
  const auto dir = temp_dir("cli_correlate");
  const RunResult r = run_arbiter("eval correlate --bootstrap 100 --seed 3 --pred " + kFlask +
                                  "palmscore_w.json --human " + kFlask + "human_score.json --report " + dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("report written to " + dir.string() + "/report.html"), std::string::npos) << r.out;
  const json j = json::parse(read_text(dir / "report.json"));
  const Flask f;
  expect_same(number(j["spearman"]["value"]), *spearman(f.pred, f.human), "spearman");
  const auto ci = bootstrap_interval(f.pred, f.human, kendall_tau_b, {.resamples = 100, .seed = 3});
  ASSERT_TRUE(ci);
  expect_same(number(j["kendall_tau_b"]["ci95"][0]), ci->lo, "kendall ci lo");
  expect_same(number(j["kendall_tau_b"]["ci95"][1]), ci->hi, "kendall ci hi");
  EXPECT_TRUE(std::filesystem::exists(dir / "report.html"));
}

TEST(CliReport, RewardBenchAndLayersWriteReports) {
  if (!std::filesystem::exists(ARBITER_BINARY)) GTEST_SKIP() << "arbiter binary not built: " << ARBITER_BINARY;
  const auto dir = temp_dir("cli_other");
  std::ofstream(dir / "rb.jsonl") << "{\"subset\": \"alpacaeval-easy\", \"score_chosen\": 2, \"score_rejected\": 1}\n"
                                     "{\"subset\": \"math-prm\", \"score_chosen\": [0.5], \"score_rejected\": [1]}\n";
  const RunResult rb = run_arbiter("eval rewardbench --json --input " + (dir / "rb.jsonl").string() + " --report " +
                                   (dir / "rb").string());
  ASSERT_EQ(rb.exit_code, 0) << rb.out;
  const json rj = json::parse(read_text(dir / "rb" / "report.json"));
  EXPECT_EQ(number(rj["sections"]["Chat"]), 100.0);
  EXPECT_EQ(number(rj["sections"]["Reasoning"]), 0.0);
  EXPECT_TRUE(rj["sections"]["Safety"].is_null());
  EXPECT_TRUE(std::filesystem::exists(dir / "rb" / "margins.svg"));

  std::ofstream(dir / "layers.jsonl")
      << R"({"per_layer_logits": [[0, 0], [0, -1]], "score_values": [1, 2], "h": 1})" "\n"
         R"({"per_layer_logits": [[0, 0], [0, 1]], "score_values": [1, 2], "h": 2})" "\n";
  const RunResult ly = run_arbiter("eval layers --input " + (dir / "layers.jsonl").string() +
                                   " --human-field h --report " + (dir / "ly").string());
  ASSERT_EQ(ly.exit_code, 0) << ly.out;
  const json lj = json::parse(read_text(dir / "ly" / "report.json"));
  EXPECT_EQ(lj["best_layer"], 1);
  EXPECT_TRUE(std::filesystem::exists(dir / "ly" / "layers.svg"));
}

}  // namespace
}  // namespace arbiter::eval
