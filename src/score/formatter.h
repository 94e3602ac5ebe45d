// Turns examples into token sequences the way the model was trained to read them: the model's chat
// template (rendered as transformers' apply_chat_template does) and its tokenizer, with a stated
// truncation policy. Models without a template get a plain "User: ... / Assistant: ..." layout.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/example.h"
#include "model/model.h"
#include "runtime/backend.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace arbiter {

enum class Truncation {
  kPromptLeft,  // keep the response whole, drop the oldest prompt tokens (RewardBench's policy; default)
  kRight,       // keep the beginning, drop the end
  kError,       // a too-long row is an error
};
Result<Truncation> parse_truncation(const std::string& name);

struct FormatterOptions {
  int64_t max_length = 0;            // 0: the model's max_position_embeddings
  Truncation truncation = Truncation::kPromptLeft;
  std::string chat_template_source;  // overrides the model's template when set
  bool plain = false;                // ignore any chat template: plain layout
  // Extra variables for every render (transformers' apply_chat_template keyword arguments), e.g.
  // {"enable_thinking": false} for Qwen3's templates.
  nlohmann::ordered_json template_kwargs = nlohmann::ordered_json::object();
};

// A --chat-template-kwargs value: a JSON object, named in the error otherwise.
Result<nlohmann::ordered_json> parse_template_kwargs(const std::string& text);

struct FormattedSequence {
  std::vector<int32_t> tokens;
  int64_t dropped_tokens = 0;  // how many tokens truncation removed
  // Truncation removed the end of the response itself (a response longer than the limit on its own, or
  // --truncation right): what the model read at the end is not where the response ends.
  bool response_end_cut = false;
};

// The sequence a backend runs, with what truncation cut from it (reported per row).
SequenceInput sequence_of(FormattedSequence formatted);

class ConversationFormatter;

// A row given as token ids, held to the length limit: the formatter's (--max-length, --truncation), or
// with no formatter at all (the server's model without a tokenizer), the model's context
// (max_position_embeddings), past which the row is an error.
Status fit_token_row(const ConversationFormatter* formatter, const Model& model, SequenceInput& sequence);

// Whether `formatter` can turn text into tokens: false for none, and for one made for rows of token ids
// only (ConversationFormatter::for_token_ids).
bool formats_text(const ConversationFormatter* formatter);

// The error of a row of text for a model without a tokenizer.
Status no_tokenizer_for_text(const Model& model);

class ConversationFormatter {
 public:
  static Result<std::shared_ptr<ConversationFormatter>> create(const Model& model, const FormatterOptions& options);
  // For a model without a tokenizer: rows of token ids held to --max-length as --truncation says (a
  // leading BOS is the config's bos_token_id); everything that needs text is unavailable (formats_text).
  static Result<std::shared_ptr<ConversationFormatter>> for_token_ids(const Model& model, const FormatterOptions& options);

  // The prompt turns, then `response` as the assistant's turn (reward models read the last token; an
  // OpenRLHF reward model's conversation ends with the EOS it reads at, ModelConfig::reward_at_eos).
  // `response_fields`: the assistant message's other fields (its tool_calls, where a turn of a prompt is
  // scored), for the chat template.
  Result<FormattedSequence> conversation(const std::vector<data::Turn>& prompt, const std::string& response,
                                         const nlohmann::ordered_json& response_fields = nlohmann::ordered_json::object()) const;

  // A grading prompt as the user's message (after `system_message` as the system's, when not empty), the
  // generation prompt, then `answer_prefix` as the start of the assistant's reply, so that the next
  // token is the model's score (judges).
  Result<FormattedSequence> judge_prompt(const std::string& user_message, const std::string& answer_prefix,
                                         const std::string& system_message = "") const;

  // Before any row: a judge's system message (the same for every row) that the chat template leaves out is
  // a setting's error, not every row's.
  Status check_system_message(const std::string& system_message) const;

  // The tokens the chat template's generation prompt adds after a user's turn (Llama 3's
  // `<|start_header_id|>assistant<|end_header_id|>\n\n`): what opens every assistant turn. An error
  // without a chat template, or when the generation prompt adds nothing.
  Result<std::vector<int32_t>> assistant_opening() const;

  // A row given as token ids, cut to the length limit as --truncation says: `right` drops the end;
  // `prompt-left` (which cannot tell prompt from response in ids) keeps a leading BOS and drops the oldest
  // tokens after it, keeping the end where a reward is read; `error` refuses. Read positions move with
  // their tokens; a cut that would drop one is an error (a step's reward would be lost).
  Status fit_token_row(SequenceInput& sequence) const;

  // Only where formats_text(): a formatter for token ids has no tokenizer.
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  bool formats_text() const { return tokenizer_ != nullptr; }
  bool has_chat_template() const { return chat_template_.has_value(); }
  int64_t max_length() const { return max_length_; }

 private:
  Result<std::vector<int32_t>> encode_rendered(const std::string& text) const;
  // An error names the first message the chat template leaves out of the conversation
  // (ChatTemplate::messages_left_out).
  Status check_rendered(const std::vector<data::Turn>& turns) const;
  Result<FormattedSequence> fit(std::vector<int32_t> prefix, std::vector<int32_t> rest) const;
  // A conversation's text as a model that reads its reward at an EOS after it takes it (reward_at_eos_).
  std::string ending_at_eos(std::string text) const;
  // Its tokens: the last one the EOS, also when truncation cut it off.
  FormattedSequence keep_eos_last(FormattedSequence sequence) const;

  std::shared_ptr<Tokenizer> tokenizer_;  // null: a formatter for token ids only
  std::optional<int32_t> bos_id_;        // kept in front by prompt-left truncation of token ids
  // ModelConfig::reward_at_eos, with the EOS token as text and id.
  bool reward_at_eos_ = false;
  std::string eos_text_;
  int32_t eos_id_ = -1;
  std::optional<ChatTemplate> chat_template_;
  int64_t max_length_ = 0;
  Truncation truncation_ = Truncation::kPromptLeft;
};

}  // namespace arbiter
