// arbiter eval: agreement of scores with human labels.
//   eval correlate    Spearman / Kendall tau-b / Pearson (with bootstrap intervals) of two score files
//   eval rewardbench  RewardBench v1 section scores or RewardBench 2 subset scores from a scored file
//   eval layers       per-layer Spearman of a judge's per-layer expected scores (listwise reads: accuracy)
//   eval preference   pairwise accuracy against graded preferences (HelpSteer2-Preference, HelpSteer3)
//   eval processbench first-wrong-step F1 of a process reward model's step rewards
//   eval rmbench      RM-Bench's easy / normal / hard accuracy per domain (cmd_eval_rm_bench.cpp)
//   eval compare      systems scored on the same rows, with paired bootstrap intervals (cmd_eval_compare.cpp)
// correlate, rewardbench, layers and processbench take --report DIR: report.json, report.md, one .svg per
// figure and a self-contained report.html.
#include <algorithm>
#include <utility>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "cli/eval_subcommand.h"
#include "cli/command.h"
#include "cli/option_checks.h"
#include "core/log.h"
#include "data/json_rows.h"
#include "data/values.h"
#include "data/writer.h"
#include "eval/layers.h"
#include "eval/metrics.h"
#include "eval/process_bench.h"
#include "eval/report.h"
#include "eval/report_builders.h"
#include "eval/rewardbench.h"
#include "eval/score_files.h"

#include "cli/output_format.h"
#include "cli/run_record.h"

namespace arbiter::cli {
namespace {

using nlohmann::json;


// ---- correlate ----

struct CorrelateArgs {
  std::string pred_path, human_path, pred_field, human_field;
  std::string join = "position", id_field = "id";
  int bootstrap = 1000;
  uint64_t seed = 0;
  bool as_json = false;
  std::string report_dir;
};

// What pairing by id left out, for the summary line and --json.
struct JoinCounts {
  size_t error_rows = 0, pred_only = 0, human_only = 0;
};

// Pairs the two files' rows by id, in the predictions' order. Error lines and ids found in one file
// only are left out and counted; an id twice in one file is an error.
Status join_by_id(const CorrelateArgs& args, std::vector<double>& pred, std::vector<double>& human, JoinCounts& counts) {
  ARB_ASSIGN(const data::KeyedColumn p, data::read_keyed_number_column(args.pred_path, args.pred_field, args.id_field));
  ARB_ASSIGN(const data::KeyedColumn h, data::read_keyed_number_column(args.human_path, args.human_field, args.id_field));
  std::unordered_map<std::string, size_t> human_row;
  for (size_t i = 0; i < h.ids.size(); ++i)
    if (!human_row.emplace(h.ids[i], i).second) return error(args.human_path + ": id '" + h.ids[i] + "' appears twice");
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < p.ids.size(); ++i) {
    if (!seen.insert(p.ids[i]).second) return error(args.pred_path + ": id '" + p.ids[i] + "' appears twice");
    const auto match = human_row.find(p.ids[i]);
    if (match == human_row.end()) {
      ++counts.pred_only;
      continue;
    }
    pred.push_back(p.values[i]);
    human.push_back(h.values[match->second]);
  }
  counts.error_rows = p.error_rows + h.error_rows;
  // A label whose prediction is an error line is counted with the error lines, not as a label alone.
  const std::unordered_set<std::string> failed(p.error_ids.begin(), p.error_ids.end());
  for (const std::string& id : h.ids) counts.human_only += !seen.count(id) && !failed.count(id);
  if (pred.empty()) return error(args.pred_path + " and " + args.human_path + " share no id ('" + args.id_field + "')");
  return Status::ok();
}

// Both files' numbers by position, read side by side in one pass. Pairing by position assumes line i of both
// files is dataset row i; lines that say otherwise are refused: a --shard or --limit run's lines of rows
// without ids (their id is the row's index and they carry a row_digest), and lines of both files whose ids
// differ (a label file in another order).
Status read_by_position(const CorrelateArgs& args, std::vector<double>& pred_values, std::vector<double>& human_values) {
  ARB_ASSIGN(data::JsonRowReader pred_rows, data::JsonRowReader::open(args.pred_path));
  ARB_ASSIGN(data::JsonRowReader human_rows, data::JsonRowReader::open(args.human_path));
  data::JsonRow pred, human;
  bool pred_left = true, human_left = true;
  for (size_t index = 0;; ++index) {
    if (pred_left) {
      ARB_ASSIGN(pred_left, pred_rows.next(pred));
    }
    if (human_left) {
      ARB_ASSIGN(human_left, human_rows.next(human));
    }
    if (!pred_left && !human_left) return Status::ok();
    if (pred_left) {
      ARB_ASSIGN(const double value, data::row_number(pred_rows, pred, args.pred_field));
      pred_values.push_back(value);
      const nlohmann::json& r = pred.value;
      if (r.is_object() && r.contains("row_digest") && r.contains("id") && data::row_id_string(r["id"]) != std::to_string(index))
        return error(pred_rows.where(pred) + " holds dataset row " + data::row_id_string(r["id"]) +
                     " (a --shard or --limit run's line), where pairing by position needs row " + std::to_string(index) +
                     ": pair the files with --join id");
    }
    if (human_left) {
      ARB_ASSIGN(const double value, data::row_number(human_rows, human, args.human_field));
      human_values.push_back(value);
    }
    if (!pred_left || !human_left || !pred.value.is_object() || !human.value.is_object()) continue;
    // A line with a row_digest is of a dataset row without an id: its id is the row's index, not a name
    // the other file could spell the same way (a label file may number its items from 1).
    if (pred.value.contains("row_digest") || human.value.contains("row_digest")) continue;
    const auto pred_id = std::as_const(pred.value).find(args.id_field);
    const auto human_id = std::as_const(human.value).find(args.id_field);
    if (pred_id == pred.value.end() || human_id == human.value.end() || pred_id->is_null() || human_id->is_null()) continue;
    if (data::row_id_string(*pred_id) != data::row_id_string(*human_id))
      return error(pred_rows.where(pred) + " is row '" + data::row_id_string(*pred_id) + "' and " + human_rows.where(human) +
                   " row '" + data::row_id_string(*human_id) + "': the files hold their rows in different orders, so "
                   "pairing by position would pair different rows; pair them with --join id");
  }
}

Status run_correlate(const CorrelateArgs& args) {
  std::vector<double> pred_values, human_values;
  JoinCounts counts;
  if (args.join == "id") {
    ARB_TRY(join_by_id(args, pred_values, human_values, counts));
  } else {
    ARB_TRY(read_by_position(args, pred_values, human_values));
  }
  if (counts.error_rows + counts.pred_only + counts.human_only > 0) {
    log_warn("paired " + std::to_string(pred_values.size()) + " rows by '" + args.id_field + "'; left out " +
             std::to_string(counts.error_rows) + " error lines, " + std::to_string(counts.pred_only) +
             " ids only in " + args.pred_path + ", " + std::to_string(counts.human_only) + " only in " +
             args.human_path);
  }
  eval::BootstrapOptions options;
  options.resamples = args.bootstrap;
  options.seed = args.seed;
  if (const std::string few = eval::few_resamples_warning(options); !few.empty()) log_warn(few);
  auto report = eval::correlate(pred_values, human_values, options);
  if (!report) return report.status().with_context(args.pred_path + " vs " + args.human_path);
  const eval::CorrelationReport& r = *report;
  if (!args.report_dir.empty())
    ARB_TRY(save_eval_report(eval::correlate_report(pred_values, human_values, r, {args.pred_path, args.human_path, options}),
                         args.report_dir, args.pred_path));
  std::string undefined;
  if (r.pred_constant) undefined = "predictions are constant";
  if (r.human_constant) undefined = undefined.empty() ? "human labels are constant" : "both inputs are constant";

  struct Metric {
    const char* name;
    double value;
    const eval::Interval* ci;
  };
  const Metric metrics[] = {{"spearman", r.spearman, &r.spearman_ci},
                            {"kendall_tau_b", r.kendall_tau_b, &r.kendall_ci},
                            {"pearson", r.pearson, &r.pearson_ci},
                            {"pairwise_accuracy", r.pairwise_accuracy, nullptr}};
  if (args.as_json) {
    json out = {{"n", r.n}};
    if (args.join == "id") {
      out["join"] = {{"by", args.id_field},
                     {"error_rows", counts.error_rows},
                     {"pred_only", counts.pred_only},
                     {"human_only", counts.human_only}};
    }
    for (const Metric& m : metrics) {
      json entry = {{"value", number_or_null(m.value)}};
      if (m.ci && r.has_intervals) {
        entry["ci95"] = {number_or_null(m.ci->lo), number_or_null(m.ci->hi)};
        entry["resamples_used"] = m.ci->resamples_used;
      }
      out[m.name] = entry;
    }
    if (r.has_intervals) out["bootstrap"] = {{"resamples", args.bootstrap}, {"seed", args.seed}};
    if (!undefined.empty()) out["undefined"] = undefined;
    print_line(data::dump_json(out));
    return Status::ok();
  }
  print_line("n                  " + std::to_string(r.n));
  for (const Metric& m : metrics) {
    std::string line = std::string(m.name) + std::string(19 - std::string(m.name).size(), ' ') + fixed(m.value, 3);
    if (m.ci && r.has_intervals) {
      line += "  [" + fixed(m.ci->lo, 3) + ", " + fixed(m.ci->hi, 3) + "]";
      // A resample of constant values has no correlation and is left out: on few rows, many are, and the
      // interval then comes from the rest.
      if (m.ci->resamples_used < args.bootstrap)
        line += "  (from " + std::to_string(m.ci->resamples_used) + " of " + std::to_string(args.bootstrap) +
                " resamples: the others were constant)";
    }
    if (std::isnan(m.value) && !undefined.empty()) line += "  (undefined: " + undefined + ")";
    print_line(line);
  }
  if (r.has_intervals)
    print_line("(95% percentile bootstrap intervals, " + std::to_string(args.bootstrap) + " resamples, seed " +
               std::to_string(args.seed) + ")");
  return Status::ok();
}

// ---- rewardbench ----

struct RewardBenchArgs {
  std::string input, version = "auto";
  eval::PreferenceFields pref;
  eval::BestOfNFields best_of_n;
  bool as_json = false;
  std::string report_dir;
  std::string ties = "wrong";
};

// v2 when the first row has the best-of-N scores list.
Result<bool> looks_like_v2(const RewardBenchArgs& args) {
  ARB_ASSIGN(data::JsonRowReader rows, data::JsonRowReader::open(args.input));
  data::JsonRow row;
  do {
    ARB_ASSIGN(const bool got, rows.next(row));
    if (!got) return error(args.input + ": no scored rows");
  } while (data::is_error_line(row.value));
  return row.value.is_object() && row.value.contains(args.best_of_n.scores) &&
         !row.value.contains(args.pref.chosen);
}

void print_subsets(const std::vector<eval::SubsetAccuracy>& subsets) {
  bool any_ties = false;
  for (const auto& s : subsets) any_ties = any_ties || s.ties > 0;
  print_line(std::string("subset                     n  correct") + (any_ties ? "     ties" : "") + "  accuracy");
  for (const auto& s : subsets) {
    char buf[160];
    if (any_ties) {
      std::snprintf(buf, sizeof(buf), "%-24s %5zu  %7zu  %7zu  %6.2f", s.subset.c_str(), s.n, s.correct, s.ties,
                    100.0 * s.accuracy);
    } else {
      std::snprintf(buf, sizeof(buf), "%-24s %5zu  %7zu  %6.2f", s.subset.c_str(), s.n, s.correct, 100.0 * s.accuracy);
    }
    print_line(buf);
  }
}

// Rows a scoring run could not score are left out of every accuracy; say so where it cannot be missed.
void warn_error_rows(const std::string& path, size_t error_rows) {
  if (error_rows == 0) return;
  log_warn(path + ": " + std::to_string(error_rows) + (error_rows == 1 ? " row is an error line" : " rows are error lines") +
           " of the scoring run, left out of the results (score them again to include them)");
}

Status run_rewardbench_v1(const RewardBenchArgs& args) {
  size_t error_rows = 0;
  ARB_ASSIGN(const auto rows, eval::read_preference_rows(args.input, args.pref, &error_rows));
  warn_error_rows(args.input, error_rows);
  const eval::RewardBenchReport report =
      eval::score_rewardbench_v1(rows, args.ties == "half" ? eval::TieCredit::kHalf : eval::TieCredit::kNone);
  // Rows of no RewardBench subset (another benchmark, or another --subset-field) have no score to give.
  if (std::none_of(report.sections.begin(), report.sections.end(), [](const eval::SectionScore& s) { return s.present; })) {
    std::string subsets;
    for (size_t i = 0; i < report.unknown_subsets.size() && i < 5; ++i)
      subsets += (i ? ", " : "") + report.unknown_subsets[i];
    return error(args.input + ": no row is in a RewardBench v1 subset (field '" + args.pref.subset + "' holds " +
                 (subsets.empty() ? std::string("nothing") : subsets) +
                 (report.unknown_subsets.size() > 5 ? ", ..." : "") +
                 "): not RewardBench rows, or the subset is in another field (--subset-field)");
  }
  if (!args.report_dir.empty())
    ARB_TRY(save_eval_report(eval::rewardbench_v1_report(rows, report, args.input), args.report_dir, args.input));
  if (args.as_json) {
    json sections = json::object();
    for (const auto& s : report.sections) sections[s.name] = s.present ? json(100.0 * s.score) : json(nullptr);
    json out = {{"version", 1},
                {"ties", args.ties},
                {"rows", rows.size()},
                {"error_rows", error_rows},
                {"subsets", eval::subset_accuracies_json(report.subsets)},
                {"sections", sections},
                {"overall", number_or_null(100.0 * report.overall)},
                {"complete", report.complete},
                {"missing_subsets", report.missing_subsets},
                {"unknown_subsets", report.unknown_subsets}};
    print_line(data::dump_json(out));
    return Status::ok();
  }
  print_subsets(report.subsets);
  print_line("");
  for (const auto& s : report.sections) {
    char buf[128];
    if (s.present) {
      std::snprintf(buf, sizeof(buf), "%-10s %6.2f", s.name.c_str(), 100.0 * s.score);
    } else {
      std::snprintf(buf, sizeof(buf), "%-10s    -  (no subsets in the input)", s.name.c_str());
    }
    print_line(buf);
  }
  const bool all_sections = std::all_of(report.sections.begin(), report.sections.end(),
                                        [](const eval::SectionScore& s) { return s.present; });
  print_line("Score      " + fixed(100.0 * report.overall, 2) +
             (all_sections ? "" : "  (mean of the sections present only)"));
  if (!report.missing_subsets.empty()) {
    std::string names;
    for (const auto& n : report.missing_subsets) names += (names.empty() ? "" : ", ") + n;
    print_line("not the leaderboard's score: " + std::to_string(report.missing_subsets.size()) +
               " of its 23 subsets are not in the input (" + names + "); each section averages the subsets it has");
  }
  if (!report.unknown_subsets.empty()) {
    std::string names;
    for (const auto& n : report.unknown_subsets) names += (names.empty() ? "" : ", ") + n;
    print_line("not in any section (not scored): " + names);
  }
  return Status::ok();
}

Status run_rewardbench_v2(const RewardBenchArgs& args) {
  size_t error_rows = 0;
  ARB_ASSIGN(const auto rows, eval::read_best_of_n_rows(args.input, args.best_of_n, &error_rows));
  warn_error_rows(args.input, error_rows);
  auto report = eval::score_rewardbench_v2(rows);
  if (!report) return report.status().with_context(args.input);
  if (!args.report_dir.empty())
    ARB_TRY(save_eval_report(eval::rewardbench_v2_report(rows, *report, args.input), args.report_dir, args.input));
  if (args.as_json) {
    json out = {{"version", 2},
                {"rows", rows.size()},
                {"error_rows", error_rows},
                {"subsets", eval::subset_accuracies_json(report->subsets)},
                {"overall", number_or_null(100.0 * report->overall)}};
    if (report->has_ties) {
      const auto& t = report->ties;
      out["ties"] = {{"score", 100.0 * t.score},
                     {"ref_accuracy", t.ref_accuracy},
                     {"tied_accuracy", t.tied_accuracy},
                     {"correctness_preferred", t.correctness_preferred},
                     {"correctness_preferred_hard", t.correctness_preferred_hard},
                     {"correctness_margin", t.correctness_margin}};
    }
    print_line(data::dump_json(out));
    return Status::ok();
  }
  print_subsets(report->subsets);
  if (report->has_ties) print_line("Ties                                      " + fixed(100.0 * report->ties.score, 2));
  print_line("Score      " + fixed(100.0 * report->overall, 2));
  return Status::ok();
}

Status run_rewardbench(const RewardBenchArgs& args) {
  bool v2 = args.version == "v2";
  if (args.version == "auto") {
    ARB_ASSIGN(v2, looks_like_v2(args));
  }
  if (v2 && args.ties != "wrong")
    return error(args.input + ": --ties applies to RewardBench v1 pairs; RewardBench 2 rows need every correct "
                 "completion strictly above every incorrect one");
  return v2 ? run_rewardbench_v2(args) : run_rewardbench_v1(args);
}

// ---- layers ----

struct LayersArgs {
  std::string input, human_field;
  bool as_json = false;
  std::string report_dir;
};

// A listwise judge's reads: people's label is the same on each (their best response), so each layer is
// measured by accuracy, not by rank correlation.
// An error of `path`'s rows, named by the file: those about one row give its line (FILE:LINE) already.
Status in_file(const Status& status, const std::string& path) {
  return status.message().rfind(path, 0) == 0 ? status : status.with_context(path);
}

Status run_listwise_layers(const LayersArgs& args, const std::vector<eval::LayerRow>& rows, size_t error_rows) {
  auto accuracy = eval::layer_best_first_accuracy(rows);
  if (!accuracy) return in_file(accuracy.status(), args.input);
  if (!args.report_dir.empty())
    ARB_TRY(save_eval_report(eval::layers_accuracy_report(rows.size(), *accuracy, args.input, args.human_field),
                        args.report_dir, args.input));
  if (args.as_json) {
    json layers = json::array();
    for (size_t l = 0; l < accuracy->size(); ++l) layers.push_back({{"layer", l}, {"accuracy", (*accuracy)[l]}});
    print_line(data::dump_json({{"n", rows.size()}, {"error_rows", error_rows}, {"listwise", true}, {"layers", layers}}));
    return Status::ok();
  }
  print_line("n " + std::to_string(rows.size()) + " listwise reads (accuracy: people's best response named best)");
  print_line("layer  accuracy");
  for (size_t l = 0; l < accuracy->size(); ++l) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%5zu  %s", l, fixed((*accuracy)[l], 4).c_str());
    print_line(buf);
  }
  return Status::ok();
}

Status run_layers(const LayersArgs& args) {
  size_t error_rows = 0;
  ARB_ASSIGN(const auto rows, eval::read_layer_rows(args.input, args.human_field, &error_rows));
  warn_error_rows(args.input, error_rows);
  if (eval::all_best_first(rows)) return run_listwise_layers(args, rows, error_rows);
  auto result = eval::layer_spearman(rows);
  if (!result) return in_file(result.status(), args.input);
  if (!args.report_dir.empty())
    ARB_TRY(save_eval_report(eval::layers_report(rows.size(), *result, args.input, args.human_field), args.report_dir, args.input));
  if (args.as_json) {
    json layers = json::array();
    for (const auto& l : *result) layers.push_back({{"layer", l.layer}, {"spearman", number_or_null(l.spearman)}});
    print_line(data::dump_json({{"n", rows.size()}, {"error_rows", error_rows}, {"layers", layers}}));
    return Status::ok();
  }
  print_line("n " + std::to_string(rows.size()));
  print_line("layer  spearman");
  for (const auto& l : *result) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%5d  %s", l.layer, fixed(l.spearman, 4).c_str());
    print_line(buf);
  }
  // Say why a correlation is undefined, as correlate does.
  if (std::all_of(rows.begin(), rows.end(), [&](const eval::LayerRow& r) { return r.human == rows[0].human; }))
    print_line("nan: the human labels '" + args.human_field + "' are all equal, so no correlation is defined");
  else if (std::any_of(result->begin(), result->end(), [](const eval::LayerCorrelation& l) { return std::isnan(l.spearman); }))
    print_line("nan: that layer's expected scores are all equal, so no correlation is defined");
  return Status::ok();
}

// ---- preference ----

struct PreferenceArgs {
  std::string input, score_field = "score", strength_field = "human_preference_strength";
  bool as_json = false;
};

Status run_preference(const PreferenceArgs& args) {
  size_t error_rows = 0;
  ARB_ASSIGN(const auto pairs, eval::read_preference_pairs(args.input, args.score_field, args.strength_field, &error_rows));
  warn_error_rows(args.input, error_rows);
  const eval::PreferenceReport report = eval::score_preferences(pairs);
  if (report.pairs == 0) return error(args.input + ": no pair with a non-zero preference strength");
  if (args.as_json) {
    json by_strength = json::object();
    for (const auto& s : report.by_strength)
      by_strength[std::to_string(s.strength)] = {{"n", s.n}, {"correct", s.correct}, {"accuracy", s.accuracy}};
    print_line(data::dump_json({{"pairs", report.pairs},
                                {"correct", report.correct},
                                {"accuracy", report.accuracy},
                                {"ties_left_out", report.ties},
                                {"error_rows", error_rows},
                                {"by_strength", by_strength}}));
    return Status::ok();
  }
  print_line("pairs     " + std::to_string(report.pairs) + "  (" + std::to_string(report.ties) + " ties left out)");
  print_line("accuracy  " + fixed(100.0 * report.accuracy, 2));
  print_line("|strength|     n  correct  accuracy");
  for (const auto& s : report.by_strength) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "%10d %5zu  %7zu  %8.2f", s.strength, s.n, s.correct, 100.0 * s.accuracy);
    print_line(buf);
  }
  return Status::ok();
}

// ---- processbench ----

struct ProcessBenchArgs {
  std::string input, label_field = "human_first_error_step", report_dir;
  double threshold = 0.5;
  bool as_json = false;
};

json process_bench_json(const eval::ProcessBenchScore& s) {
  auto number = [](double v) { return std::isnan(v) ? json(nullptr) : json(v); };
  return {{"erroneous", s.erroneous}, {"erroneous_accuracy", number(s.erroneous_accuracy)},
          {"correct", s.correct},     {"correct_accuracy", number(s.correct_accuracy)},
          {"f1", number(s.f1)}};
}

Status run_process_bench(const ProcessBenchArgs& args) {
  if (!(args.threshold > 0.0 && args.threshold < 1.0)) return error("--threshold must be between 0 and 1");
  size_t error_rows = 0;
  ARB_ASSIGN(const auto rows, eval::read_step_reward_rows(args.input, args.label_field, &error_rows));
  warn_error_rows(args.input, error_rows);
  if (rows.empty()) return error(args.input + ": no scored solutions");
  const eval::ProcessBenchReport report = eval::process_bench_report(rows, args.threshold);
  if (!args.report_dir.empty())
    ARB_TRY(save_eval_report(eval::process_bench_report_pages(rows.size(), report, args.input), args.report_dir, args.input));
  if (args.as_json) {
    json subsets = json::object();
    for (const auto& [name, score] : report.by_subset) subsets[name] = process_bench_json(score);
    json j = process_bench_json(report.overall);
    j["threshold"] = report.threshold;
    j["best_threshold"] = report.best_threshold;
    j["best_f1"] = std::isnan(report.best_f1) ? json(nullptr) : json(report.best_f1);
    j["error_rows"] = error_rows;
    j["subsets"] = subsets;
    if (!report.by_subset.empty()) j["mean_subset_f1"] = std::isnan(report.mean_subset_f1) ? json(nullptr) : json(report.mean_subset_f1);
    if (report.has_step_labels) {
      const eval::StepLevelScore& s = report.steps;
      auto number = [](double v) { return std::isnan(v) ? json(nullptr) : json(v); };
      j["steps"] = {{"labelled", s.steps},         {"right", s.right},
                    {"wrong", s.wrong},            {"accuracy", number(s.accuracy)},
                    {"right_accuracy", number(s.right_accuracy)}, {"wrong_accuracy", number(s.wrong_accuracy)},
                    {"auroc", number(s.auroc)}};
    }
    print_line(data::dump_json(j));
    return Status::ok();
  }
  auto pct = [](double v) { return std::isnan(v) ? std::string("-") : fixed(100.0 * v, 1); };
  auto line = [&](const std::string& name, const eval::ProcessBenchScore& s) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "%-16s %6zu %8s  %6zu %8s  %6s", name.c_str(), s.erroneous,
                  pct(s.erroneous_accuracy).c_str(), s.correct, pct(s.correct_accuracy).c_str(), pct(s.f1).c_str());
    print_line(buf);
  };
  print_line("threshold " + fixed(report.threshold, 2) + ": a step rewarded at or below it is the predicted first error");
  print_line("subset            wrong  found %   right  clean %      F1");
  for (const auto& [name, score] : report.by_subset) line(name, score);
  line("all", report.overall);
  if (!report.by_subset.empty())
    print_line("mean of the subsets' F1 (ProcessBench's average): " + pct(report.mean_subset_f1));
  if (std::isnan(report.overall.f1))
    print_line("F1 needs solutions both with and without a wrong step");
  else
    print_line("best threshold on these rows " + fixed(report.best_threshold, 2) + ": F1 " + pct(report.best_f1) +
               " (tuned on the evaluated rows: an upper bound)");
  if (report.has_step_labels) {
    const eval::StepLevelScore& s = report.steps;
    print_line("steps labelled one by one: " + std::to_string(s.steps) + " (" + std::to_string(s.right) + " right, " +
               std::to_string(s.wrong) + " wrong): accuracy " + pct(s.accuracy) + " % (right " + pct(s.right_accuracy) +
               ", wrong " + pct(s.wrong_accuracy) + "), AUROC " +
               (std::isnan(s.auroc) ? std::string("-") : fixed(s.auroc, 4)));
  }
  return Status::ok();
}

constexpr const char* kReportHelp = "also write report.json, report.md, SVG figures and report.html into DIR";

CommandRunner setup_eval(CLI::App& sub) {
  sub.require_subcommand(1);
  auto correlate = std::make_shared<CorrelateArgs>();
  CLI::App* c = sub.add_subcommand("correlate", "Spearman, Kendall tau-b and Pearson of predictions vs human labels");
  c->add_option("--pred", correlate->pred_path, "predicted scores: JSON array, JSON array of objects, JSONL, or Parquet")
      ->required();
  c->add_option("--human", correlate->human_path, "human labels, same layouts")->required();
  c->add_option("--pred-field", correlate->pred_field,
                "field holding the prediction when rows are objects (a dotted name reads a nested one: attributes.helpfulness)");
  c->add_option("--human-field", correlate->human_field, "field holding the label when rows are objects");
  c->add_option("--join", correlate->join,
                "pair rows by position (files of the same rows in the same order) or by id (error lines and ids "
                "in one file only are left out, counted)")
      ->capture_default_str()
      ->check(CLI::IsMember({"position", "id"}));
  c->add_option("--id-field", correlate->id_field, "the id field for --join id")->capture_default_str();
  c->add_option("--bootstrap", correlate->bootstrap, "bootstrap resamples for 95% intervals (0: none)")
      ->capture_default_str()
      ->check(non_negative_number());
  c->add_option("--seed", correlate->seed, "bootstrap seed")->capture_default_str()->check(non_negative_number());
  c->add_flag("--json", correlate->as_json, "print one JSON object");
  c->add_option("--report", correlate->report_dir, kReportHelp);

  auto rb = std::make_shared<RewardBenchArgs>();
  CLI::App* r = sub.add_subcommand("rewardbench", "RewardBench v1 sections or RewardBench 2 subsets from scored rows");
  r->add_option("--input", rb->input, "scored rows (JSONL / JSON, optionally .gz, or Parquet)")->required();
  r->add_option("--version", rb->version, "v1, v2 or auto (v2 when rows carry a scores list)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "v1", "v2"}));
  r->add_option("--subset-field", rb->pref.subset, "field naming the subset")->capture_default_str();
  r->add_option("--chosen-field", rb->pref.chosen, "v1: chosen score field")->capture_default_str();
  r->add_option("--rejected-field", rb->pref.rejected, "v1: rejected score field")->capture_default_str();
  r->add_option("--scores-field", rb->best_of_n.scores, "v2: completion scores, correct first")->capture_default_str();
  r->add_option("--num-correct-field", rb->best_of_n.num_correct, "v2: count of correct completions (absent: num_chosen, as score and judge write it, else 1)")
      ->capture_default_str();
  r->add_option("--id-field", rb->best_of_n.id, "v2: row id (Ties: ref:N / tied:N)")->capture_default_str();
  r->add_option("--ties", rb->ties,
                "v1: a row whose chosen and rejected scores are equal counts as wrong (reward models) or half right "
                "(RewardBench's generative judges; e.g. a pairwise judge's vanilla verdicts that change with the order)")
      ->capture_default_str()
      ->check(CLI::IsMember({"wrong", "half"}));
  r->add_flag("--json", rb->as_json, "print one JSON object");
  r->add_option("--report", rb->report_dir, kReportHelp);

  auto layers = std::make_shared<LayersArgs>();
  CLI::App* l = sub.add_subcommand("layers", "per-layer Spearman of expected scores from per_layer_logits rows");
  l->add_option("--input", layers->input, "rows with per_layer_logits [L+1][K] and score_values [K]")->required();
  l->add_option("--human-field", layers->human_field, "field holding the human label")->required();
  l->add_flag("--json", layers->as_json, "print one JSON object");
  l->add_option("--report", layers->report_dir, kReportHelp);

  auto pref = std::make_shared<PreferenceArgs>();
  CLI::App* p = sub.add_subcommand(
      "preference", "pairwise accuracy against graded preferences (HelpSteer2-Preference, HelpSteer3) from scored rows");
  p->add_option("--input", pref->input, "scored rows of preference pairs (score or judge output)")->required();
  p->add_option("--score-field", pref->score_field, "the score of each response (judge runs: lager, expected, ...)")
      ->capture_default_str();
  p->add_option("--strength-field", pref->strength_field, "the human strength, -3..3, negative prefers response 1")
      ->capture_default_str();
  p->add_flag("--json", pref->as_json, "print one JSON object");

  auto pb = std::make_shared<ProcessBenchArgs>();
  CLI::App* b = sub.add_subcommand(
      "processbench", "first-wrong-step F1 of a process reward model (ProcessBench) from scored step rows");
  b->add_option("--input", pb->input, "rows with step_rewards (`arbiter score` with a process reward model)")->required();
  b->add_option("--label-field", pb->label_field, "the human first wrong step, -1 for none")->capture_default_str();
  b->add_option("--threshold", pb->threshold, "a step rewarded at or below this is the predicted first error")
      ->capture_default_str();
  b->add_flag("--json", pb->as_json, "print one JSON object");
  b->add_option("--report", pb->report_dir, kReportHelp);

  const EvalSubcommand rm_bench = add_rm_bench_subcommand(sub);
  const EvalSubcommand compare = add_compare_subcommand(sub);

  return [=]() -> Status {
    rb->best_of_n.subset = rb->pref.subset;
    if (rm_bench.app->parsed()) return rm_bench.run();
    if (compare.app->parsed()) return compare.run();
    if (b->parsed()) return run_process_bench(*pb);
    if (p->parsed()) return run_preference(*pref);
    if (c->parsed()) return run_correlate(*correlate);
    if (r->parsed()) return run_rewardbench(*rb);
    if (l->parsed()) return run_layers(*layers);
    return error("no eval subcommand given");
  };
}

const CommandRegistration kEval{{"eval", setup_eval, "evaluate scores against human labels", 60}};

}  // namespace
}  // namespace arbiter::cli
