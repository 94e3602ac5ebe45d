// eval rmbench: RM-Bench's easy / normal / hard accuracy per domain from a scored file (`arbiter score`
// of RM-Bench rows writes each row's six scores, chosen first, with num_chosen and domain).
#include "cli/eval_subcommand.h"

#include <cmath>
#include <cstdio>
#include <memory>

#include "cli/output_format.h"
#include "cli/run_record.h"
#include "core/log.h"
#include "data/json_rows.h"
#include "eval/report.h"
#include "eval/report_builders.h"
#include "eval/rm_bench.h"
#include "eval/score_files.h"

namespace arbiter::cli {

namespace {

struct RmBenchArgs {
  std::string input;
  eval::RmBenchFields fields;
  bool as_json = false;
  std::string report_dir;
};

std::string percent(double v) { return std::isnan(v) ? "     -" : fixed(100.0 * v, 2); }

void print_scores(const std::string& name, const eval::RmBenchScores& s) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-18s %6zu  %6s  %6s  %6s  %6s", name.c_str(), s.n, percent(s.easy).c_str(),
                percent(s.normal).c_str(), percent(s.hard).c_str(), percent(s.average).c_str());
  print_line(buf);
}

Status run_rm_bench(const RmBenchArgs& args) {
  size_t error_rows = 0;
  ARB_ASSIGN(const std::vector<eval::RmBenchRow> rows, eval::read_rm_bench_rows(args.input, args.fields, &error_rows));
  if (error_rows > 0)
    log_warn(args.input + ": " + std::to_string(error_rows) + " error lines of the scoring run left out of the results");
  auto report = eval::score_rm_bench(rows);
  if (!report) return report.status().with_context(args.input);
  if (!args.report_dir.empty()) {
    ARB_TRY(save_eval_report(eval::rm_bench_report(*report, rows.size(), error_rows, args.input), args.report_dir,
                             args.input));
  }
  if (args.as_json) {
    print_line(data::dump_json(eval::rm_bench_json(*report, rows.size(), error_rows)));
    return Status::ok();
  }
  print_line("domain                  n    easy  normal    hard     avg");
  for (const auto& [name, s] : report->domains) {
    print_scores(name, s);
    if (name == "safety")
      for (const auto& [sub, t] : report->subdomains) print_scores("  " + sub, t);
  }
  print_scores("mean of domains", report->overall);
  return Status::ok();
}

}  // namespace

EvalSubcommand add_rm_bench_subcommand(CLI::App& eval) {
  auto args = std::make_shared<RmBenchArgs>();
  CLI::App* app = eval.add_subcommand(
      "rmbench", "RM-Bench easy / normal / hard accuracy per domain (chosen vs rejected in every pair of styles)");
  app->add_option("--input", args->input, "scored RM-Bench rows (`arbiter score` output; JSONL / JSON / Parquet)")
      ->required();
  app->add_option("--scores-field", args->fields.scores, "the scores, chosen responses first")->capture_default_str();
  app->add_option("--num-chosen-field", args->fields.num_chosen, "how many of the scores are chosen responses")
      ->capture_default_str();
  app->add_option("--domain-field", args->fields.domain, "the row's domain (safety-refuse / safety-response: safety)")
      ->capture_default_str();
  app->add_option("--comparison-score", args->fields.comparison_score,
                  "a pairwise judge's rows: the credit (lager, expected or vanilla) that decides each chosen / "
                  "rejected comparison, averaged over the orders shown")
      ->capture_default_str();
  app->add_flag("!--no-comparisons", args->fields.use_comparisons,
                "a pairwise judge's rows: compare the responses' win rates (scores) instead of each pair's verdict");
  app->add_flag("--json", args->as_json, "print one JSON object (with each domain's style matrix)");
  app->add_option("--report", args->report_dir, "also write report.json, report.md, SVG figures and report.html into DIR");
  return {app, [args]() { return run_rm_bench(*args); }};
}

}  // namespace arbiter::cli
