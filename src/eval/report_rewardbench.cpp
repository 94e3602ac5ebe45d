// The rewardbench reports: category accuracy bars, the per-subset table, and the score-margin histogram.
// Percent values follow `arbiter eval rewardbench --json`: sections and overall in percent, subset
// accuracies as fractions.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "eval/report_builders.h"
#include "eval/report_stats.h"
#include "eval/svg_chart.h"

namespace arbiter::eval {
namespace {

using nlohmann::json;

std::string percent(double fraction) { return report_number(100.0 * fraction, 2); }

struct MarginSummary {
  size_t n = 0, positive = 0, zero = 0, negative = 0;
  double mean = 0.0, median = 0.0, min = 0.0, max = 0.0;
};

MarginSummary summarize_margins(std::vector<double> margins) {
  MarginSummary s;
  s.n = margins.size();
  if (margins.empty()) return s;
  std::sort(margins.begin(), margins.end());
  for (double m : margins) {
    s.mean += m;
    s.positive += m > 0.0;
    s.zero += m == 0.0;
    s.negative += m < 0.0;
  }
  s.mean /= double(s.n);
  s.median = s.n % 2 ? margins[s.n / 2] : 0.5 * (margins[s.n / 2 - 1] + margins[s.n / 2]);
  s.min = margins.front();
  s.max = margins.back();
  return s;
}

json margins_json(const MarginSummary& s, const HistogramBins& bins) {
  return {{"n", s.n},
          {"positive", s.positive},
          {"zero", s.zero},
          {"negative", s.negative},
          {"mean", s.n ? json(s.mean) : json()},
          {"median", s.n ? json(s.median) : json()},
          {"min", s.n ? json(s.min) : json()},
          {"max", s.n ? json(s.max) : json()},
          {"histogram", {{"edges", bins.edges}, {"counts", bins.counts}}}};
}

ReportSection margins_section(const std::vector<double>& margins, const std::string& what, json& data,
                              bool ties_half = false) {
  const MarginSummary s = summarize_margins(margins);
  const HistogramBins bins = histogram_bins(margins, 10, 50);
  data["margins"] = margins_json(s, bins);
  ReportSection section{.id = "margins", .title = "Score margins"};
  if (s.n == 0) {
    section.paragraphs.push_back("No rows with both a correct and an incorrect completion.");
    return section;
  }
  section.paragraphs.push_back("Margin (" + what + ") over " + std::to_string(s.n) + " rows: " +
                               std::to_string(s.positive) + " above 0 (right), " + std::to_string(s.zero) +
                                " exactly 0 (a tie, counted " + (ties_half ? "half right" : "wrong") + "), " + std::to_string(s.negative) +
                               " below 0. Median " + report_number(s.median, 4) + ", mean " +
                               report_number(s.mean, 4) + ".");
  svg::Histogram chart{.title = "Score margin", .x_label = what, .edges = bins.edges, .counts = bins.counts,
                       .marker_x = 0.0, .marker_label = "0"};
  // Scores far apart (past half the range of a double) make a margin that no finite bin holds.
  const size_t drawn = std::accumulate(bins.counts.begin(), bins.counts.end(), size_t{0});
  const size_t undrawn = s.n - drawn;
  const std::string left_out = undrawn == 0 ? ""
                               : undrawn == 1 ? " (1 margin too large to draw is left out)"
                                              : " (" + std::to_string(undrawn) + " margins too large to draw are left out)";
  section.figures.push_back({"margins", "Histogram of " + what + " over " + std::to_string(drawn) + " rows" + left_out +
                                            "; right of the dashed line the chosen response wins.",
                             svg::histogram(chart)});
  return section;
}

ReportTable subsets_table(const std::vector<SubsetAccuracy>& subsets, bool v1) {
  ReportTable table;
  table.header = v1 ? std::vector<std::string>{"subset", "section", "weight", "n", "correct", "accuracy %"}
                    : std::vector<std::string>{"subset", "n", "correct", "accuracy %"};
  table.numeric = v1 ? std::vector<bool>{false, false, true, true, true, true} : std::vector<bool>{};
  for (const SubsetAccuracy& s : subsets) {
    std::vector<std::string> row{s.subset};
    if (v1) {
      const std::string section = rewardbench_v1_section(s.subset);
      row.push_back(section.empty() ? "(none: not scored)" : section);
      row.push_back(std::to_string(rewardbench_v1_weight(s.subset)));
    }
    row.push_back(std::to_string(s.n));
    row.push_back(std::to_string(s.correct));
    row.push_back(percent(s.accuracy));
    table.rows.push_back(std::move(row));
  }
  return table;
}

}  // namespace

json subset_accuracies_json(const std::vector<SubsetAccuracy>& subsets) {
  json out = json::object();
  for (const auto& s : subsets)
    out[s.subset] = {{"n", s.n}, {"correct", s.correct}, {"ties", s.ties}, {"accuracy", s.accuracy}};
  return out;
}

Report rewardbench_v1_report(const std::vector<PreferenceRow>& rows, const RewardBenchReport& scores,
                             const std::string& input_path) {
  Report report;
  report.title = "RewardBench";
  report.notes = {"scored rows: " + input_path, std::to_string(rows.size()) + " rows, RewardBench v1 scoring"};
  json sections = json::object();
  for (const auto& s : scores.sections) sections[s.name] = s.present ? json(100.0 * s.score) : json();
  report.data = {{"command", "rewardbench"},
                 {"version", 1},
                 {"ties", scores.tie_credit == TieCredit::kHalf ? "half" : "wrong"},
                 {"input", input_path},
                 {"rows", rows.size()},
                 {"subsets", subset_accuracies_json(scores.subsets)},
                 {"sections", sections},
                 {"overall", json_number(100.0 * scores.overall)},
                 {"complete", scores.complete},
                 {"missing_subsets", scores.missing_subsets},
                 {"unknown_subsets", scores.unknown_subsets}};

  ReportSection categories{.id = "categories", .title = "Accuracy by category"};
  categories.paragraphs.push_back(
      std::string("A row is right when the chosen response scores strictly above the rejected one") +
      (scores.tie_credit == TieCredit::kHalf ? " (a tie counts half)" : "") +
      ". A category's accuracy "
      "averages its subsets with the leaderboard's fixed weights; the overall score is the mean of the categories" +
      std::string(std::all_of(scores.sections.begin(), scores.sections.end(), [](const SectionScore& s) { return s.present; })
                      ? "."
                      : " present (not all four are in the input).") +
      (scores.missing_subsets.empty()
           ? std::string()
           : " Not the leaderboard's score: " + std::to_string(scores.missing_subsets.size()) +
                 " of its 23 subsets are not in the input, and each category averages the subsets it has."));
  svg::BarChart chart{.title = "Accuracy by category", .y_label = "accuracy (%)", .y = svg::Range{0.0, 100.0}};
  ReportTable table{.header = {"category", "accuracy %"}};
  for (const SectionScore& s : scores.sections) {
    chart.bars.push_back({s.name, 100.0 * s.score, s.present, false, s.name + ": " + percent(s.score) + "%"});
    table.rows.push_back({s.name, s.present ? percent(s.score) : "n/a"});
  }
  chart.bars.push_back({"Overall", 100.0 * scores.overall, true, true, "Overall: " + percent(scores.overall) + "%"});
  table.rows.push_back({"Overall", percent(scores.overall)});
  categories.figures.push_back({"categories", "Per-category accuracy and the overall score (orange).",
                                svg::bar_chart(chart)});
  categories.tables.push_back(std::move(table));
  report.sections.push_back(std::move(categories));

  ReportSection subsets{.id = "subsets", .title = "Subsets"};
  if (!scores.unknown_subsets.empty())
    subsets.paragraphs.push_back("Subsets in no category are listed but not scored.");
  subsets.tables.push_back(subsets_table(scores.subsets, true));
  report.sections.push_back(std::move(subsets));

  report.sections.push_back(margins_section(preference_margins(rows), "chosen - rejected score", report.data,
                                            scores.tie_credit == TieCredit::kHalf));
  return report;
}

Report rewardbench_v2_report(const std::vector<BestOfNRow>& rows, const RewardBench2Report& scores,
                             const std::string& input_path) {
  Report report;
  report.title = "RewardBench 2";
  report.notes = {"scored rows: " + input_path, std::to_string(rows.size()) + " rows, RewardBench 2 scoring"};
  report.data = {{"command", "rewardbench"},
                 {"version", 2},
                 {"input", input_path},
                 {"rows", rows.size()},
                 {"subsets", subset_accuracies_json(scores.subsets)},
                 {"overall", json_number(100.0 * scores.overall)}};

  ReportSection categories{.id = "categories", .title = "Accuracy by subset"};
  categories.paragraphs.push_back(
      "A row is right when every correct completion scores strictly above every incorrect one. The overall score is "
      "the mean over the subsets present, Ties counting its own score.");
  svg::BarChart chart{.title = "Accuracy by subset", .y_label = "accuracy (%)", .y = svg::Range{0.0, 100.0}};
  for (const SubsetAccuracy& s : scores.subsets)
    chart.bars.push_back({s.subset, 100.0 * s.accuracy, true, false, s.subset + ": " + percent(s.accuracy) + "%"});
  if (scores.has_ties)
    chart.bars.push_back({"Ties", 100.0 * scores.ties.score, true, false, "Ties: " + percent(scores.ties.score) + "%"});
  chart.bars.push_back({"Overall", 100.0 * scores.overall, true, true, "Overall: " + percent(scores.overall) + "%"});
  categories.figures.push_back({"categories", "Per-subset accuracy and the overall score (orange).",
                                svg::bar_chart(chart)});
  report.sections.push_back(std::move(categories));

  ReportSection subsets{.id = "subsets", .title = "Subsets"};
  subsets.tables.push_back(subsets_table(scores.subsets, false));
  report.sections.push_back(std::move(subsets));

  if (scores.has_ties) {
    const TiesScore& t = scores.ties;
    report.data["ties"] = {{"score", 100.0 * t.score},
                           {"ref_accuracy", t.ref_accuracy},
                           {"tied_accuracy", t.tied_accuracy},
                           {"correctness_preferred", t.correctness_preferred},
                           {"correctness_preferred_hard", t.correctness_preferred_hard},
                           {"correctness_margin", t.correctness_margin}};
    ReportSection ties{.id = "ties", .title = "Ties"};
    ties.tables.push_back({.header = {"component", "value"},
                           .rows = {{"score %", percent(t.score)},
                                    {"reference accuracy", report_number(t.ref_accuracy, 4)},
                                    {"tied accuracy", report_number(t.tied_accuracy, 4)},
                                    {"correctness preferred", report_number(t.correctness_preferred, 4)},
                                    {"correctness preferred (hard)", report_number(t.correctness_preferred_hard, 4)},
                                    {"correctness margin", report_number(t.correctness_margin, 4)}}});
    report.sections.push_back(std::move(ties));
  }

  report.sections.push_back(
      margins_section(best_of_n_margins(rows), "worst correct - best incorrect score", report.data));
  return report;
}

}  // namespace arbiter::eval
