#include "score/step_reads.h"

#include <algorithm>

#include "score/step_rewards.h"

namespace arbiter {

std::string StepLayout::separator_name() const {
  if (turns) return "(an assistant turn's opening)";
  return tag.empty() ? "token " + std::to_string(tag_id) : "'" + tag + "'";
}

std::vector<int32_t> ends_of(const std::vector<int32_t>& tokens, const std::vector<int32_t>& pattern) {
  std::vector<int32_t> ends;
  if (pattern.empty() || pattern.size() > tokens.size()) return ends;
  for (size_t i = 0; i + pattern.size() <= tokens.size(); ++i)
    if (std::equal(pattern.begin(), pattern.end(), tokens.begin() + long(i))) ends.push_back(int32_t(i + pattern.size() - 1));
  return ends;
}

namespace {

struct Formatted {
  std::vector<int32_t> tokens;
  size_t response_begin = 0, response_end = 0;  // the response's tokens: [begin, end)
  int64_t tokens_cut = 0;                       // FormattedSequence's truncation report
  bool response_end_cut = false;
};

// The conversation with `response` as the assistant's turn, and where the response lies in it: the same
// conversation with an empty response shares its prefix (the prompt, the turn's opening) and its suffix
// (the turn's closing text) with it. The prefix is matched first: a response often ends with the token the
// template closes with (a newline), rarely starts with it. A prompt cut from the left (truncation) is
// matched as many tokens into the empty conversation as the full one lost beyond it.
Result<Formatted> format_response(const ConversationFormatter& formatter, const std::vector<data::Turn>& prompt,
                                  const std::string& response) {
  ARB_ASSIGN(FormattedSequence full, formatter.conversation(prompt, response));
  ARB_ASSIGN(FormattedSequence empty, formatter.conversation(prompt, ""));
  const std::vector<int32_t>& a = full.tokens;
  const std::vector<int32_t>& b = empty.tokens;
  // How far `a` matches `b` read `offset` tokens later, past `kept` leading tokens the two share in place
  // (a BOS that truncation keeps in front of the tokens it drops).
  auto matched = [&](size_t offset, size_t kept) {
    size_t n = 0;
    while (n < kept && n < a.size() && n < b.size() && a[n] == b[n]) ++n;
    if (n < kept) return size_t(0);
    while (n < a.size() && n + offset < b.size() && a[n] == b[n + offset]) ++n;
    return n;
  };
  size_t offset = 0, prefix = matched(0, 0);
  if (full.dropped_tokens > empty.dropped_tokens) {  // the empty one may lose the prompt's start too
    const size_t dropped = size_t(full.dropped_tokens - empty.dropped_tokens);
    for (const size_t kept : {size_t(0), size_t(1)}) {
      const size_t shifted = matched(dropped, kept);
      if (shifted > prefix) prefix = shifted, offset = dropped;
    }
  }
  size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - std::min(b.size(), prefix + offset) &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
    ++suffix;
  Formatted out;
  out.response_begin = prefix;
  out.response_end = a.size() - suffix;
  out.tokens_cut = full.dropped_tokens;
  out.response_end_cut = full.response_end_cut;
  out.tokens = std::move(full.tokens);
  return out;
}

// Steps as a conversation (RLHFlow's layout): the problem and the first step (after a space) as the user's
// turn, the answer as the assistant's, each further step as the next user turn, the answer after the last.
// Read where each answer's turn opens; the prompt's own earlier assistant turns open the same way and are
// left out.
Result<SequenceInput> step_turns_sequence(const ConversationFormatter& formatter, const std::vector<data::Turn>& prompt,
                                          const std::vector<std::string>& steps, const StepLayout& layout) {
  if (steps.empty()) return error("no steps to read");
  if (prompt.empty() || prompt.back().role != "user")
    return error("steps as turns follow the user's problem: the prompt's last turn must be the user's");
  std::vector<data::Turn> turns = prompt;
  turns.back().content += " " + steps[0];
  for (size_t k = 1; k < steps.size(); ++k) {
    turns.push_back({"assistant", layout.answer});
    turns.push_back({"user", steps[k]});
  }
  ARB_ASSIGN(FormattedSequence formatted, formatter.conversation(turns, layout.answer));
  if (formatted.dropped_tokens > 0)
    return error(std::to_string(steps.size()) + " steps as turns take " +
                 std::to_string(int64_t(formatted.tokens.size()) + formatted.dropped_tokens) +
                 " tokens, more than the maximum length (--max-length): a conversation of steps is not truncated");
  size_t earlier = 0;
  for (const data::Turn& turn : prompt) earlier += turn.role == "assistant" ? 1 : 0;
  SequenceInput sequence{std::move(formatted.tokens), {}};
  std::vector<int32_t> reads = ends_of(sequence.tokens, layout.turn_opening);
  if (reads.size() != earlier + steps.size())
    return error(std::to_string(steps.size()) + " steps (and " + std::to_string(earlier) +
                 " earlier assistant turns) but " + std::to_string(reads.size()) +
                 " assistant turn openings in the formatted conversation: the chat template does not open every "
                 "assistant turn as its generation prompt does");
  sequence.read_positions.assign(reads.begin() + long(earlier), reads.end());
  return sequence;
}

}  // namespace

Status mark_step_reads(SequenceInput& sequence, const StepLayout& layout, size_t expected_steps, size_t begin,
                       size_t end) {
  if (!layout.resolved()) return error("the step separator's token is not resolved");
  std::vector<int32_t> positions;
  for (int32_t p : layout.turns ? ends_of(sequence.tokens, layout.turn_opening) : positions_of(sequence.tokens, layout.tag_id))
    if (size_t(p) >= begin && size_t(p) < end) positions.push_back(p);
  if (positions.empty() && layout.turns)
    return error("no assistant turn in the sequence to read a step at: give the steps as a list in a 'steps' "
                 "field, or a response (split with --split-steps), formatted with the model's chat template");
  // Listed steps were written out with the separator: none found means the text around it spelled it as
  // another token, which the count's message says.
  if (positions.empty() && expected_steps == 0)
    return error("no step separator " + layout.separator_name() + " in the response: give the steps as a list in a "
                 "'steps' field, end each step with the separator, or split responses with --split-steps");
  if (expected_steps > 0 && positions.size() != expected_steps)
    return error(std::to_string(expected_steps) + " steps but " + std::to_string(positions.size()) +
                 " separators in the formatted sequence (truncated by --max-length, a step holds " +
                 layout.separator_name() + ", or the text around it encodes it as another token: where --step-join "
                 "writes a space or other text before the separator, give --step-tag as the tokenizer spells it "
                 "there, e.g. with its leading space)");
  sequence.read_positions = std::move(positions);
  return Status::ok();
}

Result<std::vector<SequenceInput>> prepare_step_sequences(const data::Example& example,
                                                          const ConversationFormatter* formatter,
                                                          const StepLayout& layout) {
  std::vector<SequenceInput> sequences;
  if (!example.input_ids.empty()) {
    SequenceInput sequence{example.input_ids, {}};
    ARB_TRY(mark_step_reads(sequence, layout));
    if (formatter) ARB_TRY(formatter->fit_token_row(sequence));
    sequences.push_back(std::move(sequence));
    return sequences;
  }
  auto add = [&](const std::string& response, size_t expected_steps) -> Status {
    ARB_ASSIGN(Formatted formatted, format_response(*formatter, example.prompt_turns, response));
    SequenceInput sequence{std::move(formatted.tokens), {}};
    sequence.tokens_cut = formatted.tokens_cut;
    sequence.response_end_cut = formatted.response_end_cut;
    ARB_TRY(mark_step_reads(sequence, layout, expected_steps, formatted.response_begin, formatted.response_end));
    sequences.push_back(std::move(sequence));
    return Status::ok();
  };
  if (!formats_text(formatter)) return error("the model has no tokenizer to format the row with (give input_ids)");
  if (layout.turns) {
    auto add_turns = [&](const std::vector<std::string>& steps) -> Status {
      ARB_ASSIGN(SequenceInput sequence, step_turns_sequence(*formatter, example.prompt_turns, steps, layout));
      sequences.push_back(std::move(sequence));
      return Status::ok();
    };
    if (!example.steps.empty()) {
      ARB_TRY(add_turns(example.steps));
      return sequences;
    }
    if (example.responses.empty()) return error("the row has no response to score");
    for (const std::string& response : example.responses)
      ARB_TRY(add_turns(layout.split_at.empty() ? std::vector<std::string>{response} : split_steps(response, layout.split_at)));
    return sequences;
  }
  if ((!example.steps.empty() || !layout.split_at.empty()) && layout.join_text().empty())
    return error("steps given as a list are written out with the separator's text: give --step-tag (or --step-join) "
                 "beside --step-tag-id");
  if (!example.steps.empty()) {
    ARB_TRY(add(join_steps(example.steps, layout.join_text()), example.steps.size()));
    return sequences;
  }
  if (example.responses.empty()) return error("the row has no response to score");
  for (const std::string& response : example.responses) {
    const bool holds_separator = !layout.tag.empty() && response.find(layout.tag) != std::string::npos;
    if (!layout.split_at.empty() && !holds_separator) {
      const std::vector<std::string> steps = split_steps(response, layout.split_at);
      if (steps.empty()) return error("a response has no text to split into steps");
      ARB_TRY(add(join_steps(steps, layout.join_text()), steps.size()));
      continue;
    }
    ARB_TRY(add(response, 0));
  }
  return sequences;
}

}  // namespace arbiter
