// arbiter judge: an LLM as a pointwise or pairwise judge over a dataset, with vanilla, expected and LAGER
// scores.
#include <cstdio>

#include "cli/command.h"
#include "cli/model_source.h"
#include "cli/dataset_options.h"
#include "cli/device_option.h"
#include "cli/job_setup.h"
#include "cli/run_record.h"
#include "core/log.h"
#include "score/judge_job.h"

namespace arbiter::cli {

namespace {

struct JudgeCommandArgs {
  DatasetArgs data;
  JudgeArgs judge;
};

Status run_judge(const JudgeCommandArgs& args, const CLI::App& sub) {
  // A judge prompt is the template around the texts judged, ending in the answer's opening: no cut keeps
  // it a question the judge was meant to answer, so an over-long item is an error, and asking for a cut
  // is refused rather than ignored.
  if (sub.get_option("--truncation")->count() > 0 && args.data.truncation != "error")
    return error("--truncation " + args.data.truncation + ": a judge's prompts are never cut (a cut would drop its "
                 "instructions or the text judged); an item longer than --max-length is an error naming it");
  ARB_ASSIGN(RunOptions run, make_run_options(args.data, "judge"));
  ARB_ASSIGN(FormatterOptions format, make_formatter_options(args.data));
  ARB_ASSIGN(auto model, load_model(args.data.model_path));
  ARB_ASSIGN(auto formatter, make_formatter(*model, format));
  ARB_ASSIGN(JudgeOptions options, make_judge_options(args.judge, *model, formats_text(formatter.get()) ? &formatter->tokenizer() : nullptr, option_settings(sub)));
  if (formatter) ARB_TRY(formatter->check_system_message(options.prompt_template.system_message));
  JudgeJob job(*model, formatter, options);
  ARB_ASSIGN(auto backend, make_command_backend(model, args.data.device));
  ARB_TRY(keep_run_record(run, make_run_record(sub, *model, backend->name(), args.data.pulled)));
  ARB_ASSIGN(RunSummary summary, run_dataset(*backend, job, run));
  print_run_summary(summary, run.output);
  const OrderAgreementTally& orders = job.order_agreement();
  if (orders.pairs > 0 && log_level() >= LogLevel::kInfo) {
    // How much the judge's verdict depends on which response it saw first: the number to check before
    // trusting a single-order run.
    std::fprintf(stderr, "order agreement: the two orders named the same winner in %zu of %zu pairs (%.1f%%)\n",
                 orders.agreeing, orders.pairs, 100.0 * double(orders.agreeing) / double(orders.pairs));
  }
  if (orders.listwise_rows > 0 && log_level() >= LogLevel::kInfo) {
    std::fprintf(stderr, "order agreement: on average %.1f%% of a row's orders named the same best response (%zu rows)\n",
                 100.0 * orders.listwise_agreement_sum / double(orders.listwise_rows), orders.listwise_rows);
  }
  return Status::ok();
}

const CommandRegistration kJudgeRegistration({
    "judge",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<JudgeCommandArgs>();
      const CLI::App* app = &sub;
      add_dataset_options(sub, args->data);
      add_shard_option(sub, args->data);
      add_judge_options(sub, args->judge);
      return [args, app]() -> Status {
        ARB_TRY(pull_model_source(args->data.model_path, &args->data.pulled.model));
        ARB_TRY(pull_data_source(args->data.input, &args->data.pulled.input));
        return run_judge(*args, *app);
      };
    },
    "judge a dataset with an LLM (pointwise, pairwise or listwise): vanilla, expected and LAGER scores per row",
    31,
});

}  // namespace

}  // namespace arbiter::cli
