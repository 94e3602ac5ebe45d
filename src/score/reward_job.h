// Reward-model scoring: each response of a row is formatted as the assistant's turn after the prompt,
// and the classification head (or a trained linear head on the backbone's final-normed state) is read
// at the last token (or, for a causal LM that keeps its reward in a logit, that token's logit). Several
// outputs are reported by name, with an optional weighted sum. A process reward model is read at every
// step separator instead, and reports each step's reward.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "score/dataset_runner.h"
#include "score/formatter.h"
#include "score/step_reads.h"
#include "score/step_rewards.h"
#include "train/reward_head.h"

namespace arbiter {

struct AttributeWeights {
  std::vector<std::string> names;
  std::vector<double> weights;
};

// "nemotron" (HelpSteer2 / Nemotron-4-340B-Reward: helpfulness 0.30, correctness 0.74, coherence 0.46,
// complexity 0.47, verbosity -0.33), or "name=w,name=w", or "w,w,w" in label order.
Result<AttributeWeights> parse_attribute_weights(const std::string& spec, const std::vector<std::string>& labels);

struct RewardJobOptions {
  std::optional<AttributeWeights> weights;
  std::shared_ptr<train::RewardHead> head;  // a trained head on a causal backbone, instead of the model's own
  // The residual stream the head reads, as its training features did: -1 after the final norm
  // ("final_norm"), else the output of that layer ("layerJ"; 0 = the embeddings).
  int head_layer = -1;
  // A causal LM whose reward is one token's logit at the last position (Llama-3.1-Nemotron-70B-Reward-HF
  // puts its reward head into row 0 of the LM head); -1: not such a model.
  int32_t reward_token_id = -1;
  // Process reward models only.
  std::string step_tag;         // the separator's text (default: the model's, e.g. "<extra_0>")
  int32_t step_token_id = -1;   // its id (resolve_step_token, or given), set before the job runs
  // What follows each step when a list of steps is written out; it holds the separator ("" means the
  // separator alone, as Qwen2.5-Math-PRM is trained; Math-Shepherd's PRM reads " ки\n").
  std::string step_join;
  // A causal LM that judges each step by two tokens' logits at the separator (Math-Shepherd's "+" and
  // "-"): the reward is the softmax's share of the first. The texts (each one token), or their ids
  // [right, wrong]; either makes a causal LM a process reward model.
  std::vector<std::string> step_label_tokens;
  std::vector<int32_t> step_label_token_ids;
  // A binary head from `train head` on step features, read at every separator (its logit's sigmoid is the
  // step's reward) rather than at the last token.
  bool head_reads_steps = false;
  StepAggregate step_aggregate = StepAggregate::kMin;
  double step_threshold = 0.5;  // a step whose reward is below this is counted wrong
  // A response holding no separator is split into steps here (e.g. "\n\n"); empty: such a response is an error.
  std::string split_steps_at;
  // Steps as turns of a conversation (RLHFlow's PRMs with step_label_tokens, or a binary head trained on
  // such features): read where each assistant turn opens, not at a separator. Each step is answered with
  // step_answer, or else the right step token's text. turn_opening: the chat template's assistant turn
  // opening, set before the job runs.
  bool step_turns = false;
  std::string step_answer;
  std::vector<int32_t> turn_opening;
  // Also score each assistant turn of a row's prompt, in the conversation before it (reward models that
  // read a whole conversation: classifier heads, trained heads, a reward token's logit, gated heads).
  bool per_turn = false;
  // A one-output head's reward as (r - mean) / std with the model's saved mean and std (OpenRLHF's
  // --normalize_reward).
  bool normalize_reward = false;
  // Gated heads (ArmoRM) only: the tokens of kGatingPatternText, set before the job runs.
  std::vector<int32_t> gating_pattern;
};

// Sets what a model's head needs from its tokenizer before a job runs: a process reward model's step
// separator token (options.step_tag) and step tokens, the assistant turn's opening for steps as turns, a
// gated head's gating pattern. Errors say which text does not fit. `formatter` may be null (a model
// without a tokenizer): then everything must be given by id.
Status resolve_reward_tokens(RewardJobOptions& options, const Model& model, const ConversationFormatter* formatter);

class RewardJob final : public RowJob {
 public:
  RewardJob(const Model& model, std::shared_ptr<ConversationFormatter> formatter, RewardJobOptions options);
  ForwardOptions forward_options() const override;
  Result<std::vector<SequenceInput>> prepare(const data::Example& example) override;
  Result<nlohmann::json> finish(const data::Example& example, std::vector<SequenceOutput>& outputs) override;

  const std::vector<std::string>& labels() const { return labels_; }
  // A process reward model's job (a PRM head, or a causal LM read by two step tokens): rewards per step.
  bool reads_steps() const;
  // A gated head's job (ArmoRM): objectives mixed by a gating network.
  bool reads_gated() const { return model_.config.gating.enabled && !options_.head; }
  // Whether a line carries one "score": one output, weights that combine several, or a step aggregate.
  bool gives_one_score() const { return reads_steps() || options_.weights.has_value() || labels_.size() == 1; }

  // Where a sequence is read: every step separator (process reward models), where the prompt ends and the
  // last token (gated heads), the last token that is not padding (a classifier whose config names a pad
  // token, as transformers reads it: a sequence ending in an EOS that is also the pad token is read just
  // before it), else the last token alone (nothing set). `expected_steps` > 0: that many.
  // Step separators are read from token `response_begin` on (those of the prompt are not steps).
  Status mark_reads(SequenceInput& sequence, size_t expected_steps = 0, size_t response_begin = 0) const;

 private:
  Result<std::vector<double>> head_outputs(const SequenceOutput& out) const;
  // The states a trained head reads from `out` ([reads, d]): the final norm's or its layer's.
  const std::vector<float>& head_states(const SequenceOutput& out) const;
  nlohmann::json describe_response(const std::vector<double>& values) const;
  StepLayout step_layout() const;
  Result<nlohmann::json> describe_steps(const SequenceOutput& out) const;
  Result<nlohmann::json> describe_gated(const SequenceOutput& out) const;
  // The prompt's assistant turns that --per-turn scores (indices into prompt_turns); none without it.
  std::vector<size_t> assistant_turns(const data::Example& example) const;
  // One sequence's result: its steps', its gated head's, or its head outputs by name.
  Result<nlohmann::json> describe(const SequenceOutput& out) const;
  bool causal_steps() const { return !options_.step_label_tokens.empty() || !options_.step_label_token_ids.empty(); }

  const Model& model_;
  std::shared_ptr<ConversationFormatter> formatter_;
  RewardJobOptions options_;
  std::vector<std::string> labels_;
};

}  // namespace arbiter
