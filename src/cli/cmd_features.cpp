// arbiter features: the hidden state of one layer at each response's last token, for every row, written
// as a features file (safetensors) for `arbiter train head`.
#include "cli/command.h"
#include "cli/dataset_options.h"
#include "cli/device_option.h"
#include "score/features_job.h"

namespace arbiter::cli {

namespace {

struct FeaturesArgs {
  DatasetArgs data;
  std::string layer = "final";
};

Status run_features(const FeaturesArgs& args) {
  if (args.data.resume) return error("features files are written whole at the end; --resume does not apply");
  DatasetArgs data = args.data;
  const std::string out_path = data.output;
  data.output = "";  // no per-row JSONL: the job writes the features file
  ARB_ASSIGN(RunOptions run, make_run_options(data, "features"));
  if (out_path == data.input) return error("--output must differ from --input");
  ARB_ASSIGN(FormatterOptions format, make_formatter_options(data));
  ARB_ASSIGN(auto model, load_model(data.model_path));
  ARB_ASSIGN(auto formatter, ConversationFormatter::create(*model, format));
  ARB_ASSIGN(auto job, FeaturesJob::create(*model, formatter, args.layer, out_path));
  ARB_ASSIGN(auto backend, make_command_backend(model, data.device));
  ARB_ASSIGN(RunSummary summary, run_dataset(*backend, *job, run));
  print_run_summary(summary, out_path);
  return Status::ok();
}

const CommandRegistration kRegistration({
    "features",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<FeaturesArgs>();
      add_dataset_options(sub, args->data);
      // The shared options speak of per-row JSONL; this command writes one features file.
      sub.get_option("--output")->description("output features file (safetensors: features [N, R, d], label.<name> [N])");
      sub.get_option("--resume")->description("not supported: the features file is written whole at the end");
      sub.add_option("--layer", args->layer,
                     "final (the final-normed last layer, what a reward head reads) or a layer index 0..L")
          ->default_val("final");
      return [args] { return run_features(*args); };
    },
    "extract per-row hidden states (safetensors features file) for training reward heads",
    32,
});

}  // namespace

}  // namespace arbiter::cli
