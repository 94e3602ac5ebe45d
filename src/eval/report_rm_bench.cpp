// The rmbench report: easy / normal / hard over all domains (RM-Bench's headline: how much a reward model
// leans on style), each domain's figures, and each domain's style matrix. Percent values follow
// `arbiter eval rmbench --json`; matrices hold shares.
#include <cmath>

#include "eval/report_builders.h"
#include "eval/svg_chart.h"

namespace arbiter::eval {
namespace {

using nlohmann::json;

std::string percent_or_na(double fraction) { return std::isnan(fraction) ? "n/a" : report_number(100.0 * fraction, 2); }

// RM-Bench's three styles by name; other counts by number.
std::string style_name(size_t style, size_t styles) {
  static const char* kNames[] = {"concise", "detailed", "detailed + markdown"};
  return styles == 3 ? kNames[style] : "style " + std::to_string(style + 1);
}

std::vector<std::string> scores_row(const std::string& name, const RmBenchScores& s) {
  return {name, std::to_string(s.n), percent_or_na(s.easy), percent_or_na(s.normal), percent_or_na(s.hard), percent_or_na(s.average)};
}

}  // namespace

nlohmann::json rm_bench_scores_json(const RmBenchScores& s, bool with_matrix) {
  json out = {{"n", s.n},
              {"easy", json_number(100.0 * s.easy)},
              {"normal", json_number(100.0 * s.normal)},
              {"hard", json_number(100.0 * s.hard)},
              {"average", json_number(100.0 * s.average)}};
  if (with_matrix) out["matrix"] = s.matrix;
  return out;
}

nlohmann::json rm_bench_json(const RmBenchReport& scores, size_t rows, size_t error_rows) {
  json domains = json::object(), subdomains = json::object();
  for (const auto& [name, s] : scores.domains) domains[name] = rm_bench_scores_json(s, true);
  for (const auto& [name, s] : scores.subdomains) subdomains[name] = rm_bench_scores_json(s, true);
  return {{"rows", rows},
          {"error_rows", error_rows},
          {"styles", scores.styles},
          {"domains", domains},
          {"subdomains", subdomains},
          {"overall", rm_bench_scores_json(scores.overall, false)}};
}

Report rm_bench_report(const RmBenchReport& scores, size_t rows, size_t error_rows, const std::string& input_path) {
  Report report;
  report.title = "RM-Bench";
  report.notes = {"scored rows: " + input_path, std::to_string(rows) + " rows, " + std::to_string(scores.styles) +
                                                     " styles per row"};
  report.data = rm_bench_json(scores, rows, error_rows);
  report.data["command"] = "rmbench";
  report.data["input"] = input_path;

  ReportSection difficulty{.id = "difficulty", .title = "Easy, normal, hard"};
  difficulty.paragraphs.push_back(
      "Each row holds a right and a wrong answer in every style. Hard compares a plainer right answer with a "
      "fancier wrong one, easy the reverse, normal the same style: a reward model swayed by style scores high on "
      "easy and low on hard. Each figure is the mean over the domains present, every domain counting once.");
  svg::BarChart chart{.title = "Accuracy by difficulty", .y_label = "accuracy (%)", .y = svg::Range{0.0, 100.0}};
  const RmBenchScores& all = scores.overall;
  for (const auto& [label, value] : {std::pair<std::string, double>{"Easy", all.easy}, {"Normal", all.normal}, {"Hard", all.hard}})
    chart.bars.push_back({label, 100.0 * value, !std::isnan(value), false, label + ": " + percent_or_na(value) + "%"});
  chart.bars.push_back({"Average", 100.0 * all.average, true, true, "Average: " + percent_or_na(all.average) + "%"});
  difficulty.figures.push_back({"difficulty", "Mean over domains of easy, normal and hard accuracy, and of the "
                                              "average of all style pairs (orange).",
                                svg::bar_chart(chart)});
  report.sections.push_back(std::move(difficulty));

  ReportSection domains{.id = "domains", .title = "Domains"};
  domains.paragraphs.push_back("Safety holds the safety-refuse and safety-response rows together; each is also shown "
                               "on its own.");
  ReportTable table{.header = {"domain", "n", "easy %", "normal %", "hard %", "avg %"}};
  for (const auto& [name, s] : scores.domains) {
    table.rows.push_back(scores_row(name, s));
    if (name == "safety")
      for (const auto& [sub, t] : scores.subdomains) table.rows.push_back(scores_row("  " + sub, t));
  }
  table.rows.push_back(scores_row("mean of domains", all));
  domains.tables.push_back(std::move(table));
  report.sections.push_back(std::move(domains));

  ReportSection styles{.id = "styles", .title = "Style matrices"};
  styles.paragraphs.push_back("Per domain: the share of rows (%) whose right answer in the row's style scores "
                              "strictly above the wrong answer in the column's style. Above the diagonal is hard, "
                              "below it easy.");
  for (const auto& [name, s] : scores.domains) {
    ReportTable matrix{.caption = name + " (" + std::to_string(s.n) + (s.n == 1 ? " row)" : " rows)")};
    matrix.header.push_back("right \\ wrong");
    for (size_t j = 0; j < scores.styles; ++j) matrix.header.push_back(style_name(j, scores.styles));
    for (size_t i = 0; i < scores.styles; ++i) {
      std::vector<std::string> row{style_name(i, scores.styles)};
      for (size_t j = 0; j < scores.styles; ++j) row.push_back(percent_or_na(s.matrix[i][j]));
      matrix.rows.push_back(std::move(row));
    }
    styles.tables.push_back(std::move(matrix));
  }
  report.sections.push_back(std::move(styles));
  return report;
}

}  // namespace arbiter::eval
