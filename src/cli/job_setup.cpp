#include "cli/job_setup.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "cli/model_options.h"
#include "cli/option_checks.h"
#include "core/log.h"
#include "core/mapped_file.h"
#include "model/fingerprint.h"
#include "model/gguf_config.h"
#include "score/pairwise.h"

namespace arbiter::cli {

namespace {

// "a,b" -> {"a", "b"}: pieces kept as written (a token's text may be a space).
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return parts;
    start = comma + 1;
  }
}

}  // namespace

void add_reward_options(CLI::App& sub, RewardArgs& args) {
  sub.add_option("--attribute-weights", args.attribute_weights,
                 "combine several outputs: 'nemotron' (0.30, 0.74, 0.46, 0.47, -0.33), name=w,... or w,w,...")
      ->check([](const std::string& text) { return text.empty() ? std::string("must not be empty") : std::string(); });
  sub.add_option("--head", args.head_path, "a reward head from `arbiter train head` for a causal backbone")->check(non_empty());
  sub.add_option("--reward-token-id", args.reward_token_id,
                 "a causal LM that keeps its reward in one token's logit at the last position: that token "
                 "(0 for Llama-3.1-Nemotron-70B-Reward-HF and Llama-3.3-Nemotron-70B-Reward)")
      ->check(non_negative_number());
  sub.add_flag("--normalize-reward", args.normalize_reward,
               "report (reward - mean) / std with the mean and std the model saved (OpenRLHF's reward models keep "
               "them in config.json; its server's --normalize_reward)");
  sub.add_option("--step-tag", args.step_tag,
                 "process reward models: the token that ends each step (default: the model's, e.g. <extra_0>; "
                 "Math-Shepherd's: ки)")->check(non_empty());
  sub.add_option("--step-tag-id", args.step_tag_id, "process reward models: the separator by token id")
      ->check(non_negative_number());
  sub.add_option("--step-join", args.step_join,
                 "process reward models: the text after each step when a list of steps is written out, holding the "
                 "separator (default: the separator alone; Math-Shepherd's PRM: ' ки\\n')");
  sub.add_option("--step-tokens", args.step_tokens,
                 "a causal LM as a process reward model: the tokens it predicts after a right and a wrong step, "
                 "read at each separator (Math-Shepherd: '+,-'); the reward is the softmax's share of the first");
  sub.add_option("--step-token-ids", args.step_token_ids, "the same tokens by id (right,wrong)");
  sub.add_flag("--step-turns", args.step_turns,
               "with --step-tokens (or a binary --head): each step is a user's turn answered by the right step's "
               "token, read where each assistant turn opens (RLHFlow's PRMs: --step-tokens '+,-' --step-turns)");
  sub.add_option("--step-answer", args.step_answer,
                 "with --step-turns and --head: the assistant's answer to each step (default '+', as in features)")->check(non_empty());
  args.step_aggregate_option =
      sub.add_option("--step-aggregate", args.step_aggregate,
                     "process reward models: a solution's score from its step rewards: min, product, mean, last")
          ->default_val("min");
  sub.add_option("--split-steps", args.split_steps,
                 "process reward models: split a response that holds no separator into steps at this text "
                 "(\\n and \\t are understood: --split-steps '\\n\\n')")
      ->check([](const std::string& text) { return text.empty() ? std::string("must not be empty") : std::string(); });
  args.step_threshold_option =
      sub.add_option("--step-threshold", args.step_threshold,
                     "process reward models: a step rewarded at or below this is wrong (first_error_step)")
          ->default_val(0.5);
}

void add_judge_options(CLI::App& sub, JudgeArgs& args) {
  CLI::Option* template_option = sub.add_option("--template", args.template_name,
                 "built-in grading prompt: generic, prometheus, prometheus-feedback (needs --generate), "
                 "direct-helpfulness, direct-correctness, direct-coherence, direct-complexity, direct-verbosity; "
                 "pairwise, pairwise-feedback (needs --generate): which of two responses is better; "
                 "listwise: which of all the responses is best")
      ->default_val("generic");
  sub.add_option("--template-file", args.template_file,
                 "a grading prompt file with {prompt} {response} {rubric} {reference} {min_score} {max_score} {scores}; "
                 "or a pairwise one with {response_a} {response_b} {label_a} {label_b} {label_tie} {verdicts}; "
                 "or a listwise one with {responses} {labels} {n}")
      ->excludes(template_option)->check(non_empty());
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
          ->default_val("1..5")->check(non_empty());
  args.orders_option = sub.add_option("--orders", args.orders,
                                      "pairwise / listwise templates: show each pair in both orders, each list in "
                                      "every rotation, and average (cancels the judge's position preference); or "
                                      "only in the row's order (given)")
                           ->default_val("both");
  args.pairs_option = sub.add_option("--pairs", args.pairs,
                                     "pairwise templates: compare every pair of a row's responses (all), or only "
                                     "each chosen with each rejected one (chosen-rejected: what RewardBench 2 and "
                                     "RM-Bench accuracy read, fewer comparisons)")
                          ->default_val("all");
  // By id the tokens' values are 1..K: labels given beside them would be silently dropped.
  sub.add_option("--score-token-ids", args.score_token_ids, "score tokens by id (values 1..K)")
      ->check(non_empty())
      ->excludes(args.score_tokens_option);
  sub.add_option("--lens", args.lens,
                 "raw (LAGER's code: intermediate layers unnormed, last normed) or normed (final norm on every layer)")
      ->default_val("raw");
  sub.add_option("--lager-weights", args.lager_weights, "layer weights from `arbiter train lager` (default: uniform)")->check(non_empty());
  sub.add_flag("--per-layer", args.per_layer, "write each row's [L+1, K] score-token logits");
  args.rank_by_option =
      sub.add_option("--rank-by", args.rank_by, "score used for score_chosen/score_rejected: vanilla, expected, lager")
          ->default_val("lager");
  sub.add_flag("--skip-lager", args.skip_lager,
               "final-layer scores only (vanilla, expected): no per-layer reads; --rank-by then defaults to expected");
  sub.add_flag("--generate", args.generate,
               "let the model write (greedy, KV cache) and read where it writes its first score token");
  args.max_new_tokens_option =
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

Status refuse_separator_with_step_turns(const std::string& step_tag, int64_t step_tag_id, const std::string& step_join) {
  if (step_tag.empty() && step_tag_id < 0 && step_join.empty()) return Status::ok();
  return error("--step-turns: the steps are turns of a conversation, not text ended by a separator: leave out "
               "--step-tag, --step-tag-id and --step-join");
}

namespace {

// The options that decide the token sequence a head reads, which `features` and the commands that apply a
// head share.
const std::vector<std::string> kSequenceOptions = {"--chat-template", "--chat-template-kwargs", "--plain", "--max-length",
                                                   "--truncation", "--step-tag", "--step-tag-id", "--step-join",
                                                   "--split-steps", "--step-turns", "--step-answer"};

void warn_if_formatted_otherwise(const train::RewardHead& head, const std::string& head_path, const RunSettings& given) {
  const std::vector<std::string> differences = formatting_differences(head, given, "here");
  if (differences.empty()) return;
  std::string message = head_path + " was trained on sequences formatted otherwise than this run's:";
  for (const std::string& d : differences) message += "\n  " + d;
  log_warn(message + "\nits scores assume the formatting it was trained on");
}

// The stream a head reads, from the `layer` its training features were read at: "final_norm" (or a head
// written without one) after the final norm, "layerJ" the output of layer J, which this model must have.
Result<int> head_layer_index(const train::RewardHead& head, const std::string& head_path, const Model& model) {
  if (head.layer.empty() || head.layer == "final_norm") return -1;
  int index = -1;
  if (head.layer.rfind("layer", 0) == 0) {
    const std::string digits = head.layer.substr(5);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec != std::errc() || end != digits.data() + digits.size()) index = -1;
  }
  if (index < 0) return error(head_path + ": layer '" + head.layer + "' is neither final_norm nor layerJ");
  if (index > model.config.num_layers)
    return error(head_path + ": the head reads layer " + std::to_string(index) + ", and " + model.path + " has layers 0.." +
                 std::to_string(model.config.num_layers));
  return index;
}

}  // namespace

Result<RewardJobOptions> make_reward_job_options(const RewardArgs& args, const Model& model, const RunSettings& given) {
  RewardJobOptions options;
  if (!args.head_path.empty()) {
    ARB_ASSIGN(train::RewardHead head, train::load_reward_head(args.head_path));
    if (head.dim != model.config.hidden_size)
      return error(args.head_path + ": head for hidden size " + std::to_string(head.dim) + ", the model has " +
                   std::to_string(model.config.hidden_size));
    // Another quantization of the backbone is a fair use of a head, so this is a warning, not an error.
    if (const std::string ours = head.model_fingerprint.empty() ? "" : model_fingerprint(model);
        !ours.empty() && head.model_fingerprint != ours)
      log_warn(args.head_path + " was trained on features of " + head.model + " (fingerprint " + head.model_fingerprint +
               "); " + model.path + " fingerprints " + ours +
               ": another model, or another quantization of it. The head's scores mean something only on the "
               "backbone it was trained on");
    warn_if_formatted_otherwise(head, args.head_path, given);
    ARB_ASSIGN(options.head_layer, head_layer_index(head, args.head_path, model));
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
  }
  const bool causal_steps = !args.step_tokens.empty() || !args.step_token_ids.empty();
  if (causal_steps) {
    if (!args.step_tokens.empty() && !args.step_token_ids.empty()) return error("--step-tokens and --step-token-ids: give one");
    if (options.head || args.reward_token_id >= 0 || model.config.is_classifier())
      return error("--step-tokens: the step tokens are a causal LM's logits; " +
                   (model.config.is_classifier() ? model.path + " is a sequence-classification model"
                                                 : std::string("not with --head or --reward-token-id")));
    if (args.step_turns) {
      ARB_TRY(refuse_separator_with_step_turns(args.step_tag, args.step_tag_id, args.step_join));
      if (args.step_tokens.empty())
        return error("--step-turns: give the step tokens as text (--step-tokens '+,-'): the right one answers each step");
      options.step_turns = true;
    } else if (args.step_tag.empty() && args.step_tag_id < 0) {
      return error("--step-tokens: give the separator the model reads them at with --step-tag (Math-Shepherd: ки), "
                   "or --step-turns for steps as turns of a conversation (RLHFlow)");
    }
    if (!args.step_token_ids.empty()) {
      ARB_ASSIGN(options.step_label_token_ids, parse_int_list(args.step_token_ids, "--step-token-ids"));
      if (options.step_label_token_ids.size() != 2)
        return error("--step-token-ids: give two ids, the right step's token then the wrong one's");
      if (options.step_label_token_ids[0] == options.step_label_token_ids[1])
        return error("--step-token-ids: the two ids are the same");
      for (int32_t id : options.step_label_token_ids)
        if (id < 0 || id >= model.config.vocab_size)
          return error("--step-token-ids: " + std::to_string(id) + " is outside the vocabulary (" +
                       std::to_string(model.config.vocab_size) + " tokens)");
    } else {
      options.step_label_tokens = split_list(args.step_tokens);
      if (options.step_label_tokens.size() != 2)
        return error("--step-tokens: give two tokens, the right step's then the wrong one's ('+,-')");
    }
  } else if (args.step_turns && !options.head) {
    return error("--step-turns: steps as turns are read by a causal LM's step tokens (--step-tokens) or by a binary "
                 "head (--head)");
  } else if (!options.head && args.reward_token_id < 0 && !model.config.is_classifier()) {
    return error(model.path + ": not a sequence-classification model (use `arbiter judge` for a causal LM, "
                 "--head with a head from `arbiter train head`, --reward-token-id for a model that keeps its "
                 "reward in a logit, as Nemotron-70B-Reward-HF does, or --step-tokens for a process reward model "
                 "that writes its verdict on each step, as Math-Shepherd's does)");
  }
  // A binary head trained on step features reads every separator when given one (or every answer's turn).
  const bool step_separator_given = !args.step_tag.empty() || args.step_tag_id >= 0;
  if (options.head && (step_separator_given || args.step_turns)) {
    if (options.head->objective != "binary")
      return error(std::string(args.step_turns ? "--step-turns" : "--step-tag") + " with --head: " + args.head_path +
                   " is a '" + options.head->objective + "' head; a head read at every step is trained with `arbiter "
                   "features --step-tag` (or --step-turns) and `arbiter train head --objective binary`");
    if (args.step_turns) ARB_TRY(refuse_separator_with_step_turns(args.step_tag, args.step_tag_id, args.step_join));
    options.head_reads_steps = true;
    options.step_turns = args.step_turns;
  }
  if (!args.step_answer.empty()) {
    if (!args.step_turns) return error("--step-answer: the answer to each step is written with --step-turns");
    if (causal_steps) return error("--step-answer: with --step-tokens the right step's token is the answer");
    options.step_answer = unescape_option_text(args.step_answer);
  }
  const bool reads_steps = options.head ? options.head_reads_steps : model.config.process_reward || causal_steps;
  auto was_given = [](const CLI::Option* option) { return option && option->count() > 0; };
  for (const auto& [option, value] : {std::pair<const char*, bool>{"--step-tag", !args.step_tag.empty()},
                                      {"--split-steps", !args.split_steps.empty()}, {"--step-join", !args.step_join.empty()},
                                      {"--step-aggregate", was_given(args.step_aggregate_option)},
                                      {"--step-threshold", was_given(args.step_threshold_option)}})
    if (value && !reads_steps)
      return error(std::string(option) + ": " + model.path + " is not a process reward model (its head reads the last "
                   "token; a causal LM becomes one with --step-tokens)");
  if (args.step_tag_id >= 0 && !reads_steps)
    return error("--step-tag-id: " + model.path + " is not a process reward model");
  if (reads_steps) {
    if (args.step_tag_id >= 0) {
      if (args.step_tag_id >= model.config.vocab_size)
        return error("--step-tag-id " + std::to_string(args.step_tag_id) + " is outside the vocabulary (" +
                     std::to_string(model.config.vocab_size) + " tokens)");
      options.step_token_id = int32_t(args.step_tag_id);
    }
    options.step_join = unescape_option_text(args.step_join);
    if (!options.step_join.empty() && !args.step_tag.empty() && options.step_join.find(args.step_tag) == std::string::npos)
      return error("--step-join '" + args.step_join + "' does not hold the separator '" + args.step_tag + "'");
    ARB_ASSIGN(options.step_aggregate, parse_step_aggregate(args.step_aggregate));
    if (!(args.step_threshold > 0.0 && args.step_threshold < 1.0))
      return error("--step-threshold must be between 0 and 1 (a step reward is a probability)");
    options.step_threshold = args.step_threshold;
    // A separator given by id alone has no text (steps in a list then need --step-join to be written out).
    options.step_tag = !args.step_tag.empty() ? args.step_tag
                       : args.step_tag_id >= 0 || options.head || options.step_turns ? "" : model.config.step_tag;
    options.split_steps_at = unescape_option_text(args.split_steps);
    if (!args.attribute_weights.empty())
      return error("--attribute-weights: a process reward model gives one reward per step (see --step-aggregate)");
  }
  if (args.normalize_reward) {
    if (options.head || reads_steps || model.config.num_labels != 1)
      return error("--normalize-reward: it normalizes the reward of the model's own one-output head (" + model.path +
                   (options.head ? " is read through --head)" : reads_steps ? " rates steps)" : " has another head)"));
    if (!(model.config.reward_std > 0))
      return error("--normalize-reward: " + model.path + " saved no reward mean and std (config.json's 'mean' and "
                   "'std', as OpenRLHF's reward models have them)");
    options.normalize_reward = true;
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

Result<JudgeOptions> make_judge_options(const JudgeArgs& args, const Model& model, const Tokenizer* tokenizer,
                                        const RunSettings& settings) {
  if (model.lm_head_missing)
    return error(model.path + ": a sequence-classification model without an LM head: a judge reads the next-token "
                 "logits of a causal LM (score this model with `arbiter score`)" +
                 (model.gguf ? std::string("; a GGUF classifier whose LM head is its embedding says so with <arch>.") +
                                   kGgufClassifierTiedKey + " (arbiter convert writes it)"
                             : std::string()));
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
  ARB_TRY(check_judge_template(options.prompt_template));
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
    if (options.score_tokens.ids.size() != 3 && options.prompt_template.text.find("{label_tie}") != std::string::npos)
      return error("template '" + options.prompt_template.name + "' shows {label_tie}, the third label: give three "
                   "--score-tokens (A,B,C: the third a tie)");
  }
  if (args.orders != "both" && args.orders != "given") return error("--orders must be both or given");
  if (listwise && options.score_tokens.ids.size() < 2)
    return error("a listwise judge needs a label per response: give two or more --score-tokens");
  if (!pairwise && !listwise && args.orders_option && args.orders_option->count() > 0)
    return error("--orders applies to pairwise and listwise templates (those with {response_a} or {responses}), "
                 "not '" + options.prompt_template.name + "'");
  options.both_orders = args.orders == "both";
  if (args.pairs != "all" && args.pairs != "chosen-rejected") return error("--pairs must be all or chosen-rejected");
  if (!pairwise && args.pairs_option && args.pairs_option->count() > 0)
    return error("--pairs applies to pairwise templates (those with {response_a}), not '" +
                 options.prompt_template.name + "'");
  options.chosen_against_rejected = args.pairs == "chosen-rejected";
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
    if (args.rank_by == "lager" && args.rank_by_option && args.rank_by_option->count() > 0)
      return error("--rank-by lager and --skip-lager exclude each other: rank by vanilla or expected, or compute LAGER");
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
  if (!args.generate && args.max_new_tokens_option && args.max_new_tokens_option->count() > 0)
    return error("--max-new-tokens needs --generate");
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
    // Weights fitted on other score tokens (another scale, a pointwise fit used pairwise) weigh layers for
    // another readout: usable, but not what they were fitted for.
    // A listwise fit's values are [1, 0, ..., 0], one per response shown (people's best first), whatever the
    // labels: any such fit suits a listwise judge, and nothing else does.
    const std::vector<double>& fitted = weights.score_values;
    const bool best_first = fitted.size() >= 2 && fitted[0] == 1.0 &&
                            std::all_of(fitted.begin() + 1, fitted.end(), [](double v) { return v == 0.0; });
    if (listwise ? !best_first : !fitted.empty() && fitted != options.score_tokens.values) {
      auto list = [](const std::vector<double>& values) {
        std::string text;
        for (double v : values) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%g", v);
          if (!text.empty()) text += ',';
          text += buf;
        }
        return text;
      };
      log_warn(args.lager_weights + " was fitted on score values " + list(weights.score_values) + "; this judge reads " +
               list(options.score_tokens.values) + ": its layer weights were fitted for another readout");
    }
    // Likewise another judge model of the same depth, or another template, system prompt or chat template.
    if (!weights.judge_fingerprint.empty()) {
      if (const std::string ours = model_fingerprint(model); ours != weights.judge_fingerprint)
        log_warn(args.lager_weights + " was fitted on the reads of " + weights.judge_model + " (fingerprint " +
                 weights.judge_fingerprint + "); this judge is " + model.path + " (" + ours +
                 "): its layers weigh differently");
    }
    if (weights.judge_settings) {
      const auto differences = describe_setting_differences(
          *weights.judge_settings, settings.only(train::lager_readout_options()), "when fitted", "here");
      if (!differences.empty()) {
        std::string listed;
        for (const std::string& d : differences) listed += (listed.empty() ? "" : "; ") + d;
        log_warn(args.lager_weights + " was fitted on reads made with other options (" + listed +
                 "): its layer weights were fitted for another readout");
      }
    }
    options.lager_weights = std::move(weights);
  }
  return options;
}

std::vector<std::string> formatting_differences(const train::RewardHead& head, const RunSettings& given,
                                                const std::string& given_name) {
  if (!head.feature_settings) return {};
  return describe_setting_differences(head.feature_settings->only(kSequenceOptions), given.only(kSequenceOptions),
                                      "for its training features", given_name);
}

}  // namespace arbiter::cli
