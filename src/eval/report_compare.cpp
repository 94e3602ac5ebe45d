// The compare report: each system's statistic with its interval, and each difference from the baseline with
// its paired interval and p-values; a bar chart of the systems and the differences with their intervals.
#include <algorithm>
#include <cmath>
#include <string>

#include "eval/report_builders.h"
#include "eval/svg_chart.h"

namespace arbiter::eval {

using nlohmann::json;

json comparison_json(const PairedComparison& result, const std::vector<McNemarResult>& mcnemar,
                     const ComparisonSource& source) {
  json out = {{"command", "compare"},       {"metric", source.metric},         {"statistic", source.statistic},
              {"rows", result.rows},        {"resamples", result.resamples},   {"seed", source.bootstrap.seed},
              {"level", source.bootstrap.level}, {"paired_by", source.paired_by}};
  if (!source.human_file.empty()) out["human"] = {{"file", source.human_file}, {"field", source.human_field}};
  json systems = json::array();
  for (size_t s = 0; s < result.systems.size(); ++s) {
    const SystemResult& r = result.systems[s];
    json system = {{"name", r.name}, {"file", source.files[s]}};
    if (!source.fields[s].empty()) system["field"] = source.fields[s];
    system["value"] = json_number(r.value);
    system["ci"] = {json_number(r.ci.lo), json_number(r.ci.hi)};
    system["resamples_used"] = r.ci.resamples_used;
    systems.push_back(system);
  }
  out["systems"] = systems;
  json differences = json::array();
  for (size_t d = 0; d < result.differences.size(); ++d) {
    const DifferenceResult& r = result.differences[d];
    json item = {{"system", r.system},
                 {"baseline", r.baseline},
                 {"difference", json_number(r.difference)},
                 {"ci", {json_number(r.ci.lo), json_number(r.ci.hi)}},
                 {"p_bootstrap", json_number(r.p_value)}};
    if (d < mcnemar.size())
      item["mcnemar"] = {{"only_baseline_right", mcnemar[d].only_baseline},
                         {"only_system_right", mcnemar[d].only_system},
                         {"p", json_number(mcnemar[d].p_value)}};
    differences.push_back(item);
  }
  out["differences"] = differences;
  return out;
}

Report comparison_report(const PairedComparison& result, const std::vector<McNemarResult>& mcnemar,
                         const ComparisonSource& source) {
  Report report;
  report.title = "Paired comparison";
  report.notes.push_back(source.statistic + ", " + std::to_string(result.rows) + " rows paired by " + source.paired_by);
  if (!source.human_file.empty())
    report.notes.push_back("human labels: " + source.human_file +
                           (source.human_field.empty() ? "" : " (field " + source.human_field + ")"));
  report.data = comparison_json(result, mcnemar, source);

  const std::string percent = level_percent(source.bootstrap.level);
  ReportSection systems{.id = "systems", .title = "Systems"};
  systems.paragraphs.push_back(
      "Intervals: " + percent + "% percentile bootstrap over the rows, " +
      std::to_string(result.resamples) + " resamples (seed " + std::to_string(source.bootstrap.seed) +
      "), every system on the same resampled rows. A difference's interval and p-value come from the differences "
      "in each resample; the p-value is two-sided, and no smaller than the resamples can tell (1 / (resamples + 1)).");
  if (!mcnemar.empty())
    systems.paragraphs.push_back("McNemar's exact test counts the rows only the baseline gets right and those only "
                                 "the system gets right; under no difference each such row is a fair coin.");
  ReportTable table{.header = {"system", "value", "CI low", "CI high", "difference", "diff. CI low", "diff. CI high",
                               "p (bootstrap)"}};
  if (!mcnemar.empty()) {
    table.header.push_back("only baseline right");
    table.header.push_back("only system right");
    table.header.push_back("p (McNemar)");
  }
  svg::BarChart chart{.title = source.statistic, .y_label = source.metric};
  double lowest = 0.0;
  for (size_t s = 0; s < result.systems.size(); ++s) {
    const SystemResult& r = result.systems[s];
    std::vector<std::string> row = {r.name, report_number(r.value, 4), report_number(r.ci.lo, 4),
                                    report_number(r.ci.hi, 4)};
    if (s == 0) {
      row.insert(row.end(), {"(baseline)", "", "", ""});
      if (!mcnemar.empty()) row.insert(row.end(), {"", "", ""});
    } else {
      const DifferenceResult& d = result.differences[s - 1];
      row.insert(row.end(), {report_number(d.difference, 4), report_number(d.ci.lo, 4), report_number(d.ci.hi, 4),
                             report_number(d.p_value, 4)});
      if (!mcnemar.empty()) {
        const McNemarResult& m = mcnemar[s - 1];
        row.insert(row.end(), {std::to_string(m.only_baseline), std::to_string(m.only_system), report_number(m.p_value, 4)});
      }
    }
    table.rows.push_back(std::move(row));
    chart.bars.push_back({r.name, r.value, std::isfinite(r.value), s == 0,
                          r.name + ": " + report_number(r.value, 4) + " [" + report_number(r.ci.lo, 4) + ", " +
                              report_number(r.ci.hi, 4) + "]"});
    if (std::isfinite(r.value)) lowest = std::min(lowest, r.value);
  }
  if (lowest < 0.0) chart.y = svg::Range{std::max(-1.0, lowest), 1.0};
  chart.value_decimals = 3;
  systems.tables.push_back(std::move(table));
  systems.figures.push_back({"systems", "Each system's " + source.metric + " on all rows (the baseline highlighted); "
                                        "hover a bar for its interval.",
                             svg::bar_chart(chart)});
  report.sections.push_back(std::move(systems));

  // The differences with their intervals against a line at zero: an interval that crosses it is a
  // difference these rows cannot tell from none.
  ReportSection differences{.id = "differences", .title = "Differences from the baseline"};
  svg::Series series{.line = false, .marker_radius = 4.0};
  double lo = 0.0, hi = 0.0;  // zero always in view
  for (const DifferenceResult& r : result.differences)
    for (const double v : {r.difference, r.ci.lo, r.ci.hi})
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  const double pad = 0.05 * std::max(hi - lo, 1e-6);
  for (size_t d = 0; d < result.differences.size(); ++d) {
    const DifferenceResult& r = result.differences[d];
    series.points.push_back({double(d + 1), r.difference});
    series.y_errors.push_back({r.ci.lo, r.ci.hi});
    series.point_labels.push_back(r.system);
    series.tooltips.push_back(r.system + " - " + r.baseline + ": " + report_number(r.difference, 4) + " [" +
                              report_number(r.ci.lo, 4) + ", " + report_number(r.ci.hi, 4) + "], p " +
                              report_number(r.p_value, 4));
  }
  svg::XYChart forest{.title = "Difference from " + result.systems[0].name,
                      .x_label = "system",
                      .y_label = "difference in " + source.metric,
                      .series = {series},
                      .x = svg::Range{0.5, double(result.differences.size()) + 0.5},
                      .y = svg::Range{lo - pad, hi + pad},
                      .integer_x = true,
                      .y_reference = 0.0};
  differences.figures.push_back({"differences", "Each system's difference from the baseline with its " +
                                                    percent + "% paired interval.",
                                 svg::xy_chart(forest)});
  report.sections.push_back(std::move(differences));
  return report;
}

}  // namespace arbiter::eval
