// arbiter chat-template: renders a conversation with a model's chat template, exactly as
// transformers' apply_chat_template would, and optionally its token ids.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/dataset_options.h"
#include "cli/model_source.h"
#include "core/json_text.h"
#include "core/log.h"
#include "core/mapped_file.h"
#include "model/model_tokenizer.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace arbiter::cli {

namespace {

struct ChatTemplateArgs {
  std::string model_path, messages_path, template_file, context_json;
  bool add_generation_prompt = false, ids = false;
};

Status run_chat_template(const ChatTemplateArgs& args) {
  ARB_ASSIGN(const TextAssets assets, describe_text_assets_at(args.model_path));
  std::string source = assets.chat_template;
  if (!args.template_file.empty()) {
    ARB_ASSIGN(source, read_chat_template_file(args.template_file));
  }
  if (source.empty()) return error(args.model_path + ": the model has no chat template (give --template-file)");
  ARB_ASSIGN(std::string messages_text, read_file(args.messages_path));
  Result<nlohmann::ordered_json> parsed = parse_json_text<nlohmann::ordered_json>(messages_text);
  if (!parsed) return parsed.status().with_context(args.messages_path);
  nlohmann::ordered_json messages = std::move(parsed).value();
  // Accept a bare list of messages or {"messages": [...], other context...}.
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
  if (messages.is_object() && messages.contains("messages")) {
    for (auto it = messages.begin(); it != messages.end(); ++it)
      if (it.key() != "messages") extra[it.key()] = it.value();
    messages = nlohmann::ordered_json(messages["messages"]);
  }
  if (!messages.is_array()) return error(args.messages_path + ": expected a list of {role, content} messages");
  for (size_t i = 0; i < messages.size(); ++i)
    if (!messages[i].is_object() || !messages[i].contains("role") || !messages[i]["role"].is_string())
      return error(args.messages_path + ": message " + std::to_string(i) + " is not a {role, content} object with a "
                   "string role");
  if (!args.context_json.empty()) {
    auto ctx = nlohmann::ordered_json::parse(args.context_json, nullptr, false);
    if (!ctx.is_object()) return error("--context must be a JSON object");
    for (auto it = ctx.begin(); it != ctx.end(); ++it) extra[it.key()] = it.value();
  }
  // Tools given and no template named: the model's "tool_use" template where it has one, as transformers.
  if (args.template_file.empty() && extra.contains("tools") && !extra["tools"].is_null())
    source = chat_template_for(assets, true);
  nlohmann::ordered_json base = {{"bos_token", assets.bos_token}, {"eos_token", assets.eos_token}};
  ARB_ASSIGN(ChatTemplate tmpl, ChatTemplate::parse(source, base));
  ARB_ASSIGN(std::string rendered, tmpl.render(messages, args.add_generation_prompt, extra));
  for (const size_t i : tmpl.messages_left_out(messages, extra))
    log_warn(args.messages_path + ": message " + std::to_string(i) + " (role '" + messages[i]["role"].get<std::string>() +
             "') is not in the rendered text: the chat template leaves it out");
  if (args.ids) {
    ARB_ASSIGN(auto tokenizer, load_tokenizer_at(args.model_path));
    ARB_ASSIGN(std::vector<int32_t> ids, tokenizer->encode(rendered, false, true));
    std::printf("%s\n", nlohmann::json{{"text", rendered}, {"ids", ids}}.dump().c_str());
  } else {
    std::fwrite(rendered.data(), 1, rendered.size(), stdout);
  }
  return Status::ok();
}

const CommandRegistration kChatTemplateRegistration({
    "chat-template",
    [](CLI::App& sub) -> CommandRunner {
      auto args = std::make_shared<ChatTemplateArgs>();
      sub.add_option("-m,--model", args->model_path, "GGUF file or Hugging Face model (or tokenizer) directory, or a model to download (hf://ORG/REPO, hf://ORG/REPO/FILE.gguf)")->required();
      sub.add_option("--messages", args->messages_path, "JSON file: a list of {role, content} messages")->required();
      sub.add_flag("--add-generation-prompt", args->add_generation_prompt, "end with the assistant's turn header");
      sub.add_option("--template-file", args->template_file, "a Jinja template to use instead of the model's");
      sub.add_option("--context", args->context_json, "extra template variables as a JSON object");
      sub.add_flag("--ids", args->ids, "print JSON with the rendered text and its token ids");
      return [args]() -> Status {
        ARB_TRY(pull_model_source(args->model_path));
        return run_chat_template(*args);
      };
    },
    "render a conversation with the model's chat template (exactly as transformers does)",
    41,
});

}  // namespace

}  // namespace arbiter::cli
