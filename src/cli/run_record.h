// What wrote a scored file, kept beside it (scores.jsonl -> scores.run.json): the command, the model as
// given and a fingerprint of its weights, the input, and every option that decides what the lines say.
// It is the file's provenance, and what `--resume` checks: resuming with another model, template, head
// or score tokens would otherwise append lines of another run to the file, and nothing would show it.
//
//   {"arbiter": "0.1.0", "command": "judge", "started": "2026-12-06T18:40:00Z",
//    "model": "hf://ORG/REPO/model.gguf", "model_commit": "9d1c...", "model_fingerprint": "3f2a...",
//    "model_chat_template": "77ab...", "model_tokenizer": "5e0c...", "input": "rows.jsonl",
//    "settings": {"--template": "direct-helpfulness", "--score-tokens": "0..4", "--lager-weights": "w.json"},
//    "file_contents": {"w.json": "9c1e..."},
//    "ran_on": {"device": "cpu", "matmul": "bf16"}}
//
// Options that change how a run goes but not what it writes (paths, --resume, --limit, --shard,
// --on-error, --device, batch sizes, threads) are not settings; the rows themselves are checked by the
// writer (ids in order, row digests).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/model_source.h"
#include "core/run_settings.h"
#include "core/status.h"
#include "eval/report.h"
#include "model/model.h"
#include "score/dataset_runner.h"

namespace arbiter::cli {

// "DIR/NAME.jsonl" -> "DIR/NAME.run.json"; another name gets ".run.json" after it.
std::string run_record_path(const std::string& output);

// The options of `sub` given on its command line that decide what it writes (not paths, --resume, --limit,
// --shard, --on-error, --device, batch sizes, checkpoint sizes).
RunSettings option_settings(const CLI::App& sub);

// The record of this run of `sub` (its options as given on the command line) with `model` loaded, run on
// the backend named `device` ("cpu", "cuda"); where -m or -i was pulled from the Hub, the commit it was
// served at ("model_commit", "input_commit").
nlohmann::ordered_json make_run_record(const CLI::App& sub, const Model& model, const std::string& device,
                                       const PulledCommits& pulled = {});

// Before the run: for a resumed output that exists, the record of the run that began it must agree with
// this one (command, model fingerprint, settings, the contents of files they name), or the error names
// each difference; an output begun without a record resumes with a warning that the run that began it
// cannot be checked. Another device or arithmetic (`ran_on`) is a warning: its scores differ from the
// first run's in the last digits, not in meaning. True when this run's record is to be written: a fresh
// output, or one without a record.
Result<bool> check_run_record(const std::string& output, bool resume, const nlohmann::ordered_json& record);

// Writes the record beside the output (replacing an old one). Called once the output has been opened
// (RunOptions::on_output_opened), so that a run that fails before (a missing input) leaves the old output
// and its old record together.
Status write_run_record(const std::string& output, const nlohmann::ordered_json& record);

// The two for a scoring run: checks now, and has `run` write this record when it opens its output. An
// output that is not a regular file (/dev/stdout, a named pipe) gets no record.
Status keep_run_record(RunOptions& run, nlohmann::ordered_json record);

// The run record beside a scored file, if it has a readable one.
std::optional<nlohmann::ordered_json> read_run_record(const std::string& scored_path);
// "scored by judge: MODEL (fingerprint ...); --template ..., --score-tokens ...".
std::string describe_run_record(const nlohmann::ordered_json& record);

// The field the run that wrote `scored` took row ids from (its --field id=NAME; "id" where it took none),
// read from its run record, or from the records of every file of a pattern (the outputs of --shard runs),
// which must agree. nullopt when no file has a record (a file joined with cat, or from elsewhere): the
// dataset's rows cannot then be told to be found by the field the scoring run used.
Result<std::optional<std::string>> scoring_run_id_field(const std::string& scored);
// The field a dataset's rows (select --data, pairs --data: `command`) take their ids from where --field
// does not say: the scoring run's, said in a line; "id", with a warning, where no record tells.
Result<std::string> dataset_id_field(const std::string& scored, const std::string& command);

// An eval report of a scored file says what scored it: where the file has a run record, a note under the
// title ("scored by judge: MODEL (fingerprint ...); --template ...") and the record as report.json's
// "run_record". Nothing when there is none (a pattern of shards, a file from elsewhere).
void attach_run_record(eval::Report& report, const std::string& scored_path);

// Writes an eval report of `scored_path` into `dir`, with its run record attached, and says where on stderr
// (so that --json output stays one object).
Status save_eval_report(eval::Report report, const std::string& dir, const std::string& scored_path);

}  // namespace arbiter::cli
