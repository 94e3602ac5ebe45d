// arbiter train: what is cheap to train on a frozen backbone.
//   train lager  LAGER layer weights from per-layer judge rows (Adam, the paper's defaults)
//   train head   a linear reward head on features: regression, BT variants, or regression then Scaled BT
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cli/command.h"
#include "cli/option_checks.h"
#include "cli/job_setup.h"
#include "cli/run_record.h"
#include "core/atomic_file.h"
#include "core/log.h"
#include "core/same_file.h"
#include "data/json_rows.h"
#include "eval/score_files.h"
#include "model/fingerprint.h"
#include "model/model.h"
#include "train/features_file.h"
#include "train/head_train.h"
#include "train/hf_export.h"
#include "train/lager.h"
#include "train/lager_fit.h"
#include "train/split.h"

#include "cli/output_format.h"

namespace arbiter::cli {
namespace {

using nlohmann::json;

// Training progress on stderr: a redrawn line on a terminal, a plain line every `every` steps otherwise.
class StepPrinter {
 public:
  StepPrinter(int64_t every) : every_(every), tty_(isatty(STDERR_FILENO) == 1) {}
  void step(int64_t step, int64_t total, int epoch, double batch_loss, double mean_loss) {
    if (log_level() < LogLevel::kInfo) return;
    char buf[200];
    std::snprintf(buf, sizeof(buf), "step %lld/%lld  epoch %d  loss %.4f  epoch mean %.4f", (long long)step,
                  (long long)total, epoch, batch_loss, mean_loss);
    if (tty_) {
      // Redraw at most every 100 ms: a million tiny steps must not flood the terminal.
      const auto now = std::chrono::steady_clock::now();
      if (step != total && now - last_draw_ < std::chrono::milliseconds(100)) return;
      last_draw_ = now;
      const int width = 30;
      const int filled = total > 0 ? int(width * step / total) : 0;
      std::fprintf(stderr, "\r[%s%s] %s", std::string(size_t(filled), '#').c_str(),
                   std::string(size_t(width - filled), '.').c_str(), buf);
      if (step == total) std::fputc('\n', stderr);
    } else if (step % every_ == 0 || step == total) {
      std::fprintf(stderr, "%s\n", buf);
    }
  }

 private:
  int64_t every_;
  bool tty_;
  std::chrono::steady_clock::time_point last_draw_{};
};

// ---- lager ----

struct LagerArgs {
  std::string input, human_field, out, report_json, target = "soft";
  train::LagerFitOptions fit;
  double validation_fraction = 0.2;
  int64_t log_every = 0;
};

// An output that is an input (or another output) would be destroyed by the write: refused before any
// work, as the other commands refuse it. Pairs are (option, path); empty paths are not given.
using NamedPath = std::pair<std::string, std::string>;
Status check_outputs_apart(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs) {
  for (size_t o = 0; o < outputs.size(); ++o) {
    const auto& [out_option, out] = outputs[o];
    if (out.empty()) continue;
    for (const auto& [in_option, in] : inputs) {
      if (in.empty()) continue;
      if (data::reads_file(in, out) || same_place(in, out))
        return error(out_option + " " + out + " is the file " + in_option + " names: writing it would destroy what is read");
      // A folder on either side (--backbone, --export-hf-dir): a file inside it is written or read too.
      if (is_inside(out, in))
        return error(out_option + " " + out + " lies inside " + in_option + " " + in + ": writing it would change what is read");
      if (is_inside(in, out))
        return error(in_option + " " + in + " lies inside " + out_option + " " + out + ": writing it would destroy what is read");
    }
    for (size_t p = 0; p < o; ++p)
      if (same_place(outputs[p].second, out) || is_inside(out, outputs[p].second) || is_inside(outputs[p].second, out))
        return error(out_option + " " + out + " is also " + outputs[p].first + ": one would overwrite the other");
  }
  return Status::ok();
}

// Judged rows in the order of their ids, each row's items together, when every row has one: the shards of
// a `judge --shard` run concatenated in any order then give the seeded split and shuffle the rows the
// whole run's file gives. Rows without ids stay in file order.
void order_by_row_id(std::vector<eval::LayerRow>& rows) {
  for (const eval::LayerRow& row : rows)
    if (row.id.empty()) return;
  std::stable_sort(rows.begin(), rows.end(), [](const eval::LayerRow& a, const eval::LayerRow& b) { return a.id < b.id; });
  // Groups renumbered in that order (train::split_groups takes them in ascending order).
  size_t group = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i == 0 || rows[i].id != rows[i - 1].id) ++group;
    rows[i].group = group;
  }
}

Status run_lager(const LagerArgs& args) {
  ARB_TRY(check_outputs_apart({{"--input", args.input}}, {{"--out", args.out}, {"--report-json", args.report_json}}));
  ARB_ASSIGN(auto rows, eval::read_layer_rows(args.input, args.human_field));
  order_by_row_id(rows);
  Status checked = train::check_layer_rows(rows);
  // Errors about a row name its line (FILE:LINE) already.
  if (!checked) return checked.message().rfind(args.input, 0) == 0 ? checked : checked.with_context(args.input);
  if (rows.size() < 2) return error(args.input + ": need at least 2 rows");
  train::LagerFitOptions fit = args.fit;
  fit.target = args.target == "nearest" ? train::LagerTarget::kNearest : train::LagerTarget::kSoft;
  // Items of one file row (a pairwise judge's comparisons) stay on one side of the split.
  std::vector<size_t> groups;
  for (const auto& row : rows) groups.push_back(row.group);
  train::Split split = train::split_groups(groups, args.validation_fraction, fit.seed);
  // One row held out is too few to report on (no correlation of one point): it is trained on with the
  // rest, and the report is on the training rows, rather than the row being left out of both.
  if (split.validation.size() == 1) {
    log_warn("one row would be held out, too few to report on: it is trained on too, and the report is on the "
             "training rows (--validation-fraction picks a larger share)");
    split.train.insert(std::upper_bound(split.train.begin(), split.train.end(), split.validation[0]), split.validation[0]);
    split.validation.clear();
  }
  const bool held_out = split.validation.size() >= 2;
  const size_t n_layers = rows[0].per_layer_logits.size();
  print_line("rows " + std::to_string(rows.size()) + " (train " + std::to_string(split.train.size()) +
             ", validation " + std::to_string(split.validation.size()) + "), layers " + std::to_string(n_layers) +
             ", score values " + std::to_string(rows[0].score_values.size()));

  const int64_t total = int64_t((split.train.size() + size_t(fit.batch) - 1) / size_t(fit.batch)) * fit.epochs;
  StepPrinter printer(args.log_every > 0 ? args.log_every : std::max<int64_t>(1, total / 20));
  json loss_curve = json::array();
  const int64_t curve_every = std::max<int64_t>(1, total / 200);
  ARB_ASSIGN(train::LagerWeights weights, train::fit_lager(rows, split.train, fit, [&](const train::LagerStep& s) {
    printer.step(s.step, s.total_steps, s.epoch, s.batch_loss, s.epoch_mean_loss);
    if (s.step % curve_every == 0 || s.step == s.total_steps)
      loss_curve.push_back({{"step", s.step}, {"epoch", s.epoch}, {"loss", s.batch_loss}, {"epoch_mean", s.epoch_mean_loss}});
  }));
  // The report first: a run that cannot report (too few rows on a side) leaves an older --out as it was.
  const std::vector<size_t>& eval_rows = held_out ? split.validation : split.train;
  auto report = train::lager_report(rows, eval_rows, weights);
  if (!report)
    return report.status().with_context(args.input + " (" + std::to_string(eval_rows.size()) + " " +
                                        (held_out ? "validation" : "training") + " rows of " +
                                        std::to_string(rows.size()) + ")");
  // The judge run the reads came from, where its record is beside them: a judge that applies these weights
  // with another model or readout is told so.
  if (const auto record = read_run_record(args.input)) {
    weights.judge_model = record->value("model", "");
    weights.judge_fingerprint = record->value("model_fingerprint", "");
    weights.judge_settings = RunSettings::from_json(*record).only(train::lager_readout_options());
  }
  ARB_ASSIGN(const std::string weights_text, train::lager_weights_text(args.out, weights));
  const std::string on = held_out ? "validation" : "training";
  if (report->listwise) {
    // People's label is the same on every read (their best response, moved first): accuracy, not rank.
    print_line("listwise accuracy (people's best response named best) on the " + on + " reads (" +
               std::to_string(eval_rows.size()) + "):");
    print_line("layer  accuracy  weight");
    for (size_t l = 0; l < report->per_layer_accuracy.size(); ++l) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), "%5zu  %8s  %.4f", l, fixed(report->per_layer_accuracy[l], 4).c_str(),
                    weights.layer_weights[l]);
      print_line(buf);
    }
    print_line("final layer    " + fixed(report->final_layer_accuracy, 4));
    print_line("LAGER uniform  " + fixed(report->uniform_accuracy, 4));
    print_line("LAGER tuned    " + fixed(report->tuned_accuracy, 4));
  } else {
    print_line("Spearman with " + args.human_field + " on the " + on + " rows (" + std::to_string(eval_rows.size()) + "):");
    print_line("layer  spearman  weight");
    for (const auto& l : report->per_layer) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), "%5d  %8s  %.4f", l.layer, fixed(l.spearman, 4).c_str(),
                    weights.layer_weights[size_t(l.layer)]);
      print_line(buf);
    }
    print_line("final layer (expected score)  " + fixed(report->final_layer, 4));
    print_line("LAGER uniform                 " + fixed(report->uniform, 4));
    print_line("LAGER tuned                   " + fixed(report->tuned, 4));
    const double first_label = rows[eval_rows.front()].human;
    if (std::all_of(eval_rows.begin(), eval_rows.end(), [&](size_t i) { return rows[i].human == first_label; }))
      print_line("(nan: the " + on + " rows' " + args.human_field + " labels are all equal, so no correlation is defined)");
  }
  if (report->pairwise) {
    // A pairwise judge's comparisons (each item where says "comparisons[...]"), or a yes / no judge's rows.
    const bool comparisons = std::all_of(eval_rows.begin(), eval_rows.end(), [&](size_t i) {
      return rows[i].where.find("(comparisons[") != std::string::npos;
    });
    print_line((comparisons ? "pairwise accuracy on the " + on + " comparisons"
                            : "accuracy of the 0/1 verdicts on the " + on + " rows") +
               ": final layer " + fixed(report->final_layer_accuracy, 4) +
               ", LAGER uniform " + fixed(report->uniform_accuracy, 4) + ", LAGER tuned " +
               fixed(report->tuned_accuracy, 4));
  }
  std::string report_text;
  if (!args.report_json.empty()) {
    json layers = json::array();
    for (const auto& l : report->per_layer)
      layers.push_back({{"layer", l.layer}, {"spearman", number_or_null(l.spearman)},
                        {"weight", weights.layer_weights[size_t(l.layer)]}});
    json doc = {{"rows", rows.size()},
                {"train_rows", split.train.size()},
                {"validation_rows", split.validation.size()},
                {"evaluated_on", on},
                {"evaluated_rows", eval_rows.size()},
                {"per_layer", layers},
                {"final_layer", number_or_null(report->final_layer)},
                {"uniform", number_or_null(report->uniform)},
                {"tuned", number_or_null(report->tuned)},
                {"a", weights.a},
                {"final_loss", weights.train.final_loss},
                {"loss_curve", loss_curve},
                {"weights", args.out}};
    if (report->pairwise || report->listwise)
      doc[report->pairwise ? "pairwise_accuracy" : "listwise_accuracy"] = {{"final_layer", report->final_layer_accuracy},
                                                                         {"uniform", report->uniform_accuracy},
                                                                         {"tuned", report->tuned_accuracy}};
    if (report->listwise) doc["per_layer_accuracy"] = report->per_layer_accuracy;
    report_text = data::dump_json(doc) + "\n";
  }
  // The weights and the report are written together: a run that cannot write its report leaves an older
  // --out as it was.
  std::vector<std::pair<std::string, std::string_view>> files = {{args.out, weights_text}};
  if (!args.report_json.empty()) files.emplace_back(args.report_json, report_text);
  ARB_TRY(write_files_atomically(files));
  print_line("final loss " + fixed(weights.train.final_loss, 4) + ", a " + fixed(weights.a, 4) + " -> " + args.out);
  return Status::ok();
}

// ---- head ----

struct HeadArgs {
  std::string features, labels, objective = "regression", out, attributes = "all", regression_features;
  std::string report_json, export_hf_dir, backbone;
  std::set<std::string> given;  // the options given on the command line (not left at their defaults)
  train::HeadTrainOptions options;
  double ridge = -1.0, expo_alpha = 0.0;
  bool no_standardize = false;
};

const char* const kHelpSteer2Attributes[] = {"helpfulness", "correctness", "coherence", "complexity", "verbosity"};

json epoch_json(const train::EpochReport& e) {
  json j = {{"epoch", e.epoch}, {"train_loss", e.train_loss}, {"validation_loss", number_or_null(e.validation_loss)}};
  if (!std::isnan(e.validation_accuracy)) j["validation_accuracy"] = e.validation_accuracy;
  if (!std::isnan(e.validation_auroc)) j["validation_auroc"] = e.validation_auroc;
  if (!e.validation_spearman.empty()) {
    json rho = json::array(), rmse = json::array();
    for (double v : e.validation_spearman) rho.push_back(number_or_null(v));
    for (double v : e.validation_rmse) rmse.push_back(number_or_null(v));
    j["validation_spearman"] = rho;
    j["validation_rmse"] = rmse;
  }
  return j;
}

// An epoch's losses and validation figures: progress, which -q leaves out (the report file keeps them all).
void print_epoch(const std::string& stage, const train::EpochReport& e) {
  if (log_level() < LogLevel::kInfo) return;
  std::string line = stage + "epoch " + std::to_string(e.epoch) + "  train " + fixed(e.train_loss, 4);
  if (!std::isnan(e.validation_loss)) line += "  validation " + fixed(e.validation_loss, 4);
  if (!std::isnan(e.validation_accuracy)) line += "  accuracy " + fixed(e.validation_accuracy, 4);
  if (!std::isnan(e.validation_auroc)) line += "  AUROC " + fixed(e.validation_auroc, 4);
  for (size_t t = 0; t < e.validation_spearman.size(); ++t)
    line += "  [" + std::to_string(t) + "] spearman " + fixed(e.validation_spearman[t], 4) + " rmse " +
            fixed(e.validation_rmse[t], 4);
  print_line(line);
}

// A head fitted to fewer rows than it has weights can match its training rows exactly and still say
// nothing about other responses; the run goes on (a smoke test is a fair use), but says so.
// `penalties`: the options that add a penalty to this stage.
void warn_few_training_rows(const std::string& stage, size_t rows, const std::string& unit, int64_t dim,
                            bool penalised, const std::string& penalties = "--weight-decay") {
  if (rows <= 1) {
    log_warn("the " + stage + " stage trains on " + std::to_string(rows) + " " + unit + (rows == 1 ? "" : "s") +
             ": the head memorises it and says nothing about other responses");
  } else if (int64_t(rows) < dim && !penalised) {
    log_warn("the " + stage + " stage trains on " + std::to_string(rows) + " " + unit + "s for " + std::to_string(dim) +
             " features without a penalty: it can fit them exactly; judge it by held-out figures (--validation-fraction), "
             "or add " + penalties);
  }
}

// A line of what train head does and wrote: -q ("errors only") leaves it out; the report file keeps it all.
void print_info(const std::string& text) {
  if (log_level() >= LogLevel::kInfo) print_line(text);
}

// How a stage held rows out, said once per features file where it is not by prompt (files written before
// they named their rows' prompts).
void note_split(const train::HeadTrainResult& result, const std::string& features, const std::string& unit,
                std::set<std::string>& warned) {
  if (result.validation_rows == 0) return;
  if (!result.split_by_prompt && warned.insert(features).second) {
    log_warn(features + " does not name its rows' prompts (written before features files kept them): " + unit +
             "s are held out one by one, so a held-out response may answer a prompt that is trained on, and the "
             "held-out figures flatter the head; extract the features again to hold out whole prompts");
  }
}

// HelpSteer2's attributes are rated 0 to 4: a label outside that range under one of their names is most
// likely another scale or another column. Regression has no scale of its own, so this is said, not refused.
void warn_off_scale_attributes(const train::FeatureSet& set, const std::vector<std::string>& attributes,
                               const std::string& features) {
  for (const std::string& name : attributes) {
    if (std::find(std::begin(kHelpSteer2Attributes), std::end(kHelpSteer2Attributes), name) == std::end(kHelpSteer2Attributes))
      continue;
    const auto it = set.labels.find(name);
    if (it == set.labels.end()) continue;
    size_t outside = 0, first = 0;
    for (size_t i = 0; i < it->second.size(); ++i)
      if (it->second[i] < 0.0 || it->second[i] > 4.0) first = outside++ == 0 ? i : first;
    if (outside > 0)
      log_warn(features + ": " + std::to_string(outside) + " rows have " + name + " outside HelpSteer2's 0-4 scale (the first: " +
               "row " + std::to_string(first) + (first < set.ids.size() ? ", id " + set.ids[first] : "") + ", " +
               data::dump_json(json(it->second[first])) + ")");
  }
}

// A logistic head on a label of one class learns a constant, and its accuracy is that class's share.
void warn_one_class(const train::FeatureSet& set, const std::string& label, const std::string& features) {
  const auto it = set.labels.find(label);
  if (it == set.labels.end()) return;
  size_t positive = 0, negative = 0;
  for (double v : it->second) {
    if (std::isnan(v)) continue;
    (v >= 0.5 ? positive : negative) += 1;
  }
  if (positive == 0 || negative == 0)
    log_warn(features + ": every row labelled " + label + " is " + (positive == 0 ? "below" : "at or above") +
             " 0.5 (one class): the head learns a constant, and its accuracy is that class's share of the rows");
}

Result<train::FeatureSet> load_features(const std::string& path, const std::string& labels_path,
                                        const std::vector<std::string>& label_names) {
  ARB_ASSIGN(train::FeatureSet set, train::read_features(path));
  if (!labels_path.empty()) ARB_TRY(train::merge_labels_file(set, labels_path, label_names));
  return set;
}

Status run_head(const HeadArgs& args) {
  ARB_TRY(check_outputs_apart({{"--features", args.features}, {"--labels", args.labels},
                               {"--regression-features", args.regression_features}, {"--backbone", args.backbone}},
                              {{"--out", args.out}, {"--report-json", args.report_json},
                               {"--export-hf-dir", args.export_hf_dir}}));
  train::HeadTrainOptions options = args.options;
  options.standardize = !args.no_standardize;
  const bool binary = args.objective == "binary";
  const bool pairwise = args.objective != "regression" && !binary;
  if (!std::isfinite(args.expo_alpha)) return error("--expo-alpha must be a finite number, not " + std::to_string(args.expo_alpha));
  if (args.expo_alpha != 0.0 && args.objective != "combined")
    return error("--expo-alpha needs --objective combined (ExPO extrapolates from the regression head)");
  if (args.ridge >= 0.0 && args.objective != "regression") return error("--ridge is for --objective regression");
  // An option the chosen fit does not read is refused rather than silently dropped.
  if (args.ridge >= 0.0)
    for (const char* name : {"--lr", "--batch", "--epochs", "--patience", "--weight-decay", "--no-standardize"})
      if (args.given.count(name))
        return error(std::string(name) + " is an option of the Adam fit; --ridge solves in closed form on the raw "
                     "features (its penalty is --ridge itself)");
  if (args.given.count("--attributes") && (pairwise || args.objective == "combined"))
    return error("--attributes is for --objective regression or binary: a pair objective trains on "
                 "preference_strength, and combined's regression stage on helpfulness");
  if (args.given.count("--regression-features") && args.objective != "combined")
    return error("--regression-features is the regression stage of --objective combined");
  if (!args.export_hf_dir.empty() && args.backbone.empty()) return error("--export-hf-dir needs --backbone");
  if (args.export_hf_dir.empty() && !args.backbone.empty())
    return error("--backbone is the model an --export-hf-dir directory is built on; give --export-hf-dir, or leave it out");
  if (!args.export_hf_dir.empty() && binary)
    return error("--export-hf-dir: a binary head's score is a logit read as a probability (per step, for a process "
                 "reward model), which a *ForSequenceClassification directory cannot say; score with --head");

  std::vector<std::string> label_names;
  if (pairwise) {
    label_names = {"preference_strength"};
  } else if (binary) {
    // One label: `arbiter features --step-tag` writes step_correct.
    label_names = {args.attributes == "all" ? "step_correct" : args.attributes};
    if (label_names[0].find(',') != std::string::npos)
      return error("--objective binary trains on one label: give one name with --attributes");
  } else if (args.attributes == "all") {
    label_names.assign(std::begin(kHelpSteer2Attributes), std::end(kHelpSteer2Attributes));
  } else {
    std::stringstream list(args.attributes);
    for (std::string name; std::getline(list, name, ',');) {
      if (name.empty()) continue;
      if (std::find(label_names.begin(), label_names.end(), name) != label_names.end())
        return error("--attributes names '" + name + "' twice");
      label_names.push_back(name);
    }
  }
  // Its errors name the file they are about (the features or the labels).
  ARB_ASSIGN(const train::FeatureSet set, load_features(args.features, args.labels, label_names));
  print_info("features " + args.features + ": " + std::to_string(set.rows) + " rows x " +
             std::to_string(set.responses) + " responses x d " + std::to_string(set.dim) +
             (set.layer.empty() ? "" : ", layer " + set.layer));

  // What the export needs is known now: a run that cannot export fails before its training time is spent.
  std::shared_ptr<Model> backbone;
  if (!args.export_hf_dir.empty()) {
    ARB_ASSIGN(backbone, load_model(args.backbone));
    ARB_TRY(train::check_hf_export(args.backbone, set.layer, set.dim, args.export_hf_dir));
  }

  if ((args.objective == "regression" || binary) && set.responses != 1)
    return error(args.features + ": " + args.objective + " needs features with 1 response per row, got " +
                 std::to_string(set.responses) + " (pairs train with --objective bt, bt-margin, bt-scaled)");
  if (pairwise && set.responses != 2)
    return error(args.features + ": --objective " + args.objective + " needs features with 2 responses per row, got " +
                 std::to_string(set.responses));
  json report = {{"objective", args.objective}, {"features", args.features}};
  train::RewardHead head;
  std::set<std::string> split_warned;  // the features files the split warning named
  if (args.objective == "regression" || args.objective == "combined") {
    train::FeatureSet combined_rated;
    const train::FeatureSet* rated = &set;
    std::vector<std::string> attributes;
    if (args.objective == "combined") {
      if (args.regression_features.empty())
        return error("--objective combined needs --regression-features (rated rows with label.helpfulness)");
      auto r = train::read_features(args.regression_features);
      if (!r) return r.status().with_context(args.regression_features);
      combined_rated = std::move(*r);
      // The regression stage is the preference stage's starting point: both read one model's one stream,
      // or the head starts from weights fitted to other hidden states (and says it came from these).
      if (!combined_rated.same_model_as(set))
        return error(args.regression_features + ": features of model '" + combined_rated.model + "' (" +
                     combined_rated.model_fingerprint + "), where " + args.features + " has '" + set.model + "' (" +
                     set.model_fingerprint + "): the two stages of a combined head read one model");
      if (combined_rated.layer != set.layer)
        return error(args.regression_features + ": features of layer '" + combined_rated.layer + "', where " +
                     args.features + " has '" + set.layer + "': the two stages of a combined head read one stream");
      if (combined_rated.dim != set.dim)
        return error(args.regression_features + ": features of width " + std::to_string(combined_rated.dim) + ", where " +
                     args.features + " has " + std::to_string(set.dim));
      rated = &combined_rated;
      attributes = {"helpfulness"};
    } else {
      auto resolved = train::resolve_attributes(set, args.attributes);
      if (!resolved) return resolved.status().with_context(args.features);
      attributes = *resolved;
    }
    std::string names;
    for (const auto& a : attributes) names += (names.empty() ? "" : ", ") + a;
    print_info(std::string(args.ridge >= 0 ? "ridge regression (lambda " + fixed(args.ridge, 4) + ")" : "regression") +
               " on " + names);
    auto result = train::train_regression_head(*rated, attributes, options, args.ridge,
                                               [&](const train::EpochReport& e) { print_epoch("regression ", e); });
    if (!result) return result.status().with_context(args.objective == "combined" ? args.regression_features : args.features);
    // --ridge is a regression head's alone (not the combined recipe's regression stage).
    warn_few_training_rows("regression", result->train_rows, "row", rated->dim, args.ridge > 0 || options.weight_decay > 0,
                           args.objective == "regression" ? "--weight-decay or --ridge" : "--weight-decay");
    note_split(*result, args.objective == "combined" ? args.regression_features : args.features, "row", split_warned);
    warn_off_scale_attributes(*rated, attributes, args.objective == "combined" ? args.regression_features : args.features);
    json epochs = json::array();
    for (const auto& e : result->epochs) epochs.push_back(epoch_json(e));
    report["regression"] = {{"attributes", attributes}, {"epochs", epochs}, {"best_epoch", result->best_epoch},
                            {"train_rows", result->train_rows}, {"validation_rows", result->validation_rows},
                            {"held_out", result->split_by_prompt ? "prompts" : "rows"}};
    head = result->head;
  }
  if (binary) {
    print_info("logistic regression on " + label_names[0]);
    auto result = train::train_binary_head(set, label_names[0], options,
                                           [&](const train::EpochReport& e) { print_epoch("binary ", e); });
    if (!result) return result.status().with_context(args.features);
    warn_few_training_rows("logistic", result->train_rows, "row", set.dim, options.weight_decay > 0);
    note_split(*result, args.features, "row", split_warned);
    warn_one_class(set, label_names[0], args.features);
    json epochs = json::array();
    for (const auto& e : result->epochs) epochs.push_back(epoch_json(e));
    report["binary"] = {{"label", label_names[0]}, {"epochs", epochs}, {"best_epoch", result->best_epoch},
                        {"train_rows", result->train_rows}, {"validation_rows", result->validation_rows},
                        {"held_out", result->split_by_prompt ? "prompts" : "rows"}};
    head = result->head;
  }
  if (pairwise) {
    const train::PairObjective objective = args.objective == "bt"          ? train::PairObjective::kBT
                                           : args.objective == "bt-margin" ? train::PairObjective::kBTMargin
                                                                           : train::PairObjective::kBTScaled;
    const bool from_regression = args.objective == "combined";
    print_info(from_regression ? "bt-scaled from the helpfulness regression head" : args.objective);
    auto result = train::train_pair_head(set, objective, options, from_regression ? &head : nullptr,
                                         [&](const train::EpochReport& e) { print_epoch("pairs ", e); });
    if (!result) return result.status().with_context(args.features);
    warn_few_training_rows("pairwise", result->train_rows, "pair", set.dim, options.weight_decay > 0);
    note_split(*result, args.features, "pair", split_warned);
    json epochs = json::array();
    for (const auto& e : result->epochs) epochs.push_back(epoch_json(e));
    report["pairs"] = {{"epochs", epochs}, {"best_epoch", result->best_epoch}, {"train_pairs", result->train_rows},
                       {"validation_pairs", result->validation_rows}, {"held_out", result->split_by_prompt ? "prompts" : "pairs"}};
    if (from_regression && args.expo_alpha != 0.0) {
      ARB_ASSIGN(train::RewardHead extrapolated, train::extrapolate_head(head, result->head, args.expo_alpha));
      auto pairs = train::pairs_from_features(set);
      if (pairs && !result->validation_indices.empty()) {
        const double before = train::pair_accuracy(result->head, set, *pairs, result->validation_indices);
        const double after = train::pair_accuracy(extrapolated, set, *pairs, result->validation_indices);
        print_info("ExPO alpha " + fixed(args.expo_alpha, 3) + ": validation accuracy " + fixed(before, 4) + " -> " +
                   fixed(after, 4));
        report["expo"] = {{"alpha", args.expo_alpha}, {"validation_accuracy_before", before},
                          {"validation_accuracy_after", after}};
      }
      head = std::move(extrapolated);
    } else {
      head = result->head;
    }
  }
  if (args.objective == "combined") head.objective = "combined";
  if (head.layer.empty()) head.layer = set.layer;
  head.model = set.model;
  head.model_fingerprint = set.model_fingerprint;
  head.model_commit = set.model_commit;
  head.feature_settings = set.settings;
  // The head and the report are written together, last, and only when everything before succeeded: a
  // run that fails (an export, a report that cannot be written) leaves an older --out as it was.
  ARB_ASSIGN(const std::string head_bytes, train::reward_head_bytes(args.out, head));
  report["out"] = args.out;
  report["labels"] = head.labels;
  if (!args.export_hf_dir.empty()) {
    // The directory's scores are the head's only on the backbone it was trained on, read as it was read.
    if (const std::string ours = head.model_fingerprint.empty() ? "" : model_fingerprint(*backbone);
        !ours.empty() && ours != head.model_fingerprint)
      log_warn(args.features + " holds features of " + head.model + " (fingerprint " + head.model_fingerprint + "); " +
               args.backbone + " fingerprints " + ours + ": the exported classifier puts the head on another model");
    if (const std::vector<std::string> differences =
            formatting_differences(head, RunSettings{}, "by a Hugging Face classifier, which formats nothing itself");
        !differences.empty()) {
      std::string message = "the head was trained on sequences formatted with options the exported directory does not "
                            "carry:";
      for (const std::string& d : differences) message += "\n  " + d;
      log_warn(message + "\nscore it with the same options (arbiter score ... with them), or format its input the same way");
    }
    std::vector<std::string> warnings;
    ARB_TRY(train::export_hf_classifier(args.backbone, head, args.export_hf_dir, warnings));
    for (const auto& w : warnings) log_warn(w);
    print_info("Hugging Face sequence classifier -> " + args.export_hf_dir);
    report["export_hf_dir"] = args.export_hf_dir;
  }
  const std::string report_text = data::dump_json(report) + "\n";
  std::vector<std::pair<std::string, std::string_view>> files = {{args.out, head_bytes}};
  if (!args.report_json.empty()) files.emplace_back(args.report_json, report_text);
  ARB_TRY(write_files_atomically(files));
  print_info("head [" + std::to_string(head.num_labels()) + ", " + std::to_string(head.dim) + "] -> " + args.out);
  return Status::ok();
}

CommandRunner setup_train(CLI::App& sub) {
  sub.require_subcommand(1);
  auto lager = std::make_shared<LagerArgs>();
  CLI::App* l = sub.add_subcommand("lager", "fit LAGER layer weights to human scores from per-layer judge rows");
  l->add_option("--input", lager->input, "rows with per_layer_logits [L+1][K], score_values [K] and the human score")
      ->required();
  l->add_option("--human-field", lager->human_field, "field holding the human score")->required();
  l->add_option("--out", lager->out, "WEIGHTS.json to write")->required();
  l->add_option("--lr", lager->fit.lr, "Adam learning rate (paper: 0.01)")->capture_default_str()->check(positive_number());
  l->add_option("--batch", lager->fit.batch, "rows per step (paper: 4)")->capture_default_str()->check(positive_number());
  l->add_option("--epochs", lager->fit.epochs, "passes over the training rows (paper: 1)")
      ->capture_default_str()
      ->check(positive_number());
  l->add_option("--seed", lager->fit.seed, "seed of the split and the shuffles (paper: 42)")->capture_default_str()->check(non_negative_number());
  l->add_option("--validation-fraction", lager->validation_fraction, "held-out rows for the report")
      ->capture_default_str()
      ->check(number_in(0.0, 0.95));
  l->add_option("--target", lager->target,
                "cross-entropy target for a human score between two score values: soft (split between them) or "
                "nearest (one-hot)")
      ->capture_default_str()
      ->check(CLI::IsMember({"soft", "nearest"}));
  l->add_option("--log-every", lager->log_every, "print the loss every N steps (default: 20 lines per run)");
  l->add_option("--report-json", lager->report_json, "also write the report as JSON to this file");

  auto head = std::make_shared<HeadArgs>();
  CLI::App* h = sub.add_subcommand("head", "train a linear reward head on features (regression, Bradley-Terry, or logistic)");
  h->add_option("--features", head->features,
                "FEATURES.safetensors (features [N, R, d], label.<name> [N]), or a quoted pattern of the files of "
                "`features --shard`")->required();
  h->add_option("--labels", head->labels, "rows (JSONL/JSON) with the labels, matched by id (or position)")->check(non_empty());
  h->add_option("--objective", head->objective,
                "regression | bt | bt-margin | bt-scaled | combined | binary (logistic, on one 0-1 label: "
                "step_correct from `arbiter features --step-tag`, or --attributes NAME)")
      ->capture_default_str()
      ->check(CLI::IsMember({"regression", "bt", "bt-margin", "bt-scaled", "combined", "binary"}));
  h->add_option("--out", head->out, "HEAD.safetensors to write")->required();
  h->add_option("--attributes", head->attributes, "regression targets: all, or a comma list of label names")
      ->capture_default_str();
  h->add_option("--ridge", head->ridge, "closed-form ridge regression with this lambda instead of Adam")
      ->check([](const std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        return end != text.c_str() && *end == '\0' && std::isfinite(v) && v >= 0 ? "" : "must be a finite number >= 0";
      });
  h->add_option("--regression-features", head->regression_features,
                "combined: rated rows (R = 1, label.helpfulness) for the regression stage");
  h->add_option("--expo-alpha", head->expo_alpha, "combined: ExPO theta1 + alpha (theta1 - theta0); 0 = off")
      ->capture_default_str();
  h->add_option("--lr", head->options.lr, "Adam learning rate")->capture_default_str()->check(positive_number());
  h->add_option("--batch", head->options.batch, "rows (or pairs) per step")->capture_default_str()->check(positive_number());
  h->add_option("--epochs", head->options.epochs, "maximum epochs")->capture_default_str()->check(positive_number());
  h->add_option("--patience", head->options.patience, "stop after N epochs without a better validation loss (0: never)")
      ->capture_default_str()
      ->check(non_negative_number());
  h->add_option("--seed", head->options.seed, "seed of the split and the shuffles")->capture_default_str()->check(non_negative_number());
  h->add_option("--validation-fraction", head->options.validation_fraction, "held-out share")
      ->capture_default_str()
      ->check(number_in(0.0, 0.95));
  h->add_option("--weight-decay", head->options.weight_decay, "L2 penalty 0.5 * lambda * ||W||^2 on standardised weights")
      ->capture_default_str()
      ->check(non_negative_number());
  h->add_flag("--no-standardize", head->no_standardize, "train on raw features");
  h->add_option("--export-hf-dir", head->export_hf_dir, "also write a Hugging Face *ForSequenceClassification directory");
  h->add_option("--backbone", head->backbone, "the Hugging Face causal-LM directory the features came from");
  h->add_option("--report-json", head->report_json, "also write the per-epoch report as JSON to this file");

  return [=]() -> Status {
    if (l->parsed()) return run_lager(*lager);
    if (h->parsed()) {
      for (const char* name : {"--lr", "--batch", "--epochs", "--patience", "--weight-decay", "--no-standardize",
                               "--attributes", "--regression-features"})
        if (h->count(name) > 0) head->given.insert(name);
      return run_head(*head);
    }
    return error("no train subcommand given");
  };
}

const CommandRegistration kTrain{{"train", setup_train, "train LAGER layer weights and reward heads", 70}};

}  // namespace
}  // namespace arbiter::cli
