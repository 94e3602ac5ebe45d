// arbiter pairs: preference pairs (best and worst response per row) or best-of-N rows from a scored
// dataset of sampled responses, for DPO-style training or rejection-sampling fine-tuning.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/run_record.h"
#include "core/log.h"
#include "data/json_rows.h"
#include "score/preference_pairs.h"

namespace arbiter::cli {

namespace {

struct PairsArgs {
  PairsOptions options;
  std::string schema = "auto";
  std::vector<std::string> fields;
};

Status run_pairs(PairsArgs& args) {
  PairsOptions& o = args.options;
  ARB_ASSIGN(o.reader.schema, data::parse_schema_name(args.schema));
  // The dataset's rows are found by the field the scoring run took ids from: its record says which, where
  // --field does not.
  std::vector<std::string> fields = args.fields;
  if (std::none_of(fields.begin(), fields.end(), [](const std::string& f) { return f.rfind("id=", 0) == 0; })) {
    ARB_ASSIGN(const std::string id_field, dataset_id_field(o.scored_path, "pairs"));
    if (id_field != "id") fields.push_back("id=" + id_field);
  }
  ARB_ASSIGN(o.reader.mapping, data::FieldMapping::parse(fields));
  if (data::reads_file(o.data_path, o.output_path) || data::reads_file(o.scored_path, o.output_path))
    return error("--output " + o.output_path + " is the file " + (data::reads_file(o.data_path, o.output_path) ? "--data" : "--input") +
                 " names: it would be overwritten while it is read");
  if (!(o.min_margin >= 0)) return error("--min-margin must be 0 or more");
  ARB_ASSIGN(PairsSummary s, build_preference_pairs(o));
  if (s.scored_not_in_data > 0)
    log_warn(o.scored_path + ": " + std::to_string(s.scored_not_in_data) + " scored ids are not in " + o.data_path +
             " (is it the dataset that was scored?)");
  if (s.not_scored > 0)
    log_warn(o.data_path + ": " + std::to_string(s.not_scored) + " of its " + std::to_string(s.rows) +
             " rows have no scores in " + o.scored_path + " (error lines, or rows the run did not reach): left out");
  // The summary is a log line: -q (errors only) leaves it out; the pairs are in the output file.
  const std::string counts = std::to_string(s.written) + (o.best_only ? " best responses" : " pairs") + " written to " +
                             o.output_path + " from " + std::to_string(s.rows) + " rows (" + std::to_string(s.not_scored) +
                             " not scored";
  if (o.best_only) {
    log_info(counts + ")");
  } else {
    char margin[32];
    std::snprintf(margin, sizeof margin, "%g", o.min_margin);
    log_info(counts + ", " + std::to_string(s.too_few_responses) + " with fewer than two responses, " +
             std::to_string(s.below_margin) + " with best - worst <= " + margin + ")");
  }
  return Status::ok();
}

const CommandRegistration kPairsRegistration({
    "pairs",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<PairsArgs>();
      PairsOptions& o = args->options;
      sub.add_option("-i,--input", o.scored_path, "scored JSONL from score or judge (one line per dataset row)")
          ->required();
      sub.add_option("--data", o.data_path, "the dataset that was scored: its prompts and responses")->required();
      sub.add_option("--schema", args->schema, "read --data as the scoring run did: auto, generic, rewardbench, ...")
          ->default_val("auto");
      sub.add_option("--field", args->fields, "NAME=FIELD mapping, as the scoring run's (e.g. response=samples)");
      sub.add_option("--by", o.field, "each response's score field: score, lager, expected, attributes.helpfulness, ...")
          ->default_val("score");
      sub.add_option("--min-margin", o.min_margin, "keep a pair only when best - worst is above this")
          ->default_val(0.0);
      sub.add_flag("--best", o.best_only, "write each row's best response alone (best-of-N / rejection sampling)");
      sub.add_option("-o,--output", o.output_path, "output JSONL")->required();
      return [args] { return run_pairs(*args); };
    },
    "preference pairs (best vs worst response) or best-of-N rows from scored samples",
    34,
});

}  // namespace

}  // namespace arbiter::cli
