// Where a process reward model reads: each step of a solution is followed by a separator token, and the
// model (a PRM head, a causal LM's two step tokens, or a head trained on step features) is read at every
// separator. This file lays a row's solutions out that way for the jobs that read steps (scoring and
// feature extraction), so both see the same sequences.
#pragma once

#include <cstdint>
#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/example.h"
#include "runtime/backend.h"
#include "score/formatter.h"

namespace arbiter {

struct StepLayout {
  std::string tag;       // the separator's text; "" when it was given only by id
  int32_t tag_id = -1;   // its token id, resolved before a job runs
  std::string join;      // written after each listed step; "" means the tag alone
  std::string split_at;  // a response that holds no separator is split into steps here; "" means never
  // Steps as turns (RLHFlow's PRMs): each step is a user's turn (the first after the problem and a space),
  // each answered by the assistant with `answer` (the right step's token, "+"); the model is read where
  // each assistant turn opens, at the last token of `turn_opening` (resolved before a job runs). No tag.
  bool turns = false;
  std::string answer;
  std::vector<int32_t> turn_opening;

  const std::string& join_text() const { return join.empty() ? tag : join; }
  bool resolved() const { return turns ? !turn_opening.empty() : tag_id >= 0; }  // where to read is known
  std::string separator_name() const;  // for messages: 'text', or token N, or the assistant's turn opening
};

// The last token of every occurrence of `pattern` in `tokens` (empty pattern: none).
std::vector<int32_t> ends_of(const std::vector<int32_t>& tokens, const std::vector<int32_t>& pattern);

// Sets read_positions to every separator of the sequence within tokens [begin, end) (the response's
// tokens, so that a separator as common as a newline is not read in the prompt or the template's closing
// text), or with layout.turns to the last token of every assistant turn's opening there; `expected_steps`
// > 0: there must be that many.
Status mark_step_reads(SequenceInput& sequence, const StepLayout& layout, size_t expected_steps = 0, size_t begin = 0,
                       size_t end = SIZE_MAX);

// One sequence per solution of the row, read at its separators in the response: the listed `steps` (one
// sequence), each response (split at layout.split_at when it holds no separator), or the row's input_ids
// as they are (read at every separator: there is no prompt to tell apart). With layout.turns the steps
// become a conversation of turns, read where each answer's turn opens (a response not split is one
// step). `formatter` may be null for input_ids rows only.
Result<std::vector<SequenceInput>> prepare_step_sequences(const data::Example& example,
                                                          const ConversationFormatter* formatter,
                                                          const StepLayout& layout);

}  // namespace arbiter
