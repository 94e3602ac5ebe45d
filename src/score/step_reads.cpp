#include "score/step_reads.h"

#include "score/step_rewards.h"

namespace arbiter {

std::string StepLayout::separator_name() const {
  return tag.empty() ? "token " + std::to_string(tag_id) : "'" + tag + "'";
}

Status mark_step_reads(SequenceInput& sequence, const StepLayout& layout, size_t expected_steps) {
  if (layout.tag_id < 0) return error("the step separator's token is not resolved");
  std::vector<int32_t> positions = positions_of(sequence.tokens, layout.tag_id);
  if (positions.empty())
    return error("no step separator " + layout.separator_name() + " in the response: give the steps as a list in a "
                 "'steps' field, end each step with the separator, or split responses with --split-steps");
  if (expected_steps > 0 && positions.size() != expected_steps)
    return error(std::to_string(expected_steps) + " steps but " + std::to_string(positions.size()) +
                 " separators in the formatted sequence (truncated by --max-length, a step holds " +
                 layout.separator_name() + ", or the text around it encodes it as another token)");
  sequence.read_positions = std::move(positions);
  return Status::ok();
}

Result<std::vector<SequenceInput>> prepare_step_sequences(const data::Example& example,
                                                          const ConversationFormatter* formatter,
                                                          const StepLayout& layout) {
  std::vector<SequenceInput> sequences;
  auto add = [&](std::vector<int32_t> tokens, size_t expected_steps) -> Status {
    SequenceInput sequence{std::move(tokens), {}};
    ARB_TRY(mark_step_reads(sequence, layout, expected_steps));
    sequences.push_back(std::move(sequence));
    return Status::ok();
  };
  if (!example.input_ids.empty()) {
    ARB_TRY(add(example.input_ids, 0));
    return sequences;
  }
  if (!formatter) return error("the model has no tokenizer to format the row with (give input_ids)");
  if ((!example.steps.empty() || !layout.split_at.empty()) && layout.join_text().empty())
    return error("steps given as a list are written out with the separator's text: give --step-tag (or --step-join) "
                 "beside --step-tag-id");
  if (!example.steps.empty()) {
    ARB_ASSIGN(FormattedSequence formatted,
               formatter->conversation(example.prompt_turns, join_steps(example.steps, layout.join_text())));
    ARB_TRY(add(std::move(formatted.tokens), example.steps.size()));
    return sequences;
  }
  if (example.responses.empty()) return error("the row has no response to score");
  for (const std::string& response : example.responses) {
    const bool holds_separator = !layout.tag.empty() && response.find(layout.tag) != std::string::npos;
    if (!layout.split_at.empty() && !holds_separator) {
      const std::vector<std::string> steps = split_steps(response, layout.split_at);
      if (steps.empty()) return error("a response has no text to split into steps");
      ARB_ASSIGN(FormattedSequence formatted,
                 formatter->conversation(example.prompt_turns, join_steps(steps, layout.join_text())));
      ARB_TRY(add(std::move(formatted.tokens), steps.size()));
      continue;
    }
    ARB_ASSIGN(FormattedSequence formatted, formatter->conversation(example.prompt_turns, response));
    ARB_TRY(add(std::move(formatted.tokens), 0));
  }
  return sequences;
}

}  // namespace arbiter
