#include "data/roles.h"

#include <cctype>

namespace arbiter::data {

Status check_role_name(const std::string& role) {
  if (role.empty()) return error("a message's role is empty");
  if (role == "human" || role == "gpt")
    return error("a message's role is '" + role + "': ShareGPT's human / gpt are user / assistant");
  return Status::ok();
}

Result<std::string> message_text(const nlohmann::json& content, const std::string& where) {
  if (content.is_null()) return std::string();
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array())
    return error(where + ": content is " + content.type_name() + ", expected a string, null or a list of text parts");
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const nlohmann::json& part = content[i];
    const std::string at = where + ": content part " + std::to_string(i);
    std::string part_text;
    if (part.is_string()) {
      part_text = part.get<std::string>();
    } else if (part.is_object()) {
      if (!part.contains("type") || !part.at("type").is_string()) return error(at + " has no string 'type'");
      const std::string type = part.at("type").get<std::string>();
      if (type != "text")
        return error(at + " is of type '" + type + "': only text parts can be read (this is a text model)");
      if (!part.contains("text") || !part.at("text").is_string()) return error(at + " (text) has no string 'text'");
      part_text = part.at("text").get<std::string>();
    } else {
      return error(at + std::string(" is ") + part.type_name() + ", expected a {type, text} object or a string");
    }
    if (i > 0) text += '\n';
    text += part_text;
  }
  return text;
}

nlohmann::ordered_json other_message_fields(const nlohmann::json& message) {
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
  for (auto it = message.begin(); it != message.end(); ++it)
    if (it.key() != "role" && it.key() != "content") fields[it.key()] = it.value();
  return fields;
}

std::string speaker_label(const std::string& role) {
  if (role == "user") return "User";
  if (role == "assistant") return "Assistant";
  if (role == "system") return "System";
  std::string label = role;
  if (!label.empty()) label[0] = char(std::toupper(static_cast<unsigned char>(label[0])));  // ASCII only: a UTF-8 lead byte stays
  return label;
}

}  // namespace arbiter::data
