#include "data/roles.h"

#include <cctype>

namespace arbiter::data {

Status check_role_name(const std::string& role) {
  if (role.empty()) return error("a message's role is empty");
  if (role == "human" || role == "gpt")
    return error("a message's role is '" + role + "': ShareGPT's human / gpt are user / assistant");
  return Status::ok();
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
