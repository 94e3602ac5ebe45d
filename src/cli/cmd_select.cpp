// arbiter select: keep the best rows of a scored dataset (top N, top P%, or a threshold).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/run_record.h"
#include "core/mapped_file.h"
#include "core/log.h"
#include "data/json_rows.h"
#include "score/select.h"

namespace arbiter::cli {

namespace {

const CommandRegistration kSelectRegistration({
    "select",
    [](CLI::App& sub) -> CommandRunner {
      auto o = std::make_shared<SelectOptions>();
      sub.add_option("-i,--input", o->scored_path, "scored JSONL (from score or judge; read twice, so a file, not a pipe)")->required();
      sub.add_option("--by", o->field, "the score field: lager, expected, score, attributes.helpfulness, ...")->required();
      auto* top = sub.add_option("--top", o->top, "keep this many rows, or this percentage (e.g. 10%, of the rows with a score: error lines are not counted)");
      auto* threshold = sub.add_option("--threshold", o->threshold, "keep rows scoring at least this (with --bottom: at most this)");
      top->excludes(threshold);
      sub.add_flag("--bottom", o->bottom,
                   "keep the lowest-scored rows instead (--top N: the N lowest; --threshold T: those at or below T)");
      sub.add_option("--data", o->data_path, "write these dataset rows (as their lines were written) instead of the scored rows: matched by id; rows without ids by their index, checked against the line's row_digest");
      auto fields = std::make_shared<std::vector<std::string>>();
      sub.add_option("--field", *fields, "id=NAME: --data's rows take their ids from field NAME (default: the field the scoring run's record names, else id; id= keys rows by their index)");
      sub.add_option("-o,--output", o->output_path, "output JSONL")->required();
      return [o, threshold, fields]() -> Status {
        o->has_threshold = threshold->count() > 0;
        for (const std::string& field : *fields) {
          if (field.rfind("id=", 0) != 0)
            return error("--field " + field + ": select reads only id=NAME (the field --data's rows take their ids from)");
          if (o->data_path.empty()) return error("--field id=NAME names --data's id field: give --data too");
          o->id_field = field.substr(3);  // "id=": rows known by their index
        }
        if (fields->empty() && !o->data_path.empty()) {
          ARB_ASSIGN(o->id_field, dataset_id_field(o->scored_path, "select"));
        }
        for (const std::string* read : {&o->scored_path, &o->data_path})
          if (data::reads_file(*read, o->output_path))
            return error("--output " + o->output_path + " is the file " + (read == &o->data_path ? "--data" : "--input") +
                         " names: it would be overwritten while it is read");
        ARB_ASSIGN(SelectSummary s, select_rows(*o));
        char cutoff[96] = "none reached the cutoff";
        if (s.kept > 0) std::snprintf(cutoff, sizeof cutoff, "cutoff %s = %g", o->field.c_str(), s.cutoff);
        if (s.without_score > 0)
          log_warn(o->scored_path + ": " + std::to_string(s.without_score) + " of its " + std::to_string(s.rows) +
                   " rows have no number in '" + o->field + "' (error lines, or scores that were not finite): left out");
        // -q leaves it out: the rows are in the output file.
        log_info("kept " + std::to_string(s.kept) + " of " + std::to_string(s.rows) + " rows (" + cutoff + "; " +
                 std::to_string(s.without_score) + " rows without a score) -> " + o->output_path);
        return Status::ok();
      };
    },
    "keep the best rows of a scored dataset by a score field",
    33,
});

}  // namespace

}  // namespace arbiter::cli
