// Messages: which role names a row may give a turn, what text a message's content holds, and how a plain
// (template-less) layout labels speakers.
// Which roles a model reads is its chat template's business: the formatter checks that the template
// rendered every message it was given (score/formatter.h), so any role name is taken here.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "core/status.h"

namespace arbiter::data {

// Refuses an empty role, and ShareGPT's "human" / "gpt" (rows in that schema give "from" / "value";
// a template would render them as roles of those names, which no model was trained on).
Status check_role_name(const std::string& role);

// A message's content as text: a string; null (an assistant's turn that only calls tools) as ""; or
// OpenAI's list of content parts, whose text parts ({"type": "text", "text": ...}, or plain strings) are
// joined with newlines, as vLLM does for templates that take string content. Text-only templates read a
// list as no text at all (Qwen's write ''), so the list is never handed to them. A part of any other type
// (image_url, input_audio, ...) is refused, naming it: a text model cannot see it.
// `where` names the message in errors ("field 'prompt', message 2").
Result<std::string> message_text(const nlohmann::json& content, const std::string& where);

// A message's fields other than role and content (tool_calls, name, tool_call_id, ...), for the template.
nlohmann::ordered_json other_message_fields(const nlohmann::json& message);

// The speaker's label in a plain layout: "User", "Assistant", "System", or the role capitalized
// ("tool" -> "Tool").
std::string speaker_label(const std::string& role);

}  // namespace arbiter::data
