// Request parsing: every accepted shape, and every malformed one refused with a message naming the field.
#include <gtest/gtest.h>

#include "core/utf8.h"
#include "serve/request_schema.h"

namespace arbiter::serve {
namespace {

using nlohmann::json;

TEST(Utf8, FindsTheFirstIllFormedByte) {
  EXPECT_FALSE(utf8_first_invalid("plain ascii").has_value());
  EXPECT_FALSE(utf8_first_invalid("caf\xC3\xA9 \xF0\x9F\x98\x80").has_value());
  EXPECT_EQ(utf8_first_invalid("ab\xFF"), 2u);
  EXPECT_EQ(utf8_first_invalid("a\xC3"), 1u);              // truncated sequence
  EXPECT_EQ(utf8_first_invalid("\xC0\xAF"), 0u);           // overlong '/'
  EXPECT_EQ(utf8_first_invalid("x\xED\xA0\x80"), 1u);      // UTF-16 surrogate
  EXPECT_EQ(utf8_first_invalid("\xF4\x90\x80\x80"), 0u);   // past U+10FFFF
}

TEST(ServeBody, RefusesWhatIsNotAJsonObject) {
  EXPECT_TRUE(parse_body(R"({"a": 1})").is_ok());
  auto bad_json = parse_body(R"({"a": )");
  ASSERT_FALSE(bad_json.is_ok());
  EXPECT_NE(bad_json.message().find("malformed JSON"), std::string::npos) << bad_json.message();
  auto bad_utf8 = parse_body("{\"a\": \"\xFF\"}");
  ASSERT_FALSE(bad_utf8.is_ok());
  EXPECT_NE(bad_utf8.message().find("UTF-8 (byte 7)"), std::string::npos) << bad_utf8.message();
  EXPECT_FALSE(parse_body("[1, 2]").is_ok());
  EXPECT_FALSE(parse_body("").is_ok());
  auto deep = parse_body(std::string(100, '[') + std::string(100, ']'));
  ASSERT_FALSE(deep.is_ok());
  EXPECT_NE(deep.message().find("nested deeper"), std::string::npos);
  // Brackets inside strings are text, not nesting.
  EXPECT_TRUE(parse_body("{\"a\": \"" + std::string(100, '[') + "\"}").is_ok());
}

TEST(ServeReward, QueriesMustBeANonEmptyListOfStrings) {
  auto ok = parse_reward_request(json::parse(R"({"query": ["a", "b"], "prompts": ["p", "q"], "labels": [1, 2]})"));
  ASSERT_TRUE(ok.is_ok()) << ok.message();
  EXPECT_EQ(ok->queries, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parse_reward_request(json::parse(R"({})")).message(), "missing field 'query'");
  EXPECT_EQ(parse_reward_request(json::parse(R"({"query": []})")).message(), "field 'query' is an empty list");
  EXPECT_EQ(parse_reward_request(json::parse(R"({"query": "a"})")).message(), "field 'query' is string, expected a list");
  EXPECT_EQ(parse_reward_request(json::parse(R"({"query": ["a", 3]})")).message(), "query[1] is number, expected a string");
  EXPECT_FALSE(parse_reward_request(json::parse(R"({"query": ["a"], "prompts": ["p", "q"]})")).is_ok());
}

TEST(ServePooling, InputIsAStringAListOrTokens) {
  auto one = parse_pooling_request(json::parse(R"({"input": "hello"})"));
  ASSERT_TRUE(one.is_ok());
  ASSERT_EQ(one->inputs.size(), 1u);
  EXPECT_EQ(one->inputs[0].text, "hello");
  EXPECT_TRUE(one->add_special_tokens);
  auto many = parse_pooling_request(json::parse(R"({"input": ["a", [1, 2, 3]], "add_special_tokens": false})"));
  ASSERT_TRUE(many.is_ok()) << many.message();
  ASSERT_EQ(many->inputs.size(), 2u);
  EXPECT_TRUE(many->inputs[1].tokenized);
  EXPECT_EQ(many->inputs[1].tokens, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_FALSE(many->add_special_tokens);
  auto tokens = parse_pooling_request(json::parse(R"({"input": [5, 6], "truncate_prompt_tokens": 1})"));
  ASSERT_TRUE(tokens.is_ok());
  EXPECT_EQ(tokens->inputs.size(), 1u);
  EXPECT_EQ(tokens->truncate_prompt_tokens, 1);
  auto chat = parse_pooling_request(json::parse(R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})"));
  ASSERT_TRUE(chat.is_ok());
  EXPECT_EQ(chat->messages.size(), 2u);

  EXPECT_EQ(parse_pooling_request(json::parse(R"({"input": []})")).message(), "field 'input' is an empty list");
  EXPECT_EQ(parse_pooling_request(json::parse(R"({"input": 3})")).message(), "field 'input' is number, expected a string or a list");
  EXPECT_EQ(parse_pooling_request(json::parse(R"({"input": ["a", {}]})")).message(), "input[1] is object, expected a string");
  EXPECT_EQ(parse_pooling_request(json::parse(R"({"input": [1, -2]})")).message(), "input[1] is not a valid token id");
  EXPECT_EQ(parse_pooling_request(json::parse(R"({"input": [1, 5000000000]})")).message(), "input[1] is not a valid token id");
  EXPECT_FALSE(parse_pooling_request(json::parse(R"({})")).is_ok());
  EXPECT_FALSE(parse_pooling_request(json::parse(R"({"input": "a", "messages": []})")).is_ok());
  EXPECT_FALSE(parse_pooling_request(json::parse(R"({"input": "a", "add_special_tokens": "yes"})")).is_ok());
  EXPECT_FALSE(parse_pooling_request(json::parse(R"({"input": "a", "truncate_prompt_tokens": 0})")).is_ok());
}

TEST(ServeScore, ConversationsPairsAndTokenIds) {
  auto conv = parse_score_request(json::parse(R"({"conversations": [[{"role": "system", "content": "s"},
      {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]]})"));
  ASSERT_TRUE(conv.is_ok()) << conv.message();
  ASSERT_EQ(conv->items.size(), 1u);
  EXPECT_EQ(conv->items[0].prompt_turns.size(), 2u);
  EXPECT_EQ(conv->items[0].responses, (std::vector<std::string>{"a"}));
  auto pairs = parse_score_request(json::parse(R"({"pairs": [{"prompt": "q", "response": "a"},
      {"prompt": [{"role": "user", "content": "q2"}], "response": "b"}]})"));
  ASSERT_TRUE(pairs.is_ok()) << pairs.message();
  EXPECT_EQ(pairs->items[1].prompt_turns[0].content, "q2");
  auto ids = parse_score_request(json::parse(R"({"input_ids": [[1, 2], [3]]})"));
  ASSERT_TRUE(ids.is_ok());
  EXPECT_EQ(ids->items[1].input_ids, (std::vector<int32_t>{3}));

  // A vLLM score-API client is told where it is.
  EXPECT_NE(parse_score_request(json::parse(R"({"model": "m", "text_1": "q", "text_2": ["a", "b"]})")).message().find(
                "not vLLM's score API"),
            std::string::npos);
  EXPECT_EQ(parse_score_request(json::parse(R"({"pairs": []})")).message(), "field 'pairs' is an empty list");
  EXPECT_EQ(parse_score_request(json::parse(R"({"pairs": [{"prompt": "q"}]})")).message(), "pairs[0] has no 'response'");
  EXPECT_EQ(parse_score_request(json::parse(R"({"pairs": [{"prompt": 1, "response": "a"}]})")).message(),
            "pairs[0].prompt is number, expected a string or a list of messages");
  EXPECT_EQ(parse_score_request(json::parse(R"({"conversations": [[{"role": "user", "content": "q"}]]})")).message(),
            "conversations[0]: the last message must be the assistant's response (role 'assistant')");
  // Any role a chat template renders is taken (the formatter refuses one it leaves out); ShareGPT's are not.
  EXPECT_EQ(parse_score_request(json::parse(R"({"conversations": [[{"role": "human", "content": "q"}]]})")).message(),
            "conversations[0][0].role: a message's role is 'human': ShareGPT's human / gpt are user / assistant");
  EXPECT_EQ(parse_score_request(json::parse(R"({"conversations": [[{"role": "", "content": "q"}]]})")).message(),
            "conversations[0][0].role: a message's role is empty");
  auto tool = parse_score_request(json::parse(R"({"conversations": [[{"role": "user", "content": "q"},
      {"role": "ipython", "content": "42"}, {"role": "assistant", "content": "a"}]]})"));
  ASSERT_TRUE(tool.is_ok()) << tool.message();
  EXPECT_EQ(tool->items[0].prompt_turns[1].role, "ipython");
  // An assistant's tool call (content null) keeps its other fields for the chat template.
  auto call = parse_score_request(json::parse(R"({"conversations": [[{"role": "user", "content": "q"},
      {"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "f"}}]},
      {"role": "tool", "content": "1", "tool_call_id": "c1"}, {"role": "assistant", "content": "a"}]]})"));
  ASSERT_TRUE(call.is_ok()) << call.message();
  EXPECT_EQ(call->items[0].prompt_turns[1].content, "");
  EXPECT_EQ(call->items[0].prompt_turns[1].fields["tool_calls"][0]["function"]["name"], "f");
  EXPECT_EQ(call->items[0].prompt_turns[2].fields["tool_call_id"], "c1");
  // OpenAI's content parts: the text parts joined with newlines; a part a text model cannot read is named.
  auto parts = parse_score_request(json::parse(R"({"conversations": [[{"role": "user", "content": [
      {"type": "text", "text": "Look:"}, "and answer."]}, {"role": "assistant", "content": [{"type": "text", "text": "a"}]}]]})"));
  ASSERT_TRUE(parts.is_ok()) << parts.message();
  EXPECT_EQ(parts->items[0].prompt_turns[0].content, "Look:\nand answer.");
  EXPECT_EQ(parts->items[0].responses[0], "a");
  EXPECT_EQ(parse_score_request(json::parse(R"({"conversations": [[{"role": "user", "content": [{"type": "text", "text": "q"},
      {"type": "image_url", "image_url": {"url": "x.png"}}]}, {"role": "assistant", "content": "a"}]]})")).message(),
            "conversations[0][0]: content part 1 is of type 'image_url': only text parts can be read (this is a text model)");
  EXPECT_EQ(parse_score_request(json::parse(R"({"conversations": [[{"role": "user", "content": [{"text": "q"}]},
      {"role": "assistant", "content": "a"}]]})")).message(),
            "conversations[0][0]: content part 0 has no string 'type'");
  EXPECT_EQ(parse_score_request(json::parse(R"({"conversations": [[{"role": "user", "content": 7},
      {"role": "assistant", "content": "a"}]]})")).message(),
            "conversations[0][0]: content is number, expected a string, null or a list of text parts");
  // A response given as messages, as a dataset row may give it: the last (the assistant's) is the response.
  auto listed = parse_score_request(json::parse(R"({"pairs": [{"prompt": "Hello", "response": [{"role": "assistant",
      "content": [{"type": "text", "text": "Hi there"}], "tool_calls": [{"function": {"name": "f"}}]}]}]})"));
  ASSERT_TRUE(listed.is_ok()) << listed.message();
  EXPECT_EQ(listed->items[0].responses[0], "Hi there");
  EXPECT_EQ(data::fields_of_response(listed->items[0], 0)["tool_calls"][0]["function"]["name"], "f");
  EXPECT_EQ(parse_score_request(json::parse(R"({"pairs": [{"prompt": "Hello", "response": [{"role": "user", "content": "x"}]}]})"))
                .message(),
            "pairs[0].response: the last message is the response, and its role is 'user', not 'assistant'");
  auto judged = parse_judge_request(json::parse(R"({"items": [{"prompt": "q", "responses": ["a", [{"role": "assistant", "content": "b"}]]}]})"));
  ASSERT_TRUE(judged.is_ok()) << judged.message();
  EXPECT_EQ(judged->items[0].responses, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parse_score_request(json::parse(R"({"input_ids": [[]]})")).message(), "input_ids[0] is an empty list of token ids");
  EXPECT_FALSE(parse_score_request(json::parse(R"({"pairs": [{"prompt": "q", "response": "a"}], "input_ids": [[1]]})")).is_ok());
}

TEST(ServeJudge, ItemsWithRubricAndReference) {
  auto ok = parse_judge_request(json::parse(R"({"items": [{"prompt": "q", "response": "a", "rubric": "r",
      "reference": "ref"}], "per_layer": true})"));
  ASSERT_TRUE(ok.is_ok()) << ok.message();
  EXPECT_TRUE(ok->per_layer);
  EXPECT_EQ(ok->items[0].raw["rubric"], "r");
  EXPECT_EQ(ok->items[0].raw["reference"], "ref");
  EXPECT_EQ(parse_judge_request(json::parse(R"({"items": [{"prompt": "q", "response": "a"}], "per_layer": 1})")).message(),
            "field 'per_layer' is number, expected true or false");
  EXPECT_EQ(parse_judge_request(json::parse(R"({"items": [{"prompt": "q", "response": "a", "rubric": 5}]})")).message(),
            "items[0].rubric is number, expected a string");
  EXPECT_EQ(parse_judge_request(json::parse(R"({"items": "x"})")).message(), "field 'items' is string, expected a list");
}

TEST(ServeJudge, ItemsWithSeveralResponses) {
  auto ok = parse_judge_request(json::parse(R"({"items": [{"prompt": "q", "responses": ["a", "b", "c"]}]})"));
  ASSERT_TRUE(ok.is_ok()) << ok.message();
  EXPECT_EQ(ok->items[0].responses, (std::vector<std::string>{"a", "b", "c"}));
  const std::pair<const char*, const char*> bad[] = {
      {R"({"items": [{"prompt": "q", "response": "a", "responses": ["b"]}]})",
       "items[0] has both 'response' and 'responses': give one"},
      {R"({"items": [{"prompt": "q"}]})", "items[0] has no 'response' (or 'responses', a list for a pairwise judge)"},
      {R"({"items": [{"prompt": "q", "responses": []}]})", "items[0].responses is empty, expected a list of response strings"},
      {R"({"items": [{"prompt": "q", "responses": "a"}]})", "items[0].responses is string, expected a list of response strings"},
      {R"({"items": [{"prompt": "q", "responses": ["a", 2]}]})", "items[0].responses[1] is number, expected a string or a list of messages"},
  };
  for (const auto& [body, message] : bad) EXPECT_EQ(parse_judge_request(json::parse(body)).message(), message) << body;
}

}  // namespace
}  // namespace arbiter::serve
