// One dataset row in the form the scorers use, whatever schema it came from.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace arbiter::data {

struct Turn {
  std::string role;  // "system", "user", "assistant", "tool", or any other the chat template renders
  std::string content;
  // The message's other fields (an assistant's tool_calls, a tool's name or tool_call_id, ...), given to the
  // chat template as they are, as transformers gives them.
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
};

struct Example {
  std::string id;                      // the row's `id` field, or its 0-based row index
  bool id_from_row = false;            // the row has an id field (else `id` is its index)
  std::vector<Turn> prompt_turns;      // conversation before the response(s)
  std::vector<std::string> responses;  // 1 (rated), 2 (pair: chosen/rejected, response_1/response_2), or more
  // Where a response came as an assistant message: its other fields (tool_calls, ...), for the chat
  // template; [responses] or shorter (a response past its end has none). Read with fields_of_response.
  std::vector<nlohmann::ordered_json> response_fields;
  // Step-by-step solutions (ProcessBench-style rows): the one response's steps in order. `responses`
  // then holds them joined by blank lines, for anything that reads the solution whole.
  std::vector<std::string> steps;
  // Whether each step is right, where the row says so per step (a step_labels list, Math-Shepherd's "+" /
  // "-"): 1 right, 0 wrong, values between for soft labels, NaN unknown. Empty otherwise.
  std::vector<double> step_labels;
  std::map<std::string, double> labels;  // human labels by name (helpfulness, preference_strength, ...)
  std::vector<int32_t> input_ids;      // rows that come tokenized: the tokens, and no text
  nlohmann::json raw;                  // the row as read, for fields a caller wants (subset, ...)
  // The responses came as a list (a server request's "responses"): the results keep a list, even of one.
  bool responses_listed = false;
  size_t row_index = 0;                // 0-based among rows
  size_t line = 0;                     // 1-based line in a JSONL file, 0 for a JSON array element
};

// The other fields of response `i`'s message (an empty object where it has none).
inline const nlohmann::ordered_json& fields_of_response(const Example& example, size_t i) {
  static const nlohmann::ordered_json kNone = nlohmann::ordered_json::object();
  return i < example.response_fields.size() ? example.response_fields[i] : kNone;
}

}  // namespace arbiter::data
