#include "serve/request_schema.h"

#include "core/json_text.h"
#include "core/utf8.h"
#include "data/roles.h"

#include <cstdint>

namespace arbiter::serve {

namespace {

using nlohmann::json;

Result<std::string> string_at(const json& value, const std::string& where) {
  if (!value.is_string()) return error(where + " is " + value.type_name() + ", expected a string");
  return value.get<std::string>();
}

// A required non-empty list.
Result<const json*> list_field(const json& body, const char* field) {
  if (!body.contains(field)) return error(std::string("missing field '") + field + "'");
  const json& value = body.at(field);
  if (!value.is_array()) return error(std::string("field '") + field + "' is " + value.type_name() + ", expected a list");
  if (value.empty()) return error(std::string("field '") + field + "' is an empty list");
  return &value;
}

Result<std::vector<int32_t>> token_list(const json& value, const std::string& where) {
  if (!value.is_array()) return error(where + " is " + value.type_name() + ", expected a list of token ids");
  if (value.empty()) return error(where + " is an empty list of token ids");
  std::vector<int32_t> tokens;
  tokens.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    const json& t = value[i];
    if (!t.is_number_integer())
      return error(where + "[" + std::to_string(i) + "] is " + t.type_name() + ", expected a token id");
    const int64_t id = t.is_number_unsigned() && t.get<uint64_t>() > uint64_t(INT32_MAX) ? -1 : t.get<int64_t>();
    if (id < 0 || id > INT32_MAX) return error(where + "[" + std::to_string(i) + "] is not a valid token id");
    tokens.push_back(int32_t(id));
  }
  return tokens;
}

Result<std::vector<data::Turn>> messages_at(const json& value, const std::string& where) {
  if (!value.is_array()) return error(where + " is " + value.type_name() + ", expected a list of messages");
  if (value.empty()) return error(where + " is an empty list of messages");
  std::vector<data::Turn> turns;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    const json& m = value[i];
    if (!m.is_object()) return error(at + " is " + m.type_name() + ", expected a {role, content} message");
    if (!m.contains("role")) return error(at + " has no 'role'");
    if (!m.contains("content")) return error(at + " has no 'content'");
    ARB_ASSIGN(std::string role, string_at(m.at("role"), at + ".role"));
    ARB_ASSIGN(std::string content, data::message_text(m.at("content"), at));
    ARB_TRY(data::check_role_name(role).with_context(at + ".role"));
    turns.push_back({std::move(role), std::move(content), data::other_message_fields(m)});
  }
  return turns;
}

// One response: a string, or (as in a dataset row) a list of messages whose last, the assistant's, is the
// response, its content parts joined and its other fields (tool_calls) kept for the template.
Status add_response_at(const json& value, const std::string& where, data::Example& ex) {
  ex.response_fields.resize(ex.responses.size(), nlohmann::ordered_json::object());
  if (value.is_array()) {
    ARB_ASSIGN(std::vector<data::Turn> turns, messages_at(value, where));
    if (turns.back().role != "assistant")
      return error(where + ": the last message is the response, and its role is '" + turns.back().role +
                   "', not 'assistant'");
    ex.responses.push_back(std::move(turns.back().content));
    ex.response_fields.push_back(std::move(turns.back().fields));
    return Status::ok();
  }
  if (!value.is_string()) return error(where + " is " + value.type_name() + ", expected a string or a list of messages");
  ex.responses.push_back(value.get<std::string>());
  ex.response_fields.push_back(nlohmann::ordered_json::object());
  return Status::ok();
}

// A conversation whose last message is the assistant's response: prompt turns + one response.
Result<data::Example> conversation_example(const json& value, const std::string& where) {
  ARB_ASSIGN(std::vector<data::Turn> turns, messages_at(value, where));
  if (turns.back().role != "assistant")
    return error(where + ": the last message must be the assistant's response (role 'assistant')");
  data::Example ex;
  ex.responses.push_back(std::move(turns.back().content));
  ex.response_fields.push_back(std::move(turns.back().fields));
  turns.pop_back();
  ex.prompt_turns = std::move(turns);
  ex.raw = json::object();
  return ex;
}

// A prompt is one user turn (a string) or a list of messages.
Result<std::vector<data::Turn>> prompt_at(const json& value, const std::string& where) {
  if (value.is_string()) return std::vector<data::Turn>{{"user", value.get<std::string>()}};
  if (value.is_array()) return messages_at(value, where);
  return error(where + " is " + value.type_name() + ", expected a string or a list of messages");
}

Result<bool> optional_bool(const json& body, const char* field, bool fallback) {
  if (!body.contains(field) || body.at(field).is_null()) return fallback;
  if (!body.at(field).is_boolean())
    return error(std::string("field '") + field + "' is " + body.at(field).type_name() + ", expected true or false");
  return body.at(field).get<bool>();
}

Result<std::string> optional_string(const json& body, const char* field) {
  if (!body.contains(field) || body.at(field).is_null()) return std::string();
  return string_at(body.at(field), std::string("field '") + field + "'");
}

// Request bodies are shallow; a deep one is hostile.
constexpr int kMaxDepth = 64;

}  // namespace

Result<json> parse_body(std::string_view body) {
  if (body.empty()) return error("the request body is empty, expected a JSON object");
  if (auto bad = utf8_first_invalid(body)) return error("the body is not valid UTF-8 (byte " + std::to_string(*bad) + ")");
  if (json_nested_deeper_than(body, kMaxDepth)) return error("the JSON is nested deeper than " + std::to_string(kMaxDepth) + " levels");
  json parsed = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    // Parse again with exceptions only to learn where it failed; nothing escapes this function.
    try {
      const json reparsed = json::parse(body.begin(), body.end());
      return error(std::string("malformed JSON (a ") + reparsed.type_name() + " on the second reading)");
    } catch (const json::parse_error& e) {
      return error("malformed JSON at byte " + std::to_string(e.byte) + ": " + clip_for_message(e.what()));
    } catch (const std::exception& e) {
      return error("malformed JSON: " + clip_for_message(e.what()));
    }
    return error("malformed JSON");
  }
  if (!parsed.is_object()) return error(std::string("the body is ") + parsed.type_name() + ", expected a JSON object");
  return parsed;
}

Result<RewardRequest> parse_reward_request(const json& body) {
  ARB_ASSIGN(const json* query, list_field(body, "query"));
  RewardRequest request;
  for (size_t i = 0; i < query->size(); ++i) {
    ARB_ASSIGN(std::string text, string_at((*query)[i], "query[" + std::to_string(i) + "]"));
    request.queries.push_back(std::move(text));
  }
  // OpenRLHF sends prompts (and labels) alongside. An outcome reward model does not read them; a process
  // reward model reads step separators only after its query's prompt. `labels` are not read.
  if (body.contains("prompts") && !body.at("prompts").is_null()) {
    const json& prompts = body.at("prompts");
    if (!prompts.is_array()) return error(std::string("field 'prompts' is ") + prompts.type_name() + ", expected a list");
    if (prompts.size() != query->size())
      return error("field 'prompts' has " + std::to_string(prompts.size()) + " items, 'query' has " +
                   std::to_string(query->size()));
    for (size_t i = 0; i < prompts.size(); ++i) {
      ARB_ASSIGN(std::string prompt, string_at(prompts[i], "prompts[" + std::to_string(i) + "]"));
      request.prompts.push_back(std::move(prompt));
    }
  }
  return request;
}

Result<PoolingRequest> parse_pooling_request(const json& body) {
  PoolingRequest request;
  ARB_ASSIGN(request.model, optional_string(body, "model"));
  ARB_ASSIGN(request.add_special_tokens, optional_bool(body, "add_special_tokens", true));
  if (body.contains("truncate_prompt_tokens") && !body.at("truncate_prompt_tokens").is_null()) {
    const json& t = body.at("truncate_prompt_tokens");
    if (!t.is_number_integer()) return error(std::string("field 'truncate_prompt_tokens' is ") + t.type_name() + ", expected an integer");
    const int64_t n = t.is_number_unsigned() && t.get<uint64_t>() > uint64_t(INT64_MAX) ? INT64_MAX : t.get<int64_t>();
    if (n < -1 || n == 0) return error("field 'truncate_prompt_tokens' must be positive (or -1: the model's limit)");
    request.truncate_prompt_tokens = n < 0 ? 0 : n;
  }
  const bool has_input = body.contains("input"), has_messages = body.contains("messages");
  if (has_input == has_messages) return error("give exactly one of 'input' and 'messages'");
  if (has_messages) {
    ARB_ASSIGN(request.messages, messages_at(body.at("messages"), "messages"));
    return request;
  }
  const json& input = body.at("input");
  if (input.is_string()) {
    request.inputs.push_back({input.get<std::string>(), {}, false});
    return request;
  }
  if (!input.is_array()) return error(std::string("field 'input' is ") + input.type_name() + ", expected a string or a list");
  if (input.empty()) return error("field 'input' is an empty list");
  if (input[0].is_number_integer()) {  // one tokenized prompt
    ARB_ASSIGN(std::vector<int32_t> tokens, token_list(input, "input"));
    request.inputs.push_back({"", std::move(tokens), true});
    return request;
  }
  for (size_t i = 0; i < input.size(); ++i) {
    const std::string where = "input[" + std::to_string(i) + "]";
    if (input[i].is_array()) {
      ARB_ASSIGN(std::vector<int32_t> tokens, token_list(input[i], where));
      request.inputs.push_back({"", std::move(tokens), true});
    } else {
      ARB_ASSIGN(std::string text, string_at(input[i], where));
      request.inputs.push_back({std::move(text), {}, false});
    }
  }
  return request;
}

Result<ScoreRequest> parse_score_request(const json& body) {
  ScoreRequest request;
  const int kinds = int(body.contains("conversations")) + int(body.contains("pairs")) + int(body.contains("input_ids"));
  // vLLM serves its cross-encoder score API at /v1/score too: its clients are pointed at what reads them.
  if (kinds == 0 && (body.contains("text_1") || body.contains("queries") || body.contains("data_1")))
    return error("this is arbiter's /v1/score, not vLLM's score API ('text_1'/'text_2'): send "
                 "{\"pairs\": [{\"prompt\": ..., \"response\": ...}]} here, or texts to /classify or /pooling");
  if (kinds != 1) return error("give exactly one of 'conversations', 'pairs' and 'input_ids'");
  if (body.contains("conversations")) {
    ARB_ASSIGN(const json* list, list_field(body, "conversations"));
    for (size_t i = 0; i < list->size(); ++i) {
      ARB_ASSIGN(data::Example ex, conversation_example((*list)[i], "conversations[" + std::to_string(i) + "]"));
      request.items.push_back(std::move(ex));
    }
  } else if (body.contains("pairs")) {
    ARB_ASSIGN(const json* list, list_field(body, "pairs"));
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string where = "pairs[" + std::to_string(i) + "]";
      const json& pair = (*list)[i];
      if (!pair.is_object()) return error(where + " is " + pair.type_name() + ", expected {prompt, response}");
      if (!pair.contains("prompt")) return error(where + " has no 'prompt'");
      if (!pair.contains("response") && !pair.contains("steps")) return error(where + " has no 'response'");
      if (pair.contains("response") && pair.contains("steps"))
        return error(where + " gives both 'response' and 'steps' (a solution's steps): give one");
      data::Example ex;
      ARB_ASSIGN(ex.prompt_turns, prompt_at(pair.at("prompt"), where + ".prompt"));
      if (pair.contains("steps")) {
        // A process reward model reads each step ended by its separator; other models the steps joined.
        const json& steps = pair.at("steps");
        if (!steps.is_array() || steps.empty()) return error(where + ".steps must be a non-empty list of strings");
        std::string joined;
        for (size_t k = 0; k < steps.size(); ++k) {
          ARB_ASSIGN(std::string step, string_at(steps[k], where + ".steps[" + std::to_string(k) + "]"));
          joined += (joined.empty() ? "" : "\n\n") + step;
          ex.steps.push_back(std::move(step));
        }
        ex.responses.push_back(std::move(joined));
      } else {
        ARB_TRY(add_response_at(pair.at("response"), where + ".response", ex));
      }
      ex.raw = json::object();
      request.items.push_back(std::move(ex));
    }
  } else {
    ARB_ASSIGN(const json* list, list_field(body, "input_ids"));
    for (size_t i = 0; i < list->size(); ++i) {
      data::Example ex;
      ARB_ASSIGN(ex.input_ids, token_list((*list)[i], "input_ids[" + std::to_string(i) + "]"));
      ex.raw = json::object();
      request.items.push_back(std::move(ex));
    }
  }
  for (size_t i = 0; i < request.items.size(); ++i) {
    request.items[i].id = std::to_string(i);
    request.items[i].row_index = i;
  }
  return request;
}

Result<JudgeRequest> parse_judge_request(const json& body) {
  JudgeRequest request;
  ARB_ASSIGN(request.per_layer, optional_bool(body, "per_layer", false));
  ARB_ASSIGN(const json* list, list_field(body, "items"));
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string where = "items[" + std::to_string(i) + "]";
    const json& item = (*list)[i];
    if (!item.is_object()) return error(where + " is " + item.type_name() + ", expected {prompt, response}");
    if (!item.contains("prompt")) return error(where + " has no 'prompt'");
    const bool one = item.contains("response"), several = item.contains("responses");
    if (one == several)
      return error(where + (one ? " has both 'response' and 'responses': give one"
                                : " has no 'response' (or 'responses', a list for a pairwise judge)"));
    data::Example ex;
    ex.id = std::to_string(i);
    ex.row_index = i;
    ARB_ASSIGN(ex.prompt_turns, prompt_at(item.at("prompt"), where + ".prompt"));
    if (one) {
      ARB_TRY(add_response_at(item.at("response"), where + ".response", ex));
    } else {
      const json& list = item.at("responses");
      if (!list.is_array() || list.empty())
        return error(where + ".responses is " + (list.is_array() ? "empty" : list.type_name()) +
                     ", expected a list of response strings");
      for (size_t r = 0; r < list.size(); ++r) {
        ARB_TRY(add_response_at(list[r], where + ".responses[" + std::to_string(r) + "]", ex));
      }
      ex.responses_listed = true;  // answered as a list, whatever its length
    }
    // The judge job reads the rubric and the reference answer from the row's raw fields.
    ex.raw = json::object();
    for (const char* field : {"rubric", "reference"}) {
      if (!item.contains(field) || item.at(field).is_null()) continue;
      ARB_ASSIGN(std::string text, string_at(item.at(field), where + "." + field));
      ex.raw[field] = std::move(text);
    }
    request.items.push_back(std::move(ex));
  }
  return request;
}

}  // namespace arbiter::serve
