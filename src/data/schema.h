// Dataset schemas: which fields of a row hold the prompt, the responses and the labels.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/example.h"

namespace arbiter::data {

enum class Schema {
  kAuto,
  kHelpSteer2,            // prompt, response, helpfulness, correctness, coherence, complexity, verbosity
  kHelpSteer2Preference,  // prompt, response_1, response_2, preference_strength (-3..3, < 0 prefers 1)
  kRewardBench,           // prompt, chosen, rejected, subset, id
  kGeneric,               // fields named by a FieldMapping
  kTokenIds,              // input_ids: [int]
  kSteps,                 // problem (or prompt), steps: [string], label (first wrong step, -1 none): ProcessBench
  kMathShepherd,          // input (problem, steps each ended by " ки"), label (the same, "+" / "-" for each tag)
  kPrm800k,               // question.problem, label.steps[].completions[].rating (+1 / 0 / -1): PRM800K
};

// "helpsteer2", "helpsteer2-preference", "rewardbench", "generic", "input_ids", "steps", "math-shepherd",
// "prm800k", "auto".
Result<Schema> parse_schema_name(const std::string& name);
const char* schema_name(Schema schema);

// For kGeneric (and to rename fields of the others): canonical name -> field of the row.
// Canonical names: "prompt", "response" (one field, or "response_1,response_2" style comma list),
// "id"; any other key K maps a label K to a numeric field.
struct FieldMapping {
  std::map<std::string, std::string> fields;
  // Parses "prompt=question" style assignments (the CLI's --field values).
  static Result<FieldMapping> parse(const std::vector<std::string>& assignments);
};

// The schema a first row's fields suggest; kGeneric when none fits.
Schema detect_schema(const nlohmann::json& row);

// HelpSteer2's multi-turn prompts join turns with "<extra_id_1>": "User\n...<extra_id_1>Assistant\n..."
// A prompt without markers is one user turn.
std::vector<Turn> split_helpsteer2_turns(const std::string& prompt);

// Whether a chosen / rejected field lists alternative completions as strings (RewardBench 2's layout,
// empty lists included), as opposed to one response: a string, or a conversation's message list.
bool lists_completions(const nlohmann::json& value);

// Anthropic HH-RLHF transcripts ("\n\nHuman: ...\n\nAssistant: ..."): the turns in order, or nothing
// when the text is not such a transcript (it must start with a Human turn).
std::vector<Turn> split_hh_transcript(const std::string& text);

// A row's id: its id field (by `mapping`) as text, or its 0-based row index where it has none. Also for a
// row to_example refuses, so that its error line keeps the row's own id.
std::string row_id(const nlohmann::json& row, const FieldMapping& mapping, size_t row_index);
// Whether the row names its id (not null).
bool row_has_id(const nlohmann::json& row, const FieldMapping& mapping);

// Builds an Example from a row; errors name the missing or mistyped field (the caller adds the place).
Result<Example> to_example(const nlohmann::json& row, Schema schema, const FieldMapping& mapping,
                           size_t row_index);

}  // namespace arbiter::data
