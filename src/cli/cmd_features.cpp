// arbiter features: the hidden state of one layer at each response's last token, for every row, written
// as a features file (safetensors) for `arbiter train head`; or, with a step separator, at every step.
#include <filesystem>

#include "cli/command.h"
#include "cli/option_checks.h"
#include "cli/dataset_options.h"
#include "cli/device_option.h"
#include "cli/job_setup.h"
#include "cli/model_source.h"
#include "cli/run_record.h"
#include "core/log.h"
#include "data/json_rows.h"
#include "model/fingerprint.h"
#include "model/model_path.h"
#include "score/features_job.h"
#include "score/step_rewards.h"

namespace arbiter::cli {

namespace {

struct FeaturesArgs {
  DatasetArgs data;
  std::string layer = "final";
  std::string step_tag, step_join, split_steps, step_answer = "+";
  int64_t step_tag_id = -1;
  int64_t checkpoint_rows = 1024;
  bool step_turns = false;
  std::string model_source;  // -m as given, where it was pulled from the Hub (data.model_path is then the cache's)
};

// The step layout the options ask for, its separator resolved; none without --step-tag / --step-tag-id /
// --step-turns (unless the model is a process reward model, whose own separator is then read).
Result<std::optional<StepLayout>> step_layout(const FeaturesArgs& args, const Model& model,
                                              const ConversationFormatter* formatter) {
  // Steps written as turns, or a separator given as text, are found with the tokenizer; a separator by id
  // (rows of input_ids) needs none.
  const bool by_text = args.step_turns || (args.step_tag_id < 0 && (!args.step_tag.empty() || model.config.process_reward));
  if (!formats_text(formatter) && by_text)
    return error(model.path + " has no tokenizer to find the step separator with: give it by id (--step-tag-id)");
  if (args.step_turns) {
    ARB_TRY(refuse_separator_with_step_turns(args.step_tag, args.step_tag_id, args.step_join));
    StepLayout layout;
    layout.turns = true;
    layout.answer = unescape_option_text(args.step_answer);
    layout.split_at = unescape_option_text(args.split_steps);
    ARB_ASSIGN(layout.turn_opening, formatter->assistant_opening());
    return std::optional<StepLayout>{layout};
  }
  const bool asked = !args.step_tag.empty() || args.step_tag_id >= 0;
  if (!asked && !model.config.process_reward) {
    if (!args.step_join.empty() || !args.split_steps.empty())
      return error("--step-join and --split-steps need the separator: --step-tag (or --step-tag-id)");
    return std::optional<StepLayout>{};
  }
  StepLayout layout;
  layout.tag = args.step_tag.empty() && args.step_tag_id < 0 ? model.config.step_tag : args.step_tag;
  layout.join = unescape_option_text(args.step_join);
  layout.split_at = unescape_option_text(args.split_steps);
  if (!layout.join.empty() && !layout.tag.empty() && layout.join.find(layout.tag) == std::string::npos)
    return error("--step-join '" + args.step_join + "' does not hold the separator '" + layout.tag + "'");
  if (args.step_tag_id >= 0) {
    if (args.step_tag_id >= model.config.vocab_size)
      return error("--step-tag-id " + std::to_string(args.step_tag_id) + " is outside the vocabulary (" +
                   std::to_string(model.config.vocab_size) + " tokens)");
    layout.tag_id = int32_t(args.step_tag_id);
  } else {
    ARB_ASSIGN(layout.tag_id, resolve_step_token(formatter->tokenizer(), layout.tag));
  }
  return std::optional<StepLayout>{layout};
}

Status run_features(const FeaturesArgs& args, const CLI::App& sub) {
  DatasetArgs data = args.data;
  const std::string out_path = data.output;
  data.output = "";  // no per-row JSONL: the job writes the features file
  data.resume = false;  // the job resumes from its own checkpoint parts
  ARB_ASSIGN(RunOptions run, make_run_options(data, "features"));
  if (model_reads_file(data.model_path, out_path))
    return error("--output " + out_path + " is a file of the model " + data.model_path + ": writing it would replace the model");
  if (data::reads_file(data.input, out_path)) return error("--output " + out_path + " is the --input file: it would be overwritten while it is read");
  std::error_code ec;
  const bool finished = args.data.resume && !std::filesystem::exists(FeaturesJob::parts_folder(out_path), ec) &&
                        std::filesystem::exists(out_path, ec);
  ARB_ASSIGN(FormatterOptions format, make_formatter_options(data));
  ARB_ASSIGN(auto model, load_model(data.model_path));
  ARB_ASSIGN(auto formatter, make_formatter(*model, format));
  ARB_ASSIGN(std::optional<StepLayout> steps, step_layout(args, *model, formatter.get()));
  FeaturesFileOptions file;
  file.output_path = out_path;
  file.checkpoint_rows = args.checkpoint_rows;
  file.resume = args.data.resume;
  file.shard = run.shard;
  file.shards = run.shards;
  file.settings = option_settings(sub);
  file.model_source = args.model_source;
  file.model_digests = model_digests(*model, format.chat_template_source.empty() && !format.plain);
  for (const std::string& commit : data.pulled.model)
    file.model_commit += (file.model_commit.empty() ? "" : ",") + commit;
  ARB_ASSIGN(auto job, FeaturesJob::create(*model, formatter, args.layer, file, steps));
  if (finished) {
    // Nothing to resume, if it is this extraction's file: another model, layer or options is an error.
    ARB_TRY(job->check_finished(out_path, run));
    log_info(out_path + " is complete: nothing to resume");
    return Status::ok();
  }
  ARB_ASSIGN(auto backend, make_command_backend(model, data.device));
  ARB_ASSIGN(RunSummary summary, run_dataset(*backend, *job, run));
  // A row that failed (--on-error skip) has an error line in a scored file, and nothing in a features file.
  summary.rows_written -= summary.rows_failed;
  print_run_summary(summary, out_path);
  return Status::ok();
}

const CommandRegistration kFeaturesRegistration({
    "features",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<FeaturesArgs>();
      const CLI::App* app = &sub;
      add_dataset_options(sub, args->data);
      add_shard_option(sub, args->data);
      // The shared options speak of per-row JSONL; this command writes one features file.
      sub.get_option("--output")->description("output features file (safetensors: features [N, R, d], label.<name> [N])");
      sub.get_option("--resume")->description(
          "continue an interrupted run from the checkpoint parts it left in OUTPUT.parts/");
      sub.add_option("--checkpoint-rows", args->checkpoint_rows,
                     "feature rows per checkpoint part (OUTPUT.parts/part-NNNNN.safetensors, joined into OUTPUT at the "
                     "end): what an interrupted run keeps, and about what memory holds")
          ->capture_default_str();
      sub.add_option("--layer", args->layer,
                     "final (the final-normed last layer, what a reward head reads) or a layer index 0..L")
          ->default_val("final");
      sub.add_option("--step-tag", args->step_tag,
                     "one feature row per step: the state at every step separator (one token; default for a process "
                     "reward model: its own), labelled step_correct from the row's first wrong step (ProcessBench's "
                     "label) or its step_labels list, for `train head --objective binary`")->check(non_empty());
      sub.add_option("--step-tag-id", args->step_tag_id, "the separator by token id")->check(non_negative_number());
      sub.add_option("--step-join", args->step_join,
                     "the text after each listed step, holding the separator (default: the separator alone)");
      sub.add_option("--split-steps", args->split_steps,
                     "split a response that holds no separator into steps at this text (e.g. '\\n\\n')")
          ->check([](const std::string& text) { return text.empty() ? std::string("must not be empty") : std::string(); });
      sub.add_flag("--step-turns", args->step_turns,
                   "one feature row per step, each step a user's turn answered by --step-answer: the state where "
                   "each answer's turn opens (for a head that `score --head --step-turns` reads the same way)");
      CLI::Option* step_answer =
          sub.add_option("--step-answer", args->step_answer, "the assistant's answer to each step with --step-turns")
              ->default_val("+")
              ->check(non_empty());
      return [args, app, step_answer]() -> Status {
        if (step_answer->count() > 0 && !args->step_turns)
          return error("--step-answer: the answer to each step is written with --step-turns");
        const std::string given_model = args->data.model_path;
        ARB_TRY(pull_model_source(args->data.model_path, &args->data.pulled.model));
        if (!args->data.pulled.model.empty()) args->model_source = given_model;
        ARB_TRY(pull_data_source(args->data.input));
        return run_features(*args, *app);
      };
    },
    "extract per-row hidden states (safetensors features file) for training reward heads",
    32,
});

}  // namespace

}  // namespace arbiter::cli
