// arbiter score: a reward model over a dataset (sequence-classification models, or a causal backbone
// with a head trained by `arbiter train head`).
#include "cli/command.h"
#include "cli/model_source.h"
#include "cli/dataset_options.h"
#include "cli/device_option.h"
#include "cli/job_setup.h"
#include "cli/run_record.h"
#include "score/reward_job.h"

namespace arbiter::cli {

namespace {

struct ScoreArgs {
  DatasetArgs data;
  RewardArgs reward;
  bool per_turn = false;
};

Status run_score(const ScoreArgs& args, const CLI::App& sub) {
  ARB_ASSIGN(RunOptions run, make_run_options(args.data, "score"));
  ARB_ASSIGN(FormatterOptions format, make_formatter_options(args.data));
  ARB_ASSIGN(auto model, load_model(args.data.model_path));
  ARB_ASSIGN(RewardJobOptions options, make_reward_job_options(args.reward, *model, option_settings(sub)));
  // Before the step tokens are resolved: a process reward model is refused for what it is.
  if (args.per_turn && RewardJob(*model, nullptr, options).reads_steps())
    return error("--per-turn scores each assistant turn of a conversation with a reward model; a process reward "
                 "model's steps are scored by its step options");
  options.per_turn = args.per_turn;
  ARB_ASSIGN(auto formatter, make_formatter(*model, format));
  if (Status resolved = resolve_reward_tokens(options, *model, formatter.get()); !resolved)
    return resolved.with_context(model->path);
  RewardJob job(*model, formatter, options);
  ARB_ASSIGN(auto backend, make_command_backend(model, args.data.device));
  ARB_TRY(keep_run_record(run, make_run_record(sub, *model, backend->name(), args.data.pulled)));
  ARB_ASSIGN(RunSummary summary, run_dataset(*backend, job, run));
  print_run_summary(summary, run.output);
  return Status::ok();
}

const CommandRegistration kScoreRegistration({
    "score",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<ScoreArgs>();
      const CLI::App* app = &sub;
      add_dataset_options(sub, args->data);
      add_shard_option(sub, args->data);
      add_reward_options(sub, args->reward);
      sub.add_flag("--per-turn", args->per_turn,
                   "also score every assistant turn of a row's prompt, each in the conversation up to it (a `turns` "
                   "list beside the response's score; the shared conversation is computed once)");
      return [args, app]() -> Status {
        ARB_TRY(pull_model_source(args->data.model_path, &args->data.pulled.model));
        ARB_TRY(pull_data_source(args->data.input, &args->data.pulled.input));
        return run_score(*args, *app);
      };
    },
    "score a dataset with a reward model (one line per row: score, attributes)",
    30,
});

}  // namespace

}  // namespace arbiter::cli
