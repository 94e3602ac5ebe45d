// arbiter judge: an LLM as a pointwise judge over a dataset, with vanilla, expected and LAGER scores.
#include "cli/command.h"
#include "cli/dataset_options.h"
#include "cli/device_option.h"
#include "cli/job_setup.h"
#include "score/judge_job.h"

namespace arbiter::cli {

namespace {

struct JudgeCommandArgs {
  DatasetArgs data;
  JudgeArgs judge;
};

Status run_judge(const JudgeCommandArgs& args) {
  ARB_ASSIGN(RunOptions run, make_run_options(args.data, "judge"));
  ARB_ASSIGN(FormatterOptions format, make_formatter_options(args.data));
  ARB_ASSIGN(auto model, load_model(args.data.model_path));
  ARB_ASSIGN(auto formatter, ConversationFormatter::create(*model, format));
  ARB_ASSIGN(JudgeOptions options, make_judge_options(args.judge, *model, &formatter->tokenizer()));
  JudgeJob job(*model, formatter, options);
  ARB_ASSIGN(auto backend, make_command_backend(model, args.data.device));
  ARB_ASSIGN(RunSummary summary, run_dataset(*backend, job, run));
  print_run_summary(summary, run.output);
  return Status::ok();
}

const CommandRegistration kRegistration({
    "judge",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<JudgeCommandArgs>();
      add_dataset_options(sub, args->data);
      add_judge_options(sub, args->judge);
      return [args] { return run_judge(*args); };
    },
    "judge a dataset with an LLM: vanilla, expected and LAGER scores per row",
    31,
});

}  // namespace

}  // namespace arbiter::cli
