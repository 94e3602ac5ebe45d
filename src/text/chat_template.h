// Chat templates as Hugging Face tokenizers ship them: the Jinja template from tokenizer_config.json and
// the context transformers' apply_chat_template renders it with (messages, add_generation_prompt,
// tools/documents = None, the special tokens bos_token, eos_token, ...). Parse once, render many.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "text/jinja.h"

namespace arbiter {

// What a tokenizer_config.json says about chat formatting.
struct ChatTemplateConfig {
  std::string source;                    // the Jinja template
  nlohmann::ordered_json special_tokens = nlohmann::ordered_json::object();  // bos_token, eos_token, ... as strings
};

// `chat_template` may be a string or a list of {"name", "template"}; `name` picks from the list
// ("default" unless asked otherwise). Special tokens may be strings or {"content": ...} objects.
Result<ChatTemplateConfig> chat_template_from_tokenizer_config(const nlohmann::ordered_json& config,
                                                               const std::string& name = "default");
Result<ChatTemplateConfig> load_chat_template_config(const std::string& tokenizer_config_path,
                                                     const std::string& name = "default");

class ChatTemplate {
 public:
  // base_context: variables every render sees (typically ChatTemplateConfig::special_tokens).
  static Result<ChatTemplate> parse(const std::string& source,
                                    const nlohmann::ordered_json& base_context = nlohmann::ordered_json::object());
  static Result<ChatTemplate> from_config(const ChatTemplateConfig& config);

  // messages: [{"role": ..., "content": ..., ...}]. extra_context members (tools, documents,
  // enable_thinking, bos_token, ...) are added to the context and override base_context.
  Result<std::string> render(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                             const nlohmann::ordered_json& extra_context = nlohmann::ordered_json::object(),
                             const jinja::RenderOptions& options = {}) const;

  // The positions of the messages this template leaves out of its rendering. Templates skip roles they do
  // not know without a word (Qwen2.5's renders system, user, assistant and tool only), and a message the
  // model never reads must not pass for one it did. Looked at: every message with string content and a role
  // other than user or assistant (which every template renders). A probe text is rendered in its content's
  // place, not the content itself: templates rewrite content (Llama 3.1 writes a tool's output with
  // tojson), and a short content may show elsewhere in the conversation. All in one render, each message
  // its own probe; a render the template fails with the probes tells nothing, and nothing is counted.
  std::vector<size_t> messages_left_out(const nlohmann::ordered_json& messages,
                                        const nlohmann::ordered_json& extra_context = nlohmann::ordered_json::object()) const;

  const std::string& source() const { return source_; }

 private:
  jinja::Template template_;
  std::string source_;
  nlohmann::ordered_json base_context_;
};

// One-shot parse + render.
Result<std::string> render_chat_template(const std::string& template_source, const nlohmann::ordered_json& messages,
                                         bool add_generation_prompt,
                                         const nlohmann::ordered_json& extra_context = nlohmann::ordered_json::object());

}  // namespace arbiter
