#include "text/chat_template.h"

#include <fstream>
#include <sstream>

namespace arbiter {

namespace {

// The special-token fields of tokenizer_config.json that transformers passes into the template.
const char* const kSpecialTokenFields[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                           "pad_token", "cls_token", "mask_token"};

// A token is written either as its text or as a serialized AddedToken {"content": ..., ...}.
bool token_text(const nlohmann::ordered_json& v, std::string* out) {
  if (v.is_string()) {
    *out = v.get<std::string>();
    return true;
  }
  if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    *out = v["content"].get<std::string>();
    return true;
  }
  return false;
}

}  // namespace

Result<ChatTemplateConfig> chat_template_from_tokenizer_config(const nlohmann::ordered_json& config,
                                                               const std::string& name) {
  if (!config.is_object()) return error("tokenizer config: expected a JSON object");
  ChatTemplateConfig out;
  auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return error("tokenizer config: no 'chat_template' field");
  if (it->is_string()) {
    out.source = it->get<std::string>();
  } else if (it->is_array()) {
    bool found = false;
    for (const auto& entry : *it) {
      if (!entry.is_object() || !entry.contains("name") || !entry.contains("template")) {
        return error("tokenizer config: 'chat_template' list entries need 'name' and 'template'");
      }
      if (entry["name"] == name && entry["template"].is_string()) {
        out.source = entry["template"].get<std::string>();
        found = true;
      }
    }
    if (!found) return error("tokenizer config: 'chat_template' has no template named '" + name + "'");
  } else {
    return error("tokenizer config: 'chat_template' must be a string or a list of {name, template}");
  }
  for (const char* field : kSpecialTokenFields) {
    auto t = config.find(field);
    std::string text;
    if (t != config.end() && token_text(*t, &text)) out.special_tokens[field] = text;
  }
  auto extra = config.find("additional_special_tokens");
  if (extra != config.end() && extra->is_array()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& t : *extra) {
      std::string text;
      if (token_text(t, &text)) list.push_back(text);
    }
    out.special_tokens["additional_special_tokens"] = list;
  }
  return out;
}

Result<ChatTemplateConfig> load_chat_template_config(const std::string& tokenizer_config_path, const std::string& name) {
  std::ifstream in(tokenizer_config_path, std::ios::binary);
  if (!in) return error(tokenizer_config_path + ": cannot open");
  std::stringstream buffer;
  buffer << in.rdbuf();
  nlohmann::ordered_json config = nlohmann::ordered_json::parse(buffer.str(), nullptr, false);
  if (config.is_discarded()) return error(tokenizer_config_path + ": invalid JSON");
  auto result = chat_template_from_tokenizer_config(config, name);
  if (!result.is_ok()) return result.status().with_context(tokenizer_config_path);
  return result;
}

Result<ChatTemplate> ChatTemplate::parse(const std::string& source, const nlohmann::ordered_json& base_context) {
  if (!base_context.is_object()) return error("chat template: base context must be a JSON object");
  auto parsed = jinja::Template::parse(source);
  if (!parsed.is_ok()) return parsed.status().with_context("chat template");
  ChatTemplate t;
  t.template_ = std::move(parsed).value();
  t.source_ = source;
  t.base_context_ = base_context;
  return t;
}

Result<ChatTemplate> ChatTemplate::from_config(const ChatTemplateConfig& config) {
  return parse(config.source, config.special_tokens);
}

Result<std::string> ChatTemplate::render(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                         const nlohmann::ordered_json& extra_context,
                                         const jinja::RenderOptions& options) const {
  if (!messages.is_array()) return error("chat template: messages must be a JSON array");
  if (!extra_context.is_object() && !extra_context.is_null()) return error("chat template: extra context must be a JSON object");
  // transformers always passes tools and documents (None when absent), so `tools is defined` holds.
  nlohmann::ordered_json context = nlohmann::ordered_json::object();
  context["tools"] = nullptr;
  context["documents"] = nullptr;
  for (auto it = base_context_.begin(); it != base_context_.end(); ++it) context[it.key()] = it.value();
  if (extra_context.is_object()) {
    for (auto it = extra_context.begin(); it != extra_context.end(); ++it) context[it.key()] = it.value();
  }
  context["messages"] = messages;
  context["add_generation_prompt"] = add_generation_prompt;
  auto rendered = template_.render(context, options);
  if (!rendered.is_ok()) return rendered.status().with_context("chat template");
  return rendered;
}

namespace {

// The probe put in message `index`'s place: letters only, so that no template's escaping changes it, and
// ending in the one letter its index never uses, so that no probe is found inside another.
std::string message_probe(size_t index) {
  std::string probe = "ArbiterMessageProbe";
  do {
    probe += char('A' + index % 25);  // A..Y
    index /= 25;
  } while (index > 0);
  return probe + "Z";
}

}  // namespace

std::vector<size_t> ChatTemplate::messages_left_out(const nlohmann::ordered_json& messages,
                                                   const nlohmann::ordered_json& extra_context) const {
  std::vector<size_t> left_out;
  if (!messages.is_array()) return left_out;
  // Every message looked at gets its own probe, and one render shows which of them the template keeps.
  nlohmann::ordered_json probed = messages;
  std::vector<size_t> looked_at;
  for (size_t i = 0; i < messages.size(); ++i) {
    const nlohmann::ordered_json& message = messages[i];
    if (!message.is_object() || !message.contains("role") || !message["role"].is_string()) continue;
    if (!message.contains("content") || !message["content"].is_string()) continue;
    const std::string role = message["role"].get<std::string>();
    if (role == "user" || role == "assistant") continue;
    probed[i]["content"] = message_probe(i);
    looked_at.push_back(i);
  }
  if (looked_at.empty()) return left_out;
  const Result<std::string> rendered = render(probed, false, extra_context);
  if (!rendered) return left_out;
  for (const size_t i : looked_at)
    if (rendered->find(message_probe(i)) == std::string::npos) left_out.push_back(i);
  return left_out;
}

Result<std::string> render_chat_template(const std::string& template_source, const nlohmann::ordered_json& messages,
                                         bool add_generation_prompt, const nlohmann::ordered_json& extra_context) {
  ARB_ASSIGN(ChatTemplate t, ChatTemplate::parse(template_source));
  return t.render(messages, add_generation_prompt, extra_context);
}

}  // namespace arbiter
