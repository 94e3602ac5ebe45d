// The chat cases of the real tokenizers' reference files: rendered by transformers' apply_chat_template,
// they must come out byte for byte.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "text/chat_template.h"

namespace arbiter {
namespace {

nlohmann::ordered_json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::ordered_json::parse(ss.str());
}

void check_reference(const std::string& model, int expected_cases) {
  std::string dir = std::string(ARBITER_SHARED_DIR) + "/fixtures/tokenizers/" + model;
  auto config = load_chat_template_config(dir + "/tokenizer_config.json");
  ASSERT_TRUE(config.is_ok()) << config.message();
  auto tpl = ChatTemplate::from_config(*config);
  ASSERT_TRUE(tpl.is_ok()) << tpl.message();
  nlohmann::ordered_json ref = read_json(dir + "/reference.json");
  int checked = 0;
  for (const auto& c : ref["chat"]) {
    auto out = tpl->render(c["messages"], c["add_generation_prompt"].get<bool>());
    ASSERT_TRUE(out.is_ok()) << out.message();
    EXPECT_EQ(*out, c["rendered"].get<std::string>()) << model << " case " << checked;
    ++checked;
  }
  EXPECT_EQ(checked, expected_cases);
}

TEST(ChatTemplateReference, Llama3MatchesTransformers) { check_reference("llama3", 6); }
TEST(ChatTemplateReference, Qwen3MatchesTransformers) { check_reference("qwen3", 6); }

TEST(ChatTemplateReference, Qwen3DisabledThinkingAddsEmptyThinkBlock) {
  auto config = load_chat_template_config(std::string(ARBITER_SHARED_DIR) + "/fixtures/tokenizers/qwen3/tokenizer_config.json");
  ASSERT_TRUE(config.is_ok());
  auto tpl = ChatTemplate::from_config(*config);
  ASSERT_TRUE(tpl.is_ok());
  nlohmann::ordered_json messages = nlohmann::ordered_json::parse(R"([{"role":"user","content":"Hi"}])");
  auto out = tpl->render(messages, true, {{"enable_thinking", false}});
  ASSERT_TRUE(out.is_ok()) << out.message();
  EXPECT_EQ(*out, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

TEST(ChatTemplateConfigLoader, PicksNamedTemplateAndTokenObjects) {
  auto config = nlohmann::ordered_json::parse(R"({
    "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
    "eos_token": "</s>",
    "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D{{ bos_token }}"}]
  })");
  auto c = chat_template_from_tokenizer_config(config);
  ASSERT_TRUE(c.is_ok()) << c.message();
  EXPECT_EQ(c->source, "D{{ bos_token }}");
  EXPECT_EQ(c->special_tokens["bos_token"], "<s>");
  EXPECT_EQ(c->special_tokens["eos_token"], "</s>");
  auto tool = chat_template_from_tokenizer_config(config, "tool_use");
  ASSERT_TRUE(tool.is_ok());
  EXPECT_EQ(tool->source, "T");
  EXPECT_FALSE(chat_template_from_tokenizer_config(config, "missing").is_ok());
  EXPECT_FALSE(chat_template_from_tokenizer_config(nlohmann::ordered_json::object()).is_ok());
  auto t = ChatTemplate::from_config(*c);
  ASSERT_TRUE(t.is_ok());
  auto out = t->render(nlohmann::ordered_json::array(), false);
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(*out, "D<s>");
}

}  // namespace
}  // namespace arbiter
