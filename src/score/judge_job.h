// LLM-as-a-judge. Pointwise: each response is put into a grading prompt, the model reads it, and the
// score-token logits at the position that predicts the score give three scores:
//   vanilla  = the value of the argmax score token of the final layer,
//   expected = the expectation of the values under the final layer's softmax over score tokens,
//   lager    = the expectation under softmax(sum_l w_l * logits_l) over all L+1 layers (LAGER),
//              with w uniform or trained (`arbiter train lager`).
// Pairwise (a template with {response_a}, score/pairwise.h): each pair of a row's responses is shown in
// both orders, the same three scores are read as the first response's share of the win, and each
// response's scores are its mean win rates over the comparisons it took part in.
// Listwise (a template with {responses}, score/listwise.h): all responses in one prompt, in every
// rotation of their order; each response's scores are its mean chance of being named the best.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "score/dataset_runner.h"
#include "score/formatter.h"
#include "score/pairwise.h"
#include "score/judge_templates.h"
#include "score/score_tokens.h"
#include "train/lager.h"

namespace arbiter {

struct JudgeOptions {
  JudgeTemplate prompt_template;
  ScoreTokens score_tokens;
  Lens lens = Lens::kRaw;
  std::optional<train::LagerWeights> lager_weights;  // uniform when absent
  bool per_layer = false;                            // write each row's [L+1, K] logits
  bool lager = true;  // false: final-layer scores only (vanilla, expected), no per-layer reads
  std::string rank_by = "lager";                     // which score fills score_chosen / score_rejected
  // Let the model write first (greedy, with a KV cache, at most max_new_tokens) and read the position
  // that predicts the first score token it writes after the score marker (the LAGER paper's reading).
  bool generate = false;
  int64_t max_new_tokens = 256;
  std::optional<std::string> score_marker;  // overrides the template's; "" = the first score token at all
  // Pairwise templates: show every pair in both orders; listwise ones: every rotation of the list (false:
  // only the row's order, less work, but the judge's position preference stays in the scores).
  bool both_orders = true;
  // Pairwise templates: compare only a chosen with a rejected response (RM-Bench's and RewardBench's
  // accuracy need no more), not every pair.
  bool chosen_against_rejected = false;
};

// The three scores of one read, from final-layer logits [K] and per-layer logits [L+1][K].
struct JudgeScores {
  double vanilla = 0, expected = 0, lager = 0;
  std::vector<double> probabilities;  // [K] final-layer softmax over the score tokens
};
Result<JudgeScores> judge_scores(const std::vector<double>& final_logits,
                                 const std::vector<std::vector<double>>& per_layer_logits,
                                 const std::vector<double>& layer_weights, const std::vector<double>& values);

// Over a pairwise run's rows: how many pairs were shown in both orders, and in how many of those the two
// final-layer verdicts named the same winner (or a tie twice). Over a listwise run's rows: the rows shown
// in several orders and the sum of their order agreements.
struct OrderAgreementTally {
  size_t pairs = 0, agreeing = 0;
  size_t listwise_rows = 0;
  double listwise_agreement_sum = 0.0;
};

class JudgeJob final : public RowJob {
 public:
  JudgeJob(const Model& model, std::shared_ptr<ConversationFormatter> formatter, JudgeOptions options);
  ForwardOptions forward_options() const override;
  Result<std::vector<SequenceOutput>> run_batch(Backend& backend, const std::vector<SequenceInput>& inputs) override;
  Result<std::vector<SequenceInput>> prepare(const data::Example& example) override;
  Result<nlohmann::json> finish(const data::Example& example, std::vector<SequenceOutput>& outputs) override;
  // The rows finished so far (finish() is called from one thread).
  const OrderAgreementTally& order_agreement() const { return order_agreement_; }

 private:
  // The placeholders every kind of template shares: prompt, rubric, reference, scores.
  std::map<std::string, std::string> row_values(const data::Example& example) const;
  Result<std::string> grading_prompt(const data::Example& example, const std::string& response) const;
  Result<std::string> pairwise_prompt(const data::Example& example, const std::string& first,
                                      const std::string& second) const;
  // [L+1][n] score-token logits of a read (its first n score tokens), row L the model's own.
  std::vector<std::vector<double>> per_layer_logits(const SequenceOutput& out, size_t n) const;
  // One read's scores and its per-read output fields (probabilities, per-layer logits, written text).
  Result<JudgeScores> read_scores(const SequenceOutput& out, nlohmann::json& fields) const;
  Result<nlohmann::json> finish_pairwise(const data::Example& example, std::vector<SequenceOutput>& outputs);
  // The comparisons a pairwise judge makes of the row's responses (all pairs, or chosen against rejected).
  Result<std::vector<Comparison>> comparisons_of(const data::Example& example) const;
  Result<std::string> listwise_prompt(const data::Example& example, const std::vector<size_t>& order) const;
  Result<nlohmann::json> finish_listwise(const data::Example& example, std::vector<SequenceOutput>& outputs);
  // A read the backend returned: a score was written (with --generate) and the sizes are as asked.
  Status check_read(const SequenceOutput& out) const;
  // Generation: whether the newest written token is the score to read.
  bool is_score_to_read(const std::vector<int32_t>& written) const;
  std::string written_text(const std::vector<int32_t>& tokens) const;

  const Model& model_;
  std::shared_ptr<ConversationFormatter> formatter_;
  JudgeOptions options_;
  std::vector<double> layer_weights_;  // [L+1]
  // Generation: every token that writes a score label (the score tokens themselves, and other
  // spellings of a label such as " 4" or "▁4"), and the tokens that end a turn.
  std::unordered_map<int32_t, size_t> score_spellings_;
  std::vector<int32_t> stop_token_ids_;
  std::string score_marker_;
  OrderAgreementTally order_agreement_;
};

}  // namespace arbiter
