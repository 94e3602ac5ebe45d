#include "score/formatter.h"

#include <algorithm>

#include "core/log.h"
#include "data/roles.h"
#include "model/model_tokenizer.h"

namespace arbiter {

namespace {

using ordered_json = nlohmann::ordered_json;

ordered_json to_messages(const std::vector<data::Turn>& turns) {
  ordered_json messages = ordered_json::array();
  for (const data::Turn& t : turns) {
    ordered_json message = {{"role", t.role}, {"content", t.content}};
    for (auto it = t.fields.begin(); it != t.fields.end(); ++it) message[it.key()] = it.value();
    messages.push_back(std::move(message));
  }
  return messages;
}

std::string without_trailing_newlines(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::string plain_layout(const std::vector<data::Turn>& turns) {
  std::string text;
  for (const data::Turn& t : turns) {
    text += data::speaker_label(t.role) + ": " + t.content + "\n\n";
  }
  return text;
}

}  // namespace

Result<Truncation> parse_truncation(const std::string& name) {
  if (name == "prompt-left" || name == "left") return Truncation::kPromptLeft;
  if (name == "right") return Truncation::kRight;
  if (name == "error") return Truncation::kError;
  return error("unknown truncation '" + name + "' (prompt-left, right, error)");
}

Result<ordered_json> parse_template_kwargs(const std::string& text) {
  ordered_json kwargs = ordered_json::parse(text, nullptr, false);
  if (kwargs.is_discarded() || !kwargs.is_object())
    return error("--chat-template-kwargs: expected a JSON object such as '{\"enable_thinking\": false}', got '" +
                 text + "'");
  return kwargs;
}

Result<std::shared_ptr<ConversationFormatter>> ConversationFormatter::create(const Model& model,
                                                                             const FormatterOptions& options) {
  ARB_ASSIGN(std::shared_ptr<ConversationFormatter> f, for_token_ids(model, options));
  ARB_ASSIGN(f->tokenizer_, load_model_tokenizer(model));
  f->bos_id_ = f->tokenizer_->bos_id();
  if (!options.plain) {
    const TextAssets assets = describe_text_assets(model);
    const auto tools = options.template_kwargs.find("tools");
    const bool tools_given = tools != options.template_kwargs.end() && !tools->is_null();
    const std::string source =
        options.chat_template_source.empty() ? chat_template_for(assets, tools_given) : options.chat_template_source;
    if (!source.empty()) {
      ordered_json base = ordered_json::object();
      base["bos_token"] = assets.bos_token;
      base["eos_token"] = assets.eos_token;
      for (auto it = options.template_kwargs.begin(); it != options.template_kwargs.end(); ++it)
        base[it.key()] = it.value();
      auto parsed = ChatTemplate::parse(source, base);
      if (!parsed) return parsed.status().with_context(model.path + ": chat template");
      f->chat_template_ = std::move(*parsed);
    }
  }
  if (model.config.reward_at_eos) {
    const std::optional<int32_t> eos = f->tokenizer_->eos_id();
    if (!eos) return error(model.path + ": the model reads its reward at the EOS token, and its tokenizer names none");
    f->reward_at_eos_ = true;
    f->eos_id_ = *eos;
    f->eos_text_ = f->tokenizer_->id_to_token(*eos);
  }
  if (!f->chat_template_ && !options.template_kwargs.empty())
    log_warn(model.path + ": no chat template in use (" + (options.plain ? "--plain" : "the model has none") +
             "): --chat-template-kwargs has no effect");
  return f;
}

Result<std::shared_ptr<ConversationFormatter>> ConversationFormatter::for_token_ids(const Model& model,
                                                                                    const FormatterOptions& options) {
  auto f = std::make_shared<ConversationFormatter>();
  if (options.max_length < 0) return error("--max-length must be positive, got " + std::to_string(options.max_length));
  // Not given: the model's context, or 4096 where the model does not say.
  f->max_length_ = options.max_length > 0                     ? options.max_length
                   : model.config.max_position_embeddings > 1 ? model.config.max_position_embeddings
                                                              : 4096;
  f->truncation_ = options.truncation;
  if (model.config.bos_token_id >= 0 && model.config.bos_token_id <= INT32_MAX)
    f->bos_id_ = int32_t(model.config.bos_token_id);
  return f;
}

bool formats_text(const ConversationFormatter* formatter) { return formatter && formatter->formats_text(); }

Result<std::vector<int32_t>> ConversationFormatter::encode_rendered(const std::string& text) const {
  // A rendered template already holds its special tokens (BOS included) as text.
  return tokenizer_->encode(text, /*add_special=*/false, /*parse_special=*/true);
}

Result<FormattedSequence> ConversationFormatter::fit(std::vector<int32_t> prefix, std::vector<int32_t> rest) const {
  FormattedSequence out;
  const int64_t total = int64_t(prefix.size() + rest.size());
  if (total <= max_length_) {
    out.tokens = std::move(prefix);
    out.tokens.insert(out.tokens.end(), rest.begin(), rest.end());
    return out;
  }
  const int64_t excess = total - max_length_;
  if (truncation_ == Truncation::kError)
    return error("sequence of " + std::to_string(total) + " tokens exceeds the maximum length " + std::to_string(max_length_));
  if (truncation_ == Truncation::kRight) {
    out.response_end_cut = !rest.empty();
    out.tokens = std::move(prefix);
    out.tokens.insert(out.tokens.end(), rest.begin(), rest.end());
    out.tokens.resize(size_t(max_length_));
    out.dropped_tokens = excess;
    return out;
  }
  // Prompt-left: keep a leading BOS, then drop the oldest prompt tokens; if the response alone is still
  // too long, its end goes too.
  const auto bos = tokenizer_->bos_id();
  const size_t keep_front = (!prefix.empty() && bos && prefix[0] == *bos) ? 1 : 0;
  const int64_t droppable = int64_t(prefix.size()) - int64_t(keep_front);
  const int64_t from_prompt = std::min(excess, droppable);
  prefix.erase(prefix.begin() + long(keep_front), prefix.begin() + long(keep_front + size_t(from_prompt)));
  out.tokens = std::move(prefix);
  out.tokens.insert(out.tokens.end(), rest.begin(), rest.end());
  if (int64_t(out.tokens.size()) > max_length_) {
    out.tokens.resize(size_t(max_length_));
    out.response_end_cut = true;
  }
  out.dropped_tokens = excess;
  return out;
}

Status fit_token_row(const ConversationFormatter* formatter, const Model& model, SequenceInput& sequence) {
  if (formatter) return formatter->fit_token_row(sequence);
  const int64_t context = model.config.max_position_embeddings;
  if (context > 0 && int64_t(sequence.tokens.size()) > context)
    return error("input_ids of " + std::to_string(sequence.tokens.size()) + " tokens, more than the model's context of " +
                 std::to_string(context) + " (without a tokenizer, rows of ids are not cut: give shorter ones)");
  return Status::ok();
}

Status no_tokenizer_for_text(const Model& model) {
  return error(model.path + " has no tokenizer (tokenizer.json or tokenizer.model) to format this row's text: give "
               "its tokens as input_ids");
}

Status ConversationFormatter::fit_token_row(SequenceInput& sequence) const {
  std::vector<int32_t>& tokens = sequence.tokens;
  const int64_t total = int64_t(tokens.size());
  if (total <= max_length_) return Status::ok();
  const int64_t excess = total - max_length_;
  const std::string what = "input_ids of " + std::to_string(total) + " tokens, more than the maximum length " +
                           std::to_string(max_length_) + " (--max-length)";
  if (truncation_ == Truncation::kError) return error(what);
  std::vector<int32_t>& reads = sequence.read_positions;
  if (truncation_ == Truncation::kRight) {
    if (!reads.empty() && reads.back() >= max_length_)
      return error(what + ": cutting its end would drop the read at position " + std::to_string(reads.back()));
    tokens.resize(size_t(max_length_));
    sequence.response_end_cut = true;
  } else {
    const int64_t keep_front = (bos_id_ && tokens[0] == *bos_id_ && max_length_ > 1) ? 1 : 0;
    const int64_t cut_end = keep_front + excess;  // tokens [keep_front, cut_end) go
    for (int32_t& read : reads) {
      if (read >= keep_front && read < cut_end)
        return error(what + ": cutting its beginning would drop the read at position " + std::to_string(read));
      if (read >= cut_end) read = int32_t(read - excess);
    }
    tokens.erase(tokens.begin() + long(keep_front), tokens.begin() + long(cut_end));
  }
  sequence.tokens_cut += excess;
  return Status::ok();
}

SequenceInput sequence_of(FormattedSequence formatted) {
  SequenceInput sequence{std::move(formatted.tokens), {}};
  sequence.tokens_cut = formatted.dropped_tokens;
  sequence.response_end_cut = formatted.response_end_cut;
  return sequence;
}

// OpenRLHF's reward data: trailing newlines dropped, then " " + EOS unless the text already ends with it.
std::string ConversationFormatter::ending_at_eos(std::string text) const {
  if (!reward_at_eos_) return text;
  text = without_trailing_newlines(std::move(text));
  if (!text.ends_with(eos_text_)) text += " " + eos_text_;
  return text;
}

FormattedSequence ConversationFormatter::keep_eos_last(FormattedSequence sequence) const {
  if (reward_at_eos_ && !sequence.tokens.empty()) sequence.tokens.back() = eos_id_;
  return sequence;
}

Result<FormattedSequence> ConversationFormatter::conversation(const std::vector<data::Turn>& prompt,
                                                              const std::string& response,
                                                              const nlohmann::ordered_json& response_fields) const {
  std::vector<data::Turn> turns = prompt;
  turns.push_back({"assistant", response, response_fields});
  if (!chat_template_) {
    // The layout's text is encoded whole, as a tokenizer given it would (a SentencePiece tokenizer's
    // response encoded apart would begin with a word-start mark of its own). The prompt is the tokens the
    // whole shares with the prompt's text encoded alone; a token across the boundary is the response's.
    // The text never parses special tokens; an EOS a model reads at follows it as the token (the text
    // before a special token is encoded apart from it, as the tokenizers do).
    const std::string prompt_text = plain_layout(prompt) + "Assistant:";
    const std::string text = reward_at_eos_ ? without_trailing_newlines(" " + response) + " " : " " + response;
    ARB_ASSIGN(std::vector<int32_t> whole, tokenizer_->encode(prompt_text + text, true, false));
    ARB_ASSIGN(const std::vector<int32_t> prompt_only, tokenizer_->encode(prompt_text, true, false));
    size_t shared = 0;
    while (shared < prompt_only.size() && shared < whole.size() && prompt_only[shared] == whole[shared]) ++shared;
    if (reward_at_eos_) whole.push_back(eos_id_);
    std::vector<int32_t> prefix(whole.begin(), whole.begin() + long(shared));
    std::vector<int32_t> rest(whole.begin() + long(shared), whole.end());
    ARB_ASSIGN(FormattedSequence fitted, fit(std::move(prefix), std::move(rest)));
    return keep_eos_last(std::move(fitted));
  }
  ARB_ASSIGN(std::string rendered, chat_template_->render(to_messages(turns), false));
  ARB_TRY(check_rendered(turns));
  const std::string full_text = ending_at_eos(std::move(rendered));
  ARB_ASSIGN(std::vector<int32_t> full, encode_rendered(full_text));
  if (int64_t(full.size()) <= max_length_) return FormattedSequence{std::move(full), 0};
  // Too long: split at the start of the assistant turn so truncation can tell prompt from response.
  ARB_ASSIGN(std::string prefix_text, chat_template_->render(to_messages(prompt), true));
  ARB_ASSIGN(std::vector<int32_t> prefix, encode_rendered(prefix_text));
  if (prefix.size() > full.size() || !std::equal(prefix.begin(), prefix.end(), full.begin())) {
    // The template does not render the prompt as a prefix of the conversation, so prompt and response
    // cannot be told apart: the whole is the response, cut as the policy says (prompt-left from its start).
    if (truncation_ != Truncation::kPromptLeft) {
      ARB_ASSIGN(FormattedSequence fitted, fit({}, std::move(full)));
      return keep_eos_last(std::move(fitted));
    }
    // A leading BOS stays, as in every other prompt-left cut: a sequence without it is one the model
    // never saw in training.
    const auto bos = tokenizer_->bos_id();
    const int64_t keep_front = (bos && full[0] == *bos && max_length_ > 1) ? 1 : 0;
    FormattedSequence fitted;
    fitted.dropped_tokens = int64_t(full.size()) - max_length_;
    fitted.tokens.assign(full.begin(), full.begin() + keep_front);
    fitted.tokens.insert(fitted.tokens.end(), full.end() - (max_length_ - keep_front), full.end());
    return keep_eos_last(std::move(fitted));
  }
  std::vector<int32_t> rest(full.begin() + long(prefix.size()), full.end());
  ARB_ASSIGN(FormattedSequence fitted, fit(std::move(prefix), std::move(rest)));
  return keep_eos_last(std::move(fitted));
}

Status ConversationFormatter::check_rendered(const std::vector<data::Turn>& turns) const {
  const std::vector<size_t> left_out = chat_template_->messages_left_out(to_messages(turns));
  if (left_out.empty()) return Status::ok();
  const data::Turn& turn = turns[left_out.front()];
  return error("message " + std::to_string(left_out.front()) + " (role '" + turn.role +
               "'): the chat template leaves it out of the conversation, so the model would never read it; "
               "give it a role the template renders");
}

Status ConversationFormatter::check_system_message(const std::string& system_message) const {
  if (!chat_template_ || system_message.empty()) return Status::ok();
  const ordered_json messages = to_messages({{"system", system_message}, {"user", "x"}});
  // A template may refuse a system message outright (Gemma's raises "System role not supported").
  if (const Result<std::string> rendered = chat_template_->render(messages, true); !rendered)
    return rendered.status().with_context("--system-prompt: the chat template refuses a system message");
  if (chat_template_->messages_left_out(messages).empty()) return Status::ok();
  return error("--system-prompt: the chat template leaves a system message out of the conversation, so the judge would "
               "never read it; put the instructions in the judge template (--template-file) instead");
}

Result<std::vector<int32_t>> ConversationFormatter::assistant_opening() const {
  if (!chat_template_) return error("no chat template to find the assistant's turn opening in");
  const ordered_json user = ordered_json::array({{{"role", "user"}, {"content", "x"}}});
  ARB_ASSIGN(std::string closed_text, chat_template_->render(user, false));
  ARB_ASSIGN(std::string open_text, chat_template_->render(user, true));
  ARB_ASSIGN(std::vector<int32_t> closed, encode_rendered(closed_text));
  ARB_ASSIGN(std::vector<int32_t> open, encode_rendered(open_text));
  size_t shared = 0;
  while (shared < closed.size() && shared < open.size() && closed[shared] == open[shared]) ++shared;
  if (shared != closed.size() || shared == open.size())
    return error("the chat template's generation prompt does not add an assistant turn's opening after a user turn");
  return std::vector<int32_t>(open.begin() + long(shared), open.end());
}

Result<FormattedSequence> ConversationFormatter::judge_prompt(const std::string& user_message,
                                                              const std::string& answer_prefix,
                                                              const std::string& system_message) const {
  std::vector<int32_t> tokens;
  if (chat_template_) {
    ordered_json messages = ordered_json::array();
    if (!system_message.empty()) messages.push_back({{"role", "system"}, {"content", system_message}});
    messages.push_back({{"role", "user"}, {"content", user_message}});
    // The system message is checked once, before any row (check_system_message).
    ARB_ASSIGN(std::string text, chat_template_->render(messages, true));
    ARB_ASSIGN(tokens, encode_rendered(text + answer_prefix));
  } else {
    const std::string system = system_message.empty() ? "" : system_message + "\n\n";
    ARB_ASSIGN(tokens, tokenizer_->encode(system + user_message + answer_prefix, true, false));
  }
  if (int64_t(tokens.size()) > max_length_)
    return error("judge prompt of " + std::to_string(tokens.size()) + " tokens exceeds the maximum length " +
                 std::to_string(max_length_));
  return FormattedSequence{std::move(tokens), 0};
}

}  // namespace arbiter
