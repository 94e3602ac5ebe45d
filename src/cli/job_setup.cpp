#include "cli/job_setup.h"

#include "cli/model_options.h"
#include "core/mapped_file.h"
#include "score/pairwise.h"

namespace arbiter::cli {

void add_reward_options(CLI::App& sub, RewardArgs& args) {
  sub.add_option("--attribute-weights", args.attribute_weights,
                 "combine several outputs: 'nemotron' (0.30, 0.74, 0.46, 0.47, -0.33), name=w,... or w,w,...");
  sub.add_option("--head", args.head_path, "a reward head from `arbiter train head` for a causal backbone");
  sub.add_option("--reward-token-id", args.reward_token_id,
                 "a causal LM that keeps its reward in one token's logit at the last position: that token "
                 "(0 for Llama-3.1-Nemotron-70B-Reward-HF and Llama-3.3-Nemotron-70B-Reward)")
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--step-tag", args.step_tag,
                 "process reward models: the token that ends each step (default: the model's, e.g. <extra_0>)");
  sub.add_option("--step-aggregate", args.step_aggregate,
                 "process reward models: a solution's score from its step rewards: min, product, mean, last")
      ->default_val("min");
  sub.add_option("--split-steps", args.split_steps,
                 "process reward models: split a response that holds no separator into steps at this text "
                 "(\\n and \\t are understood: --split-steps '\\n\\n')");
  sub.add_option("--step-threshold", args.step_threshold,
                 "process reward models: a step rewarded below this is wrong (first_error_step)")
      ->default_val(0.5);
}

void add_judge_options(CLI::App& sub, JudgeArgs& args) {
  sub.add_option("--template", args.template_name,
                 "built-in grading prompt: generic, prometheus, prometheus-feedback (needs --generate), "
                 "direct-helpfulness, direct-correctness, direct-coherence, direct-complexity, direct-verbosity; "
                 "pairwise, pairwise-feedback (needs --generate): which of two responses is better; "
                 "listwise: which of all the responses is best")
      ->default_val("generic");
  sub.add_option("--template-file", args.template_file,
                 "a grading prompt file with {prompt} {response} {rubric} {reference} {min_score} {max_score} {scores}; "
                 "or a pairwise one with {response_a} {response_b} {label_a} {label_b} {label_tie} {verdicts}; "
                 "or a listwise one with {responses} {labels} {n}");
  auto* system_prompt = sub.add_option("--system-prompt", args.system_prompt,
                                       "a system message before the grading prompt (as a judge's own setup asks)");
  sub.add_option("--system-prompt-file", args.system_prompt_file, "the system message, from a file")
      ->excludes(system_prompt);
  args.answer_prefix_option = sub.add_option("--answer-prefix", args.answer_prefix,
                                             "text after the generation prompt, before the score token (e.g. 'Score: ')");
  args.score_tokens_option =
      sub.add_option("--score-tokens", args.score_tokens,
                     "score labels: 1..5, 0..4, 1..10, or A,B,C (pairwise: first better, second better[, tie], "
                     "default A,B; listwise: one label per position, default A..H)")
          ->default_val("1..5");
  args.orders_option = sub.add_option("--orders", args.orders,
                                      "pairwise / listwise templates: show each pair in both orders, each list in "
                                      "every rotation, and average (cancels the judge's position preference); or "
                                      "only in the row's order (given)")
                           ->default_val("both");
  sub.add_option("--score-token-ids", args.score_token_ids, "score tokens by id (values 1..K)");
  sub.add_option("--lens", args.lens,
                 "raw (LAGER's code: intermediate layers unnormed, last normed) or normed (final norm on every layer)")
      ->default_val("raw");
  sub.add_option("--lager-weights", args.lager_weights, "layer weights from `arbiter train lager` (default: uniform)");
  sub.add_flag("--per-layer", args.per_layer, "write each row's [L+1, K] score-token logits");
  sub.add_option("--rank-by", args.rank_by, "score used for score_chosen/score_rejected: vanilla, expected, lager")
      ->default_val("lager");
  sub.add_flag("--skip-lager", args.skip_lager,
               "final-layer scores only (vanilla, expected): no per-layer reads; --rank-by then defaults to expected");
  sub.add_flag("--generate", args.generate,
               "let the model write (greedy, KV cache) and read where it writes its first score token");
  sub.add_option("--max-new-tokens", args.max_new_tokens, "with --generate: most tokens written per response")
      ->default_val(256);
  args.score_after_option = sub.add_option(
      "--score-after", args.score_after,
      "with --generate: read the first score token written after this text (default: the template's, e.g. "
      "'[RESULT]' for prometheus-feedback; none for the others)");
}

std::string unescape_option_text(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out.push_back(text[i]);
      continue;
    }
    const char next = text[++i];
    out.push_back(next == 'n' ? '\n' : next == 't' ? '\t' : next);
  }
  return out;
}

Result<RewardJobOptions> make_reward_job_options(const RewardArgs& args, const Model& model) {
  RewardJobOptions options;
  if (!args.head_path.empty()) {
    ARB_ASSIGN(train::RewardHead head, train::load_reward_head(args.head_path));
    if (head.dim != model.config.hidden_size)
      return error(args.head_path + ": head for hidden size " + std::to_string(head.dim) + ", the model has " +
                   std::to_string(model.config.hidden_size));
    options.head = std::make_shared<train::RewardHead>(std::move(head));
  }
  if (args.reward_token_id >= 0) {
    if (options.head) return error("--reward-token-id and --head: give one (the reward is either a logit or the head's)");
    if (model.config.is_classifier())
      return error("--reward-token-id: " + model.path + " is a sequence-classification model; its head gives the reward");
    if (args.reward_token_id >= model.config.vocab_size)
      return error("--reward-token-id " + std::to_string(args.reward_token_id) + " is outside the vocabulary (" +
                   std::to_string(model.config.vocab_size) + " tokens)");
    options.reward_token_id = int32_t(args.reward_token_id);
  } else if (!options.head && !model.config.is_classifier()) {
    return error(model.path + ": not a sequence-classification model (use `arbiter judge` for a causal LM, "
                 "--head with a head from `arbiter train head`, or --reward-token-id for a model that keeps its "
                 "reward in a logit, as Nemotron-70B-Reward-HF does)");
  }
  for (const auto& [option, value] : {std::pair<const char*, const std::string&>{"--step-tag", args.step_tag},
                                      {"--split-steps", args.split_steps}})
    if (!value.empty() && (!model.config.process_reward || options.head))
      return error(std::string(option) + ": " + model.path + " is not a process reward model (its head reads the last token)");
  if (model.config.process_reward && !options.head) {
    ARB_ASSIGN(options.step_aggregate, parse_step_aggregate(args.step_aggregate));
    if (!(args.step_threshold > 0.0 && args.step_threshold < 1.0))
      return error("--step-threshold must be between 0 and 1 (a step reward is a probability)");
    options.step_threshold = args.step_threshold;
    options.step_tag = args.step_tag.empty() ? model.config.step_tag : args.step_tag;
    options.split_steps_at = unescape_option_text(args.split_steps);
    if (!args.attribute_weights.empty())
      return error("--attribute-weights: a process reward model gives one reward per step (see --step-aggregate)");
  }
  if (model.config.gating.enabled && !options.head && !args.attribute_weights.empty())
    return error("--attribute-weights: " + model.path + " weighs its objectives itself (a gated head)");
  if (!args.attribute_weights.empty()) {
    const RewardJob unweighted(model, nullptr, options);  // only to learn the output names
    ARB_ASSIGN(AttributeWeights weights, parse_attribute_weights(args.attribute_weights, unweighted.labels()));
    options.weights = weights;
  }
  return options;
}

Result<JudgeOptions> make_judge_options(const JudgeArgs& args, const Model& model, const Tokenizer* tokenizer) {
  JudgeOptions options;
  if (!args.template_file.empty()) {
    ARB_ASSIGN(std::string text, read_file(args.template_file));
    options.prompt_template = make_judge_template(args.template_file, text);
  } else {
    ARB_ASSIGN(options.prompt_template, builtin_judge_template(args.template_name));
  }
  if (args.answer_prefix_option && args.answer_prefix_option->count() > 0)
    options.prompt_template.answer_prefix = args.answer_prefix;
  options.prompt_template.system_message = args.system_prompt;
  if (!args.system_prompt_file.empty()) {
    ARB_ASSIGN(options.prompt_template.system_message, read_file(args.system_prompt_file));
  }
  const bool pairwise = options.prompt_template.pairwise, listwise = options.prompt_template.listwise;
  if (pairwise && listwise)
    return error("template '" + options.prompt_template.name + "' has both {response_a} (pairwise) and {responses} "
                 "(listwise): use one");
  const bool score_tokens_given = args.score_tokens_option && args.score_tokens_option->count() > 0;
  if (!args.score_token_ids.empty()) {
    ARB_ASSIGN(std::vector<int32_t> ids, parse_int_list(args.score_token_ids, "--score-token-ids"));
    ARB_ASSIGN(options.score_tokens, score_tokens_from_ids(tokenizer, ids, {}));
  } else {
    if (!tokenizer) return error("the model has no tokenizer: give the score tokens with --score-token-ids");
    const std::string spec = score_tokens_given ? args.score_tokens
                             : pairwise         ? "A,B"
                             : listwise         ? "A,B,C,D,E,F,G,H"
                                                : args.score_tokens;
    ARB_ASSIGN(options.score_tokens, resolve_score_tokens(*tokenizer, spec));
  }
  if (pairwise) {
    // A pairwise label's value is the credit of the response shown first, whatever the label's text.
    auto values = pairwise_label_values(options.score_tokens.ids.size());
    if (!values) return error("template '" + options.prompt_template.name + "': " + values.message());
    options.score_tokens.values = std::move(values).value();
  }
  if (args.orders != "both" && args.orders != "given") return error("--orders must be both or given");
  if (listwise && options.score_tokens.ids.size() < 2)
    return error("a listwise judge needs a label per response: give two or more --score-tokens");
  if (!pairwise && !listwise && args.orders_option && args.orders_option->count() > 0)
    return error("--orders applies to pairwise and listwise templates (those with {response_a} or {responses}), "
                 "not '" + options.prompt_template.name + "'");
  options.both_orders = args.orders == "both";
  if (args.lens == "raw") options.lens = Lens::kRaw;
  else if (args.lens == "normed") options.lens = Lens::kNormed;
  else return error("--lens must be raw or normed");
  if (args.rank_by != "vanilla" && args.rank_by != "expected" && args.rank_by != "lager")
    return error("--rank-by must be vanilla, expected or lager");
  options.rank_by = args.rank_by;
  options.per_layer = args.per_layer;
  options.lager = !args.skip_lager;
  if (args.skip_lager) {
    if (args.per_layer) return error("--per-layer and --skip-lager exclude each other");
    if (!args.lager_weights.empty()) return error("--lager-weights and --skip-lager exclude each other");
    if (args.rank_by == "lager") options.rank_by = "expected";
  }
  options.generate = args.generate;
  options.max_new_tokens = args.max_new_tokens;
  const bool score_after_given = args.score_after_option && args.score_after_option->count() > 0;
  if (score_after_given) options.score_marker = args.score_after;
  if (!args.generate && (score_after_given || !options.prompt_template.score_marker.empty()))
    return error(score_after_given ? "--score-after needs --generate"
                                   : "the template '" + options.prompt_template.name +
                                         "' has the model write before it scores: add --generate");
  if (args.generate && args.max_new_tokens < 1) return error("--max-new-tokens must be at least 1");
  const std::string marker = score_after_given ? args.score_after : options.prompt_template.score_marker;
  if (args.generate && (pairwise || listwise) && marker.empty())
    return error("--generate with the " + std::string(pairwise ? "pairwise" : "listwise") + " template '" +
                 options.prompt_template.name + "' needs a score marker (--score-after, e.g. '[RESULT]', as "
                 "pairwise-feedback sets): its labels are letters the model also writes as words, so the first one "
                 "written is not necessarily its verdict");
  if (args.generate && !tokenizer && (score_after_given || !options.prompt_template.score_marker.empty()))
    return error("--generate with a score marker needs the model's tokenizer to read what it writes");
  if (!args.lager_weights.empty()) {
    ARB_ASSIGN(train::LagerWeights weights, train::load_lager_weights(args.lager_weights));
    if (int64_t(weights.layer_weights.size()) != model.config.num_layers + 1)
      return error(args.lager_weights + ": weights for " + std::to_string(weights.layer_weights.size()) +
                   " layers, the model has " + std::to_string(model.config.num_layers + 1) + " (layers + embeddings)");
    options.lager_weights = std::move(weights);
  }
  return options;
}

}  // namespace arbiter::cli
