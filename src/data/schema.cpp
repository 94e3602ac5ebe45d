#include "data/schema.h"

#include "data/roles.h"
#include "data/writer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace arbiter::data {
namespace {

// Math-Shepherd's step tag (Cyrillic "ки", a token of its own in Llama-family vocabularies).
constexpr const char* kShepherdTag = "\xd0\xba\xd0\xb8";

using nlohmann::json;

const char* const kHelpSteer2Labels[] = {"helpfulness", "correctness", "coherence", "complexity", "verbosity"};

bool has(const json& row, const char* field) { return row.is_object() && row.contains(field); }

Result<double> number_field(const json& row, const std::string& field) {
  if (!row.is_object() || !row.contains(field)) return error("missing field '" + field + "'");
  const json& value = row.at(field);
  if (value.is_number()) return value.get<double>();
  if (value.is_boolean()) return value.get<bool>() ? 1.0 : 0.0;
  return error("field '" + field + "' is " + value.type_name() + ", expected a number");
}

Result<std::string> role_of(const json& message, const std::string& field) {
  if (!message.is_object() || !message.contains("role") || !message.at("role").is_string())
    return error("field '" + field + "': message without a string 'role'");
  std::string role = message.at("role").get<std::string>();
  ARB_TRY(check_role_name(role).with_context("field '" + field + "'"));
  return role;
}

// A prompt is a string (one user turn; HelpSteer2 markers split), or a list of {role, content} messages.
Result<std::vector<Turn>> prompt_turns(const json& row, const std::string& field, bool helpsteer_markers) {
  if (!row.is_object() || !row.contains(field)) return error("missing field '" + field + "'");
  const json& value = row.at(field);
  if (value.is_string()) {
    if (helpsteer_markers) return split_helpsteer2_turns(value.get<std::string>());
    return std::vector<Turn>{{"user", value.get<std::string>()}};
  }
  if (!value.is_array()) return error("field '" + field + "' is " + value.type_name() + ", expected a string or messages");
  std::vector<Turn> turns;
  for (size_t i = 0; i < value.size(); ++i) {
    const json& message = value[i];
    ARB_ASSIGN(std::string role, role_of(message, field));
    const std::string where = "field '" + field + "', message " + std::to_string(i);
    if (!message.contains("content")) return error(where + " has no 'content'");
    ARB_ASSIGN(std::string content, message_text(message.at("content"), where));
    turns.push_back({std::move(role), std::move(content), other_message_fields(message)});
  }
  return turns;
}

// A response is a string, or a message list whose last message is the response (its other fields, such
// as tool_calls, kept for the template), or (RewardBench 2 style chosen/rejected lists) several
// alternative strings, spread into responses.
Status append_responses(const json& row, const std::string& field, Example& ex) {
  if (!row.is_object() || !row.contains(field)) return error("missing field '" + field + "'");
  const json& value = row.at(field);
  ex.response_fields.resize(ex.responses.size(), nlohmann::ordered_json::object());
  auto add = [&](std::string text, nlohmann::ordered_json fields) {
    ex.responses.push_back(std::move(text));
    ex.response_fields.push_back(std::move(fields));
  };
  if (value.is_string()) {
    add(value.get<std::string>(), nlohmann::ordered_json::object());
    return Status::ok();
  }
  if (value.is_array() && !value.empty() && value.back().is_object()) {
    const json& last = value.back();
    if (last.contains("role") && last.at("role") != "assistant")
      return error("field '" + field + "': the last message is the response to score, and its role is " +
                   last.at("role").dump() + ", not 'assistant'");
    if (!last.contains("content")) return error("field '" + field + "': the last message has no 'content'");
    // A turn that only calls tools is its tool_calls (the template renders them); with neither, nothing.
    if (last.at("content").is_null() && !last.contains("tool_calls"))
      return error("field '" + field + "': the last message's content is null and it calls no tools: no response to "
                   "score");
    ARB_ASSIGN(std::string content, message_text(last.at("content"), "field '" + field + "', last message"));
    add(std::move(content), other_message_fields(last));
    return Status::ok();
  }
  if (value.is_array()) {
    for (const json& item : value) {
      if (!item.is_string()) return error("field '" + field + "': list item is not a string");
      add(item.get<std::string>(), nlohmann::ordered_json::object());
    }
    return Status::ok();
  }
  return error("field '" + field + "' is " + value.type_name() + ", expected a string");
}

// A message list of more than one message: a conversation whose last message is the response.
bool conversation_before_last(const json& value) {
  return value.is_array() && value.size() > 1 && std::all_of(value.begin(), value.end(), [](const json& m) { return m.is_object(); });
}

bool same_turns(const std::vector<Turn>& a, const std::vector<Turn>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].role != b[i].role || a[i].content != b[i].content || a[i].fields != b[i].fields) return false;
  return true;
}

std::string field_or(const FieldMapping& mapping, const std::string& name, const std::string& fallback) {
  auto it = mapping.fields.find(name);
  return it == mapping.fields.end() ? fallback : it->second;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

std::string id_of(const json& row, const std::string& field, size_t row_index) {
  if (row.is_object() && row.contains(field)) {
    const json& value = row.at(field);
    if (!value.is_null()) return row_id_string(value);
  }
  return std::to_string(row_index);
}

// A list of per-step labels: true / false, a number in [0, 1], or null (unknown), one per step.
Result<std::vector<double>> read_step_labels(const json& labels, size_t steps) {
  if (!labels.is_array() || labels.size() != steps)
    return error("field 'step_labels' must list one label per step (" + std::to_string(steps) + ")");
  std::vector<double> out;
  for (const json& l : labels) {
    if (l.is_boolean()) out.push_back(l.get<bool>() ? 1.0 : 0.0);
    else if (l.is_number() && l.get<double>() >= 0.0 && l.get<double>() <= 1.0) out.push_back(l.get<double>());
    else if (l.is_null()) out.push_back(std::numeric_limits<double>::quiet_NaN());
    else return error("field 'step_labels': " + l.dump() + " is not a label (true / false, or a number in [0, 1])");
  }
  return out;
}

// Math-Shepherd's rows: `input` is the problem and its solution, each step followed by " ки"; `label` is the
// same text with each tag replaced by "+" (the step can still reach the right answer) or "-". The problem
// is the text before "Step 1:", each step the text between tags, trimmed.
Status read_math_shepherd(const json& row, Example& ex) {
  const std::string& input = row.at("input").get_ref<const std::string&>();
  if (!row.contains("label") || !row.at("label").is_string()) return error("field 'label' must be a string");
  const std::string& label = row.at("label").get_ref<const std::string&>();
  std::vector<std::string> pieces;  // the text before each tag, then what follows the last
  for (size_t start = 0;;) {
    const size_t at = input.find(kShepherdTag, start);
    pieces.push_back(input.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) break;
    start = at + std::strlen(kShepherdTag);
  }
  if (pieces.size() < 2) return error("field 'input' holds no step tag '" + std::string(kShepherdTag) + "'");
  // `label` must be the pieces with one verdict character where each tag was.
  size_t at = 0;
  for (size_t i = 0; i + 1 < pieces.size(); ++i) {
    if (label.compare(at, pieces[i].size(), pieces[i]) != 0)
      return error("field 'label' does not follow field 'input' before step tag " + std::to_string(i + 1));
    at += pieces[i].size();
    if (at >= label.size() || (label[at] != '+' && label[at] != '-'))
      return error("field 'label': step " + std::to_string(i + 1) + " has no '+' or '-' where 'input' has its tag");
    ex.step_labels.push_back(label[at] == '+' ? 1.0 : 0.0);
    ++at;
  }
  auto trim = [](const std::string& text) {
    const size_t begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) return std::string();
    return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
  };
  const size_t first_step = pieces[0].find("Step 1:");
  if (first_step == std::string::npos)
    return error("field 'input': no 'Step 1:' to tell the problem from the first step");
  const std::string problem = trim(pieces[0].substr(0, first_step));
  if (problem.empty()) return error("field 'input': no problem before 'Step 1:'");
  ex.prompt_turns = {Turn{"user", problem}};
  std::string joined;
  for (size_t i = 0; i + 1 < pieces.size(); ++i) {
    std::string step = trim(i == 0 ? pieces[0].substr(first_step) : pieces[i]);
    if (step.empty()) return error("field 'input': step " + std::to_string(i + 1) + " is empty");
    joined += (joined.empty() ? "" : "\n\n") + step;
    ex.steps.push_back(std::move(step));
  }
  ex.responses.push_back(std::move(joined));
  int64_t first_error = -1;
  for (size_t i = 0; i < ex.step_labels.size() && first_error < 0; ++i)
    if (ex.step_labels[i] == 0.0) first_error = int64_t(i);
  ex.labels["first_error_step"] = double(first_error);
  return Status::ok();
}

// PRM800K's rows (OpenAI, "Let's Verify Step by Step"): `question.problem`, and `label.steps`, one entry per
// step of the labelled trajectory, each with rated `completions` (+1 right, 0 neutral, -1 wrong), the
// `chosen_completion` that continues the trajectory, or a labeller's own `human_completion` when that is
// null. Where both are null the trajectory stops at that step: it is the solution's own step, the first
// completion (phase 2 collects alternatives only after the first mistake). Neutral counts as right, as
// the first wrong step is the first rated -1; `finish_reason` says whether a wrong step was looked for to
// the end ("found_error", "solution") or the labelling stopped ("give_up", "bad_problem": no first_error_step).
Status read_prm800k(const json& row, Example& ex) {
  if (!row.contains("question") || !row.at("question").is_object()) return error("field 'question' must be an object");
  if (!row.contains("label") || !row.at("label").is_object() || !row.at("label").contains("steps"))
    return error("field 'label' must be an object with 'steps'");
  const json& question = row.at("question");
  if (!question.contains("problem") || !question.at("problem").is_string())
    return error("field 'question.problem' must be a string");
  const json& steps = row.at("label").at("steps");
  if (!steps.is_array() || steps.empty()) return error("field 'label.steps' must be a non-empty list");
  int64_t first_error = -1;
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string at = "field 'label.steps[" + std::to_string(i) + "]'";
    const json& step = steps[i];
    if (!step.is_object() || !step.contains("completions") || !step.at("completions").is_array())
      return error(at + " has no 'completions' list");
    const json& completions = step.at("completions");
    const json chosen = step.value("chosen_completion", json());
    const json human = step.value("human_completion", json());
    std::string text;
    double label = 1.0;
    if (!chosen.is_null()) {
      if (!chosen.is_number_integer() || chosen.get<int64_t>() < 0 || chosen.get<int64_t>() >= int64_t(completions.size()))
        return error(at + ": 'chosen_completion' " + chosen.dump() + " is not an index of its " +
                     std::to_string(completions.size()) + " completions");
      const json& c = completions.at(chosen.get<size_t>());
      if (!c.contains("text") || !c.at("text").is_string()) return error(at + ": the chosen completion has no text");
      text = c.at("text").get<std::string>();
      const json rating = c.value("rating", json());
      if (!rating.is_null() && !rating.is_number()) return error(at + ": rating " + rating.dump() + " is not a number");
      label = rating.is_number() && rating.get<double>() < 0 ? 0.0 : 1.0;
    } else if (!human.is_null()) {  // a labeller's own step, written to be right
      if (human.is_string()) text = human.get<std::string>();
      else if (human.is_object() && human.contains("text") && human.at("text").is_string()) text = human.at("text").get<std::string>();
      else return error(at + ": 'human_completion' has no text");
    } else {
      if (i + 1 != steps.size())
        return error(at + ": no chosen or human completion, yet the trajectory goes on after it");
      if (completions.empty() || !completions[0].contains("text") || !completions[0].at("text").is_string())
        return error(at + ": no completion to end the trajectory with");
      text = completions[0].at("text").get<std::string>();
      const json rating = completions[0].value("rating", json());
      label = rating.is_number() && rating.get<double>() < 0 ? 0.0 : 1.0;
    }
    if (label == 0.0 && first_error < 0) first_error = int64_t(i);
    ex.steps.push_back(std::move(text));
    ex.step_labels.push_back(label);
  }
  ex.prompt_turns = {Turn{"user", question.at("problem").get<std::string>()}};
  std::string joined;
  for (const std::string& step : ex.steps) joined += (joined.empty() ? "" : "\n\n") + step;
  ex.responses.push_back(std::move(joined));
  const std::string finish = row.at("label").value("finish_reason", std::string());
  if (first_error >= 0 || finish == "solution" || finish == "found_error") ex.labels["first_error_step"] = double(first_error);
  return Status::ok();
}

bool is_reserved(const std::string& name) {
  return name == "prompt" || name == "response" || name == "id" || name == "steps";
}

}  // namespace

Result<Schema> parse_schema_name(const std::string& name) {
  if (name == "auto" || name.empty()) return Schema::kAuto;
  if (name == "helpsteer2") return Schema::kHelpSteer2;
  if (name == "helpsteer2-preference") return Schema::kHelpSteer2Preference;
  if (name == "rewardbench") return Schema::kRewardBench;
  if (name == "generic") return Schema::kGeneric;
  if (name == "input_ids") return Schema::kTokenIds;
  if (name == "steps") return Schema::kSteps;
  if (name == "math-shepherd") return Schema::kMathShepherd;
  if (name == "prm800k") return Schema::kPrm800k;
  return error("unknown schema '" + name +
               "' (expected auto, helpsteer2, helpsteer2-preference, rewardbench, generic, input_ids, steps, "
               "math-shepherd, prm800k)");
}

const char* schema_name(Schema schema) {
  switch (schema) {
    case Schema::kAuto: return "auto";
    case Schema::kHelpSteer2: return "helpsteer2";
    case Schema::kHelpSteer2Preference: return "helpsteer2-preference";
    case Schema::kRewardBench: return "rewardbench";
    case Schema::kGeneric: return "generic";
    case Schema::kTokenIds: return "input_ids";
    case Schema::kSteps: return "steps";
    case Schema::kMathShepherd: return "math-shepherd";
    case Schema::kPrm800k: return "prm800k";
  }
  return "?";
}

Result<FieldMapping> FieldMapping::parse(const std::vector<std::string>& assignments) {
  FieldMapping mapping;
  for (const std::string& a : assignments) {
    const size_t eq = a.find('=');
    // "id=" (no field) keys rows by their index: a dataset whose id field repeats (a prompt's id on each
    // of its samples) is read row by row.
    if (eq == std::string::npos || eq == 0 || (eq + 1 == a.size() && a != "id="))
      return error("field mapping '" + a + "' is not NAME=FIELD");
    mapping.fields[a.substr(0, eq)] = a.substr(eq + 1);
  }
  return mapping;
}

Schema detect_schema(const json& row) {
  if (!row.is_object()) return Schema::kGeneric;
  if (has(row, "input_ids")) return Schema::kTokenIds;
  if (has(row, "chosen") && has(row, "rejected")) return Schema::kRewardBench;
  if (has(row, "response_1") && has(row, "response_2")) return Schema::kHelpSteer2Preference;
  // HelpSteer3's preference rows: the same layout under other names (context, response1, response2,
  // overall_preference).
  if (has(row, "response1") && has(row, "response2") && has(row, "overall_preference"))
    return Schema::kHelpSteer2Preference;
  if (has(row, "prompt") && has(row, "response") && has(row, "helpfulness")) return Schema::kHelpSteer2;
  if (has(row, "steps") && (has(row, "problem") || has(row, "prompt"))) return Schema::kSteps;
  if (row.contains("input") && row["input"].is_string() && row.contains("label") && row["label"].is_string() &&
      row["input"].get_ref<const std::string&>().find(kShepherdTag) != std::string::npos)
    return Schema::kMathShepherd;
  if (row.contains("question") && row["question"].is_object() && row.contains("label") && row["label"].is_object() &&
      row["label"].contains("steps"))
    return Schema::kPrm800k;
  return Schema::kGeneric;
}

std::vector<Turn> split_helpsteer2_turns(const std::string& prompt) {
  static const std::string kMarker = "<extra_id_1>";
  std::vector<Turn> turns;
  size_t start = 0;
  while (true) {
    const size_t marker = prompt.find(kMarker, start);
    std::string segment = prompt.substr(start, marker - start);
    // A segment names its speaker on its first line ("User\n", "Assistant\n"); the first segment
    // usually does not and is the user's.
    std::string role = turns.empty() ? "user" : (turns.back().role == "user" ? "assistant" : "user");
    for (const auto& [prefix, name] : {std::pair<std::string, std::string>{"User\n", "user"},
                                       {"Assistant\n", "assistant"},
                                       {"System\n", "system"}}) {
      if (segment.compare(0, prefix.size(), prefix) == 0) {
        role = name;
        segment.erase(0, prefix.size());
        break;
      }
    }
    turns.push_back({role, std::move(segment)});
    if (marker == std::string::npos) break;
    start = marker + kMarker.size();
  }
  return turns;
}

bool lists_completions(const json& value) {
  return value.is_array() && (value.empty() || value.front().is_string());
}

std::vector<Turn> split_hh_transcript(const std::string& text) {
  static const std::string kHuman = "\n\nHuman:", kAssistant = "\n\nAssistant:";
  // Leading whitespace aside, a transcript starts with its first Human marker.
  const size_t start = text.find_first_not_of(" \n");
  if (start == std::string::npos || text.compare(start, kHuman.size() - 2, "Human:") != 0) return {};
  std::vector<Turn> turns;
  size_t pos = start + kHuman.size() - 2;
  std::string role = "user";
  while (true) {
    const size_t next_human = text.find(kHuman, pos), next_assistant = text.find(kAssistant, pos);
    const size_t next = std::min(next_human, next_assistant);
    std::string content = text.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    // "Human: text": the marker's space belongs to the format, not to the turn.
    if (!content.empty() && content.front() == ' ') content.erase(0, 1);
    turns.push_back({role, std::move(content)});
    if (next == std::string::npos) break;
    const bool human = next == next_human;
    role = human ? "user" : "assistant";
    pos = next + (human ? kHuman.size() : kAssistant.size());
  }
  return turns;
}

std::string row_id(const json& row, const FieldMapping& mapping, size_t row_index) {
  return id_of(row, field_or(mapping, "id", "id"), row_index);
}

bool row_has_id(const json& row, const FieldMapping& mapping) {
  const std::string id_field = field_or(mapping, "id", "id");
  return row.is_object() && row.contains(id_field) && !row.at(id_field).is_null();
}

Result<Example> to_example(const json& row, Schema schema, const FieldMapping& mapping, size_t row_index) {
  try {
    if (!row.is_object()) return error(std::string("row is ") + row.type_name() + ", expected an object");
    if (schema == Schema::kAuto) schema = detect_schema(row);
    Example ex;
    ex.row_index = row_index;
    ex.id = row_id(row, mapping, row_index);
    ex.id_from_row = row_has_id(row, mapping);
    const std::string prompt_field = field_or(mapping, "prompt", "prompt");
    switch (schema) {
      case Schema::kHelpSteer2: {
        ARB_ASSIGN(ex.prompt_turns, prompt_turns(row, prompt_field, true));
        ARB_TRY(append_responses(row, field_or(mapping, "response", "response"), ex));
        for (const char* label : kHelpSteer2Labels) {
          ARB_ASSIGN(ex.labels[label], number_field(row, label));
        }
        break;
      }
      case Schema::kHelpSteer2Preference: {
        // HelpSteer3 names the fields context (a message list), response1, response2 and
        // overall_preference (-3..3, negative prefers response 1, as preference_strength does).
        const bool v3 = !row.contains("response_1") && row.contains("response1");
        const std::string prompt_name = v3 && !row.contains(prompt_field) ? "context" : prompt_field;
        ARB_ASSIGN(ex.prompt_turns, prompt_turns(row, prompt_name, true));
        ARB_TRY(append_responses(row, v3 ? "response1" : "response_1", ex));
        ARB_TRY(append_responses(row, v3 ? "response2" : "response_2", ex));
        ARB_ASSIGN(ex.labels["preference_strength"],
                   number_field(row, v3 ? "overall_preference" : "preference_strength"));
        break;
      }
      case Schema::kRewardBench: {
        // Without a prompt field, chosen/rejected are whole conversations that share all but the last turn.
        if (row.contains(prompt_field)) {
          ARB_ASSIGN(ex.prompt_turns, prompt_turns(row, prompt_field, false));
        } else if (row.at("chosen").is_array() && !row.at("chosen").empty() && row.at("chosen").back().is_object()) {
          // Two conversations as message lists: every message but the last must be the same in both, or
          // the rejected answer would be scored after the chosen conversation's turns.
          const json& chosen = row.at("chosen");
          const json& rejected = row.at("rejected");
          if (!rejected.is_array() || rejected.size() != chosen.size() || !rejected.back().is_object())
            return error("'chosen' and 'rejected' are message lists of different lengths (" + std::to_string(chosen.size()) +
                         " and " + (rejected.is_array() ? std::to_string(rejected.size()) : std::string("not a list")) +
                         "): they are not two answers to one conversation");
          // Compared as read (a turn's content parts joined, as a string would be), each side's errors
          // naming its own field.
          json chosen_context = chosen, rejected_context = rejected;
          chosen_context.erase(chosen_context.size() - 1);
          rejected_context.erase(rejected_context.size() - 1);
          ARB_ASSIGN(ex.prompt_turns, prompt_turns(json{{"chosen", chosen_context}}, "chosen", false));
          ARB_ASSIGN(const std::vector<Turn> rejected_turns,
                     prompt_turns(json{{"rejected", rejected_context}}, "rejected", false));
          for (size_t t = 0; t < ex.prompt_turns.size(); ++t) {
            const Turn& a = ex.prompt_turns[t];
            const Turn& b = rejected_turns[t];
            if (a.role != b.role || a.content != b.content || a.fields != b.fields)
              return error("'chosen' and 'rejected' differ at message " + std::to_string(t) +
                           ", before their last: they are not two answers to one conversation");
          }
        } else if (row.at("chosen").is_string() && row.at("rejected").is_string()) {
          // HH-RLHF: two transcripts that share every turn but the assistant's last.
          std::vector<Turn> chosen = split_hh_transcript(row.at("chosen").get<std::string>());
          std::vector<Turn> rejected = split_hh_transcript(row.at("rejected").get<std::string>());
          if (chosen.empty()) return error("missing field '" + prompt_field + "' (and 'chosen' is no Human/Assistant transcript)");
          if (chosen.size() < 2 || chosen.back().role != "assistant" || rejected.size() != chosen.size() ||
              rejected.back().role != "assistant")
            return error("'chosen' and 'rejected' are transcripts that do not both end in an Assistant turn after the same turns");
          for (size_t t = 0; t + 1 < chosen.size(); ++t) {
            if (chosen[t].role != rejected[t].role || chosen[t].content != rejected[t].content)
              return error("'chosen' and 'rejected' differ at turn " + std::to_string(t + 1) +
                           ", before their last: they are not two answers to one conversation");
          }
          ex.responses = {chosen.back().content, rejected.back().content};
          chosen.pop_back();
          ex.prompt_turns = std::move(chosen);
          break;
        } else {
          return error("missing field '" + prompt_field + "'");
        }
        ARB_TRY(append_responses(row, "chosen", ex));
        ARB_TRY(append_responses(row, "rejected", ex));
        break;
      }
      case Schema::kTokenIds: {
        const json& ids = row.contains("input_ids") ? row.at("input_ids") : json();
        if (!ids.is_array()) return error("field 'input_ids' is missing or not a list");
        for (const json& t : ids) {
          if (!t.is_number_integer()) return error("field 'input_ids' holds a non-integer");
          const int64_t v = t.get<int64_t>();
          if (v < 0 || v > INT32_MAX) return error("field 'input_ids' holds " + std::to_string(v) + ", out of range");
          ex.input_ids.push_back(int32_t(v));
        }
        break;
      }
      case Schema::kSteps: {
        // ProcessBench: problem, steps, label = index of the earliest wrong step, -1 when all are right.
        const std::string prompt_name = !row.contains(prompt_field) && row.contains("problem") ? "problem" : prompt_field;
        ARB_ASSIGN(ex.prompt_turns, prompt_turns(row, prompt_name, false));
        const std::string steps_field = field_or(mapping, "steps", "steps");
        if (!row.contains(steps_field)) return error("missing field '" + steps_field + "'");
        const json& steps = row.at(steps_field);
        if (!steps.is_array() || steps.empty()) return error("field '" + steps_field + "' must be a non-empty list of strings");
        std::string joined;
        for (const json& step : steps) {
          if (!step.is_string()) return error("field '" + steps_field + "': a step is " + step.type_name() + ", not a string");
          ex.steps.push_back(step.get<std::string>());
          joined += (joined.empty() ? "" : "\n\n") + ex.steps.back();
        }
        ex.responses.push_back(std::move(joined));
        if (row.contains("label") && !row.at("label").is_null()) {
          const json& label = row.at("label");
          if (!label.is_number_integer() || label.get<int64_t>() < -1 || label.get<int64_t>() >= int64_t(ex.steps.size()))
            return error("field 'label' must be -1 (no wrong step) or the index of a step (0.." +
                         std::to_string(ex.steps.size() - 1) + ")");
          ex.labels["first_error_step"] = double(label.get<int64_t>());
        }
        if (row.contains("step_labels") && !row.at("step_labels").is_null()) {
          ARB_ASSIGN(ex.step_labels, read_step_labels(row.at("step_labels"), ex.steps.size()));
        }
        break;
      }
      case Schema::kMathShepherd: {
        ARB_TRY(read_math_shepherd(row, ex));
        break;
      }
      case Schema::kPrm800k: {
        ARB_TRY(read_prm800k(row, ex));
        break;
      }
      case Schema::kGeneric: {
        const bool has_prompt = row.contains(prompt_field);
        if (has_prompt) {
          ARB_ASSIGN(ex.prompt_turns, prompt_turns(row, prompt_field, false));
        } else if (mapping.fields.count("prompt")) {
          return error("missing field '" + prompt_field + "'");
        }
        std::string response_spec = field_or(mapping, "response", "response");
        // A chat row ({"messages": [...]}, the common chat and SFT layout) is a conversation whose last
        // message is the response.
        if (!mapping.fields.count("response") && !row.contains("response") && row.contains("messages"))
          response_spec = "messages";
        if (response_spec == "messages" && !row.at("messages").is_array())
          return error(std::string("field 'messages' is ") + row.at("messages").type_name() + ", expected a list of messages");
        // A response given as a whole conversation: the messages before the last are its prompt (read
        // without them, the response would be scored out of its context). A prompt field beside it must
        // be those messages, or (ultrachat's layout) the conversation's opening user message.
        const std::vector<std::string> response_fields = split_commas(response_spec);
        size_t conversations = 0, present = 0;
        for (const std::string& field : response_fields) {
          if (!row.contains(field)) continue;
          ++present;
          if (conversation_before_last(row.at(field))) {
            const json earlier = {{field, json(row.at(field).begin(), row.at(field).end() - 1)}};
            ARB_ASSIGN(std::vector<Turn> turns, prompt_turns(earlier, field, false));
            if (conversations > 0 && !same_turns(turns, ex.prompt_turns))
              return error("field '" + field + "': its messages before the last differ from those of the other response "
                           "fields, so they are not one prompt; map the prompt with --field prompt=FIELD");
            if (conversations == 0 && has_prompt && !same_turns(turns, ex.prompt_turns) &&
                !(ex.prompt_turns.size() == 1 && turns.front().role == ex.prompt_turns.front().role &&
                  turns.front().content == ex.prompt_turns.front().content))
              return error("field '" + prompt_field + "' and the messages before the last of field '" + field +
                           "' are two different prompts; map the one to read with --field prompt=FIELD, or leave the "
                           "prompt out to read the conversation's");
            ex.prompt_turns = std::move(turns);
            ++conversations;
          }
        }
        if (conversations > 0 && conversations < present)
          return error("fields '" + response_spec + "': some hold a conversation and some a response alone, so they do "
                       "not share one prompt; map the prompt with --field prompt=FIELD");
        for (const std::string& field : response_fields) {
          if (!row.contains(field) && !mapping.fields.count("response")) continue;
          ARB_TRY(append_responses(row, field, ex));
        }
        break;
      }
      case Schema::kAuto: break;
    }
    for (const auto& [name, field] : mapping.fields) {
      if (is_reserved(name)) continue;
      ARB_ASSIGN(ex.labels[name], number_field(row, field));
    }
    ex.raw = row;
    return ex;
  } catch (const std::exception& e) {
    return error(std::string("bad row: ") + e.what());
  }
}

}  // namespace arbiter::data
