// arbiter judge: an LLM as a pointwise judge over a dataset, with vanilla, expected and LAGER scores.
#include "cli/command.h"
#include "cli/dataset_options.h"
#include "cli/model_options.h"
#include "core/mapped_file.h"
#include "model/model_tokenizer.h"
#include "score/judge_job.h"

namespace arbiter::cli {

namespace {

struct JudgeArgs {
  DatasetArgs data;
  std::string template_name = "generic", template_file, answer_prefix, score_tokens = "1..5", score_token_ids;
  std::string lens = "raw", lager_weights, rank_by = "lager";
  bool per_layer = false, answer_prefix_set = false;
};

Status run_judge(const JudgeArgs& args) {
  ARB_ASSIGN(RunOptions run, make_run_options(args.data, "judge"));
  ARB_ASSIGN(FormatterOptions format, make_formatter_options(args.data));
  ARB_ASSIGN(auto model, load_model(args.data.model_path));
  ARB_ASSIGN(auto formatter, ConversationFormatter::create(*model, format));

  JudgeOptions options;
  if (!args.template_file.empty()) {
    ARB_ASSIGN(std::string text, read_file(args.template_file));
    options.prompt_template = JudgeTemplate{args.template_file, text, "", ""};
  } else {
    ARB_ASSIGN(options.prompt_template, builtin_judge_template(args.template_name));
  }
  if (args.answer_prefix_set) options.prompt_template.answer_prefix = args.answer_prefix;
  if (!args.score_token_ids.empty()) {
    ARB_ASSIGN(std::vector<int32_t> ids, parse_int_list(args.score_token_ids, "--score-token-ids"));
    ARB_ASSIGN(options.score_tokens, score_tokens_from_ids(&formatter->tokenizer(), ids, {}));
  } else {
    ARB_ASSIGN(options.score_tokens, resolve_score_tokens(formatter->tokenizer(), args.score_tokens));
  }
  if (args.lens == "raw") options.lens = Lens::kRaw;
  else if (args.lens == "normed") options.lens = Lens::kNormed;
  else return error("--lens must be raw or normed");
  if (args.rank_by != "vanilla" && args.rank_by != "expected" && args.rank_by != "lager")
    return error("--rank-by must be vanilla, expected or lager");
  options.rank_by = args.rank_by;
  options.per_layer = args.per_layer;
  if (!args.lager_weights.empty()) {
    ARB_ASSIGN(train::LagerWeights weights, train::load_lager_weights(args.lager_weights));
    if (int64_t(weights.layer_weights.size()) != model->config.num_layers + 1)
      return error(args.lager_weights + ": weights for " + std::to_string(weights.layer_weights.size()) +
                   " layers, the model has " + std::to_string(model->config.num_layers + 1) + " (layers + embeddings)");
    options.lager_weights = std::move(weights);
  }
  JudgeJob job(*model, formatter, options);
  auto backend = make_cpu_backend(model);
  ARB_ASSIGN(RunSummary summary, run_dataset(*backend, job, run));
  print_run_summary(summary, run.output);
  return Status::ok();
}

const CommandRegistration kRegistration({
    "judge",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<JudgeArgs>();
      add_dataset_options(sub, args->data);
      sub.add_option("--template", args->template_name,
                     "built-in grading prompt: generic, prometheus, direct-helpfulness, direct-correctness, "
                     "direct-coherence, direct-complexity, direct-verbosity")
          ->default_val("generic");
      sub.add_option("--template-file", args->template_file,
                     "a grading prompt file with {prompt} {response} {rubric} {reference} {min_score} {max_score} {scores}");
      auto* prefix = sub.add_option("--answer-prefix", args->answer_prefix,
                                    "text after the generation prompt, before the score token (e.g. 'Score: ')");
      sub.add_option("--score-tokens", args->score_tokens, "score labels: 1..5, 0..4, 1..10, or A,B,C")->default_val("1..5");
      sub.add_option("--score-token-ids", args->score_token_ids, "score tokens by id (values 1..K)");
      sub.add_option("--lens", args->lens,
                     "raw (LAGER's code: intermediate layers unnormed, last normed) or normed (final norm on every layer)")
          ->default_val("raw");
      sub.add_option("--lager-weights", args->lager_weights, "layer weights from `arbiter train lager` (default: uniform)");
      sub.add_flag("--per-layer", args->per_layer, "write each row's [L+1, K] score-token logits");
      sub.add_option("--rank-by", args->rank_by, "score used for score_chosen/score_rejected: vanilla, expected, lager")
          ->default_val("lager");
      return [args, prefix] {
        args->answer_prefix_set = prefix->count() > 0;
        return run_judge(*args);
      };
    },
    "judge a dataset with an LLM: vanilla, expected and LAGER scores per row",
    31,
});

}  // namespace

}  // namespace arbiter::cli
