// How the commands that run a reward model or a judge (score, judge, serve) turn their options into a
// job's options, so that `arbiter serve` scores exactly as `arbiter score` / `arbiter judge` do.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "core/run_settings.h"
#include "core/status.h"
#include "model/model.h"
#include "score/judge_job.h"
#include "score/reward_job.h"

namespace arbiter::cli {

struct RewardArgs {
  std::string attribute_weights, head_path;
  std::string step_tag, step_aggregate = "min", split_steps;
  std::string step_join, step_tokens, step_token_ids;
  double step_threshold = 0.5;
  bool step_turns = false, normalize_reward = false;
  std::string step_answer;
  int64_t reward_token_id = -1, step_tag_id = -1;
  // set by add_reward_options: whether --step-aggregate / --step-threshold were given (they have defaults, and
  // a model that does not read steps refuses them rather than record options that change nothing)
  CLI::Option* step_aggregate_option = nullptr;
  CLI::Option* step_threshold_option = nullptr;
};

struct JudgeArgs {
  std::string template_name = "generic", template_file, answer_prefix, score_tokens = "1..5", score_token_ids;
  std::string lens = "raw", lager_weights, rank_by = "lager";
  bool per_layer = false;
  bool generate = false, skip_lager = false;
  int64_t max_new_tokens = 256;
  std::string score_after;
  std::string orders = "both";
  std::string pairs = "all";
  std::string system_prompt, system_prompt_file;
  CLI::Option* answer_prefix_option = nullptr;  // set by add_judge_options: whether --answer-prefix was given
  CLI::Option* score_after_option = nullptr;    // whether --score-after was given
  CLI::Option* score_tokens_option = nullptr;   // whether --score-tokens was given (pairwise: A,B otherwise)
  CLI::Option* orders_option = nullptr;         // whether --orders was given
  CLI::Option* pairs_option = nullptr;          // whether --pairs was given
  CLI::Option* rank_by_option = nullptr;        // whether --rank-by was given
  CLI::Option* max_new_tokens_option = nullptr; // whether --max-new-tokens was given (it needs --generate)
};

void add_reward_options(CLI::App& sub, RewardArgs& args);
void add_judge_options(CLI::App& sub, JudgeArgs& args);

// A trained head must match the model's hidden size; without one the model must be a classifier. `given`:
// the command's settings (option_settings), which a head's training features are compared with: a head
// applied to sequences formatted otherwise than its training features were (another chat template,
// truncation, step layout) gets a warning.
Result<RewardJobOptions> make_reward_job_options(const RewardArgs& args, const Model& model, const RunSettings& given);
// How the options that decide the token sequence a head reads (chat template, --plain, truncation, step
// layout) differ between the head's training features and `given`, one line each; empty when they agree
// or the head does not say.
std::vector<std::string> formatting_differences(const train::RewardHead& head, const RunSettings& given,
                                                const std::string& given_name);
// An option's text with \n, \t and \\ read as the characters they name (other escapes: the character).
std::string unescape_option_text(const std::string& text);

// --step-turns reads where each answer's turn opens: a separator (--step-tag, --step-tag-id, --step-join)
// beside it is an error.
Status refuse_separator_with_step_turns(const std::string& step_tag, int64_t step_tag_id, const std::string& step_join);

// `tokenizer` may be null (a model without one): score tokens must then be given by id.
// `settings`: this run's options (option_settings), held to those of the judge run that --lager-weights
// were fitted on, where the weights name it.
Result<JudgeOptions> make_judge_options(const JudgeArgs& args, const Model& model, const Tokenizer* tokenizer,
                                        const RunSettings& settings);

}  // namespace arbiter::cli
