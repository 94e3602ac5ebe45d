// arbiter score: a reward model over a dataset (sequence-classification models, or a causal backbone
// with a head trained by `arbiter train head`).
#include "cli/command.h"
#include "cli/dataset_options.h"
#include "score/reward_job.h"

namespace arbiter::cli {

namespace {

struct ScoreArgs {
  DatasetArgs data;
  std::string attribute_weights, head_path;
};

Status run_score(const ScoreArgs& args) {
  ARB_ASSIGN(RunOptions run, make_run_options(args.data, "score"));
  ARB_ASSIGN(FormatterOptions format, make_formatter_options(args.data));
  ARB_ASSIGN(auto model, load_model(args.data.model_path));
  RewardJobOptions options;
  if (!args.head_path.empty()) {
    ARB_ASSIGN(train::RewardHead head, train::load_reward_head(args.head_path));
    if (head.dim != model->config.hidden_size)
      return error(args.head_path + ": head for hidden size " + std::to_string(head.dim) + ", the model has " +
                   std::to_string(model->config.hidden_size));
    options.head = std::make_shared<train::RewardHead>(std::move(head));
  } else if (!model->config.is_classifier()) {
    return error(args.data.model_path + ": not a sequence-classification model (use `arbiter judge` for a causal LM, "
                 "or --head with a head from `arbiter train head`)");
  }
  ARB_ASSIGN(auto formatter, ConversationFormatter::create(*model, format));
  if (!args.attribute_weights.empty()) {
    const RewardJob unweighted(*model, formatter, options);  // only to learn the output names
    ARB_ASSIGN(AttributeWeights weights, parse_attribute_weights(args.attribute_weights, unweighted.labels()));
    options.weights = weights;
  }
  RewardJob job(*model, formatter, options);
  auto backend = make_cpu_backend(model);
  ARB_ASSIGN(RunSummary summary, run_dataset(*backend, job, run));
  print_run_summary(summary, run.output);
  return Status::ok();
}

const CommandRegistration kRegistration({
    "score",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<ScoreArgs>();
      add_dataset_options(sub, args->data);
      sub.add_option("--attribute-weights", args->attribute_weights,
                     "combine several outputs: 'nemotron' (0.30, 0.74, 0.46, 0.47, -0.33), name=w,... or w,w,...");
      sub.add_option("--head", args->head_path, "a reward head from `arbiter train head` for a causal backbone");
      return [args] { return run_score(*args); };
    },
    "score a dataset with a reward model (one line per row: score, attributes)",
    30,
});

}  // namespace

}  // namespace arbiter::cli
