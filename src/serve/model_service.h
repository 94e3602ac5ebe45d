// What the server does with one model: turns parsed requests into token sequences (on the handler's
// thread) and the backend's outputs into response bodies. Scoring goes through the same RewardJob /
// JudgeJob as `arbiter score` and `arbiter judge`, so the numbers are the same as theirs.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "score/formatter.h"
#include "score/judge_job.h"
#include "score/reward_job.h"
#include "serve/request_schema.h"

namespace arbiter::serve {

enum class Mode { kReward, kJudge };
Result<Mode> parse_mode(const std::string& name);
const char* mode_name(Mode mode);

struct ServiceOptions {
  Mode mode = Mode::kReward;
  std::string model_name;           // reported as `model` in responses and /v1/models
  FormatterOptions format;          // chat template, --max-length truncation (as `arbiter score`)
  RewardJobOptions reward;
  JudgeOptions judge;               // per_layer: every answer's; a request may ask for its own
  int64_t max_sequence_tokens = 0;  // a longer sequence is refused (0: the formatter's max length)
};

// A request's sequences, item by item: item i owns sequences [first[i], first[i + 1]).
struct Prepared {
  std::vector<SequenceInput> sequences;  // handed to the batch queue (moved out) once prepared
  // Per item: what --max-length truncation cut (SequenceInput::tokens_cut, response_end_cut), kept here
  // for the answer since the sequences travel on.
  std::vector<int64_t> tokens_cut;
  std::vector<bool> response_end_cut;
  std::vector<size_t> first;
  int64_t tokens = 0;
};

class ModelService {
 public:
  // A model without a tokenizer is served for token-id requests only.
  static Result<std::unique_ptr<ModelService>> create(std::shared_ptr<const Model> model, ServiceOptions options);

  Mode mode() const { return options_.mode; }
  const std::string& model_name() const { return options_.model_name; }
  const Model& model() const { return *model_; }
  // Runs a batch as the offline command's job does: a forward pass, or with --generate the judge's
  // writing and the read where it writes its score. Called by the batching worker alone.
  Result<std::vector<SequenceOutput>> run_batch(Backend& backend, const std::vector<SequenceInput>& inputs) const;
  nlohmann::json describe() const;  // one /v1/models entry
  // False for a process reward model (rewards per step) and a gated head (objectives mixed into one
  // score): /classify has nothing to classify.
  bool has_classes() const;

  // Errors name the item (`field`[i]) and are the client's fault (400).
  Result<Prepared> prepare_examples(const std::vector<data::Example>& items, const std::string& field) const;
  Result<Prepared> prepare_queries(const RewardRequest& request) const;
  // A /get_reward query as OpenRLHF's reward server reads it: leading and trailing pad and EOS tokens
  // removed, one EOS appended (the query as it is where the tokenizer has no EOS).
  std::string openrlhf_query(const std::string& query) const;
  // A /get_reward prompt without the pad and EOS run it starts with, as its query is read.
  std::string openrlhf_prompt(const std::string& prompt) const;
  // The tokenizer's EOS text and its pad text (the EOS where it names no pad, as OpenRLHF sets it).
  std::optional<std::pair<std::string, std::string>> eos_and_pad() const;
  Result<Prepared> prepare_pooling(const PoolingRequest& request) const;

  // Errors here are the server's (500): the backend gave something unexpected.
  Result<nlohmann::json> score_response(const std::vector<data::Example>& items, const Prepared& prepared,
                                        std::vector<SequenceOutput>& outputs) const;
  Result<nlohmann::json> judge_response(const JudgeRequest& request, const Prepared& prepared,
                                        std::vector<SequenceOutput>& outputs) const;
  Result<nlohmann::json> reward_response(const Prepared& prepared, std::vector<SequenceOutput>& outputs) const;
  // vLLM /classify (probabilities) or /pooling (the head's raw outputs).
  Result<nlohmann::json> pooling_response(const Prepared& prepared, std::vector<SequenceOutput>& outputs,
                                          bool classify) const;

 private:
  ModelService(std::shared_ptr<const Model> model, ServiceOptions options) : model_(std::move(model)), options_(std::move(options)) {}
  RowJob& job() const;
  Status check_sequence(const SequenceInput& sequence, const std::string& where) const;
  // Where the reward job reads (every step separator of a process reward model; where a gated head's
  // prompt ends): a sequence without such a place is the client's error.
  Status mark_reads(SequenceInput& sequence, const std::string& where, size_t response_begin = 0) const;
  // The first token of a query's response: where its prompt's text ends in it (the tokens the query
  // shares with its prompt encoded alone), or 0 when the query does not hold the prompt.
  Result<size_t> response_begin(const std::string& query, const std::string& prompt, const std::vector<int32_t>& tokens,
                                const std::string& where) const;
  Result<std::vector<int32_t>> encode(const std::string& text, bool add_special, const std::string& where) const;
  // The head's outputs of one sequence in label order, through the reward job.
  Result<std::vector<double>> head_values(SequenceOutput& output) const;
  Result<std::vector<nlohmann::json>> finish_items(RowJob& job, const std::vector<data::Example>& items,
                                                   const Prepared& prepared, std::vector<SequenceOutput>& outputs) const;

  std::shared_ptr<const Model> model_;
  std::string fingerprint_;  // model_fingerprint(*model_), for /v1/models
  ServiceOptions options_;
  std::shared_ptr<ConversationFormatter> formatter_;  // null: the model has no tokenizer
  std::string formatter_error_;                       // why, for the 400 a text request gets
  // The jobs keep no per-row state, so handler threads share them (prepare and finish are only read).
  std::unique_ptr<RewardJob> reward_job_;
  std::unique_ptr<JudgeJob> judge_job_, judge_job_per_layer_;
  int64_t max_sequence_tokens_ = 0;
  mutable std::atomic<bool> warned_prompt_not_found_{false};
};

}  // namespace arbiter::serve
