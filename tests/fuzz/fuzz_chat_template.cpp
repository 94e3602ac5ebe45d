// libFuzzer target: the Jinja chat-template engine on arbitrary template source. A chat template comes
// from a model file (tokenizer_config.json or GGUF metadata), so it is untrusted input: parsing and
// rendering must end, within the render limits, in either text or an error, never a crash, a hang or
// unbounded memory. The template is rendered over a fixed conversation with tools, as `judge` does.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "text/chat_template.h"

namespace {

const nlohmann::ordered_json& messages() {
  static const nlohmann::ordered_json m = nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "Grade the response."},
    {"role": "user", "content": "Is 7 prime? \u00e9\u4e2d"},
    {"role": "assistant", "content": "  Yes.  ", "tool_calls": [{"id": "abcdefghi", "function": {"name": "f", "arguments": {"x": [1, 2.5, null, true]}}}]},
    {"role": "tool", "content": "{\"ok\": 1}", "tool_call_id": "abcdefghi"},
    {"role": "user", "content": "Score it from 1 to 5."}
  ])");
  return m;
}

const nlohmann::ordered_json& extra() {
  static const nlohmann::ordered_json e = nlohmann::ordered_json::parse(R"({
    "tools": [{"type": "function", "function": {"name": "f", "description": "d",
               "parameters": {"type": "object", "properties": {"x": {"type": "array", "items": {"type": "number"}}},
                              "required": ["x"]}}}],
    "bos_token": "<s>", "eos_token": "</s>", "enable_thinking": false
  })");
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string source(reinterpret_cast<const char*>(data), size);
  auto tpl = arbiter::ChatTemplate::parse(source);
  if (!tpl.is_ok()) {
    if (tpl.message().empty()) __builtin_trap();  // an error must say what went wrong
    return 0;
  }
  // Tighter limits than the defaults keep each input fast; the limits themselves are what is tested.
  arbiter::jinja::RenderOptions options;
  options.now = 1721995200;
  options.max_steps = 200'000;
  options.max_output_bytes = 1u << 20;
  for (bool add_generation_prompt : {false, true}) {
    auto out = tpl->render(messages(), add_generation_prompt, extra(), options);
    if (out.is_ok() && out->size() > options.max_output_bytes) __builtin_trap();
    if (!out.is_ok() && out.message().empty()) __builtin_trap();
  }
  return 0;
}
