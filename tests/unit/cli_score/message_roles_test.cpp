// Message roles are the chat template's business: a message of any role is scored when the template
// renders it, and is an error naming it when the template leaves it out (Qwen3's template renders
// system, user, assistant and tool only, and skips the others without a word), never a message the model
// silently never reads. A template that rewrites a message's content (a tool's output written as JSON)
// still renders it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

class MessageRoles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(temp_dir("message-roles"));
    auto made = run_arbiter("-q create-model --arch qwen2 --head seqcls --tokenizer " + kShared +
                            "/fixtures/tokenizers/qwen3 --out " + *dir_ + "/rm");
    setup_.expect(made.exit_code == 0, made.out);
  }
  static void TearDownTestSuite() { delete dir_; }

  // One row whose prompt is a user turn, then a `role` turn saying `content`.
  static std::string row_file(const std::string& name, const std::string& role, const std::string& content) {
    const nlohmann::json row = {{"id", "r"},
                                {"prompt", {{{"role", "user"}, {"content", "What is 6 x 7?"}}, {{"role", role}, {"content", content}}}},
                                {"response", "42."}};
    const std::string path = *dir_ + "/" + name + ".jsonl";
    std::ofstream(path) << row.dump() << "\n";
    return path;
  }
  static RunResult score(const std::string& rows, const std::string& extra = "") {
    return run_arbiter("score -q -m " + *dir_ + "/rm -i " + rows + " -o " + rows + ".out " + extra);
  }
  void SetUp() override { setup_.check(); }
  static std::string* dir_;
  inline static SuiteSetup setup_;
};
std::string* MessageRoles::dir_ = nullptr;

TEST_F(MessageRoles, ARoleTheTemplateSkipsIsNamed) {
  const std::string rows = row_file("ipython", "ipython", "{\"result\": 42}");
  const RunResult r = score(rows);
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("ipython.jsonl:1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("message 1 (role 'ipython'): the chat template leaves it out of the conversation"),
            std::string::npos)
      << r.out;
  // Also when its text shows elsewhere in the conversation (here: the response says the same).
  const RunResult echoed = score(row_file("ipython-echoed", "ipython", "42."));
  EXPECT_NE(echoed.exit_code, 0) << echoed.out;
  EXPECT_NE(echoed.out.find("message 1 (role 'ipython')"), std::string::npos) << echoed.out;
}

TEST_F(MessageRoles, ChatTemplateWarnsOfAMessageItLeavesOut) {
  const std::string messages = *dir_ + "/messages.json";
  write_text(messages, R"([{"role": "user", "content": "What is 6 x 7?"}, {"role": "ipython", "content": "42"},
                           {"role": "tool", "content": "42"}])");
  const RunResult r = run_arbiter("chat-template -m " + *dir_ + "/rm --messages " + messages);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("message 1 (role 'ipython') is not in the rendered text"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("message 2 (role 'tool')"), std::string::npos) << r.out;
}

TEST_F(MessageRoles, ARoleTheTemplateRendersIsScored) {
  const std::string rows = row_file("tool", "tool", "{\"result\": 42}");
  const RunResult r = score(rows);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(rows + ".out");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0]["score"].is_number()) << lines[0].dump();

  // A template that renders every role takes the one Qwen3's skips, under a name of its own.
  write_text(*dir_ + "/any-role.jinja",
             "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}");
  const std::string ipython = row_file("ipython-any", "ipython", "{\"result\": 42}");
  const RunResult any = score(ipython, "--chat-template " + *dir_ + "/any-role.jinja");
  EXPECT_EQ(any.exit_code, 0) << any.out;
}

// An assistant's tool call (OpenAI's format: content null, tool_calls beside it) reaches the template, which
// renders it (Qwen3's writes a <tool_call> block): the row is not scored as if the call were not there.
// An empty chat template file named on the command line is an error naming it, never the model's own.
TEST_F(MessageRoles, AnEmptyChatTemplateFileIsNamed) {
  write_text(*dir_ + "/empty.jinja", "\n");
  const std::string rows = row_file("plain", "system", "Be brief.");
  const RunResult scored = score(rows, "--chat-template " + *dir_ + "/empty.jinja");
  EXPECT_NE(scored.exit_code, 0) << scored.out;
  EXPECT_NE(scored.out.find("empty.jinja: an empty chat template"), std::string::npos) << scored.out;
  write_text(*dir_ + "/one.json", R"([{"role": "user", "content": "Hi"}])");
  const RunResult shown = run_arbiter("chat-template -m " + *dir_ + "/rm --messages " + *dir_ + "/one.json --template-file " +
                                      *dir_ + "/empty.jinja");
  EXPECT_NE(shown.exit_code, 0) << shown.out;
  EXPECT_NE(shown.out.find("empty.jinja: an empty chat template"), std::string::npos) << shown.out;
}

// Without a chat template (--plain) each turn is written as "Role: content": a tool's output is labelled
// as the tool's, not as the user's, so the two rows are not one sequence.
TEST_F(MessageRoles, ThePlainLayoutLabelsARoleByItsName) {
  const std::string tool = row_file("plain-tool", "tool", "42");
  const std::string user = row_file("plain-user", "user", "42");
  const RunResult as_tool = score(tool, "--plain");
  const RunResult as_user = score(user, "--plain");
  ASSERT_EQ(as_tool.exit_code, 0) << as_tool.out;
  ASSERT_EQ(as_user.exit_code, 0) << as_user.out;
  EXPECT_NE(read_jsonl(tool + ".out")[0]["score"], read_jsonl(user + ".out")[0]["score"]);
}

TEST_F(MessageRoles, ToolCallsReachTheTemplate) {
  const nlohmann::json call = {{{"type", "function"}, {"function", {{"name", "get_weather"}, {"arguments", {{"city", "Paris"}}}}}}};
  auto row = [&](bool with_call) {
    nlohmann::json assistant = {{"role", "assistant"}, {"content", nullptr}};
    if (with_call) assistant["tool_calls"] = call;
    return nlohmann::json{{"id", with_call ? "call" : "none"},
                          {"prompt", {{{"role", "user"}, {"content", "Weather in Paris?"}}, assistant,
                                      {{"role", "tool"}, {"content", "sunny"}}}},
                          {"response", "It is sunny."}}.dump() + "\n";
  };
  const std::string rows = *dir_ + "/tool-calls.jsonl";
  std::ofstream(rows) << row(true) << row(false);
  const RunResult r = score(rows);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(rows + ".out");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0]["score"], lines[1]["score"]) << "the tool call changed nothing the model read";
  // Scored as a turn of its own (--per-turn), the assistant's turn is its call too.
  const RunResult per_turn = score(rows, "--per-turn");
  ASSERT_EQ(per_turn.exit_code, 0) << per_turn.out;
  const auto turn_lines = read_jsonl(rows + ".out");
  ASSERT_EQ(turn_lines.size(), 2u);
  ASSERT_EQ(turn_lines[0]["turns"].size(), 1u) << turn_lines[0].dump();
  EXPECT_NE(turn_lines[0]["turns"][0]["score"], turn_lines[1]["turns"][0]["score"]) << turn_lines[0].dump();
  // A response that is itself a tool call (a message list's last message) is scored with it.
  const std::string responses = *dir_ + "/tool-call-responses.jsonl";
  std::ofstream(responses)
      << nlohmann::json{{"id", "call"}, {"prompt", "Weather in Paris?"},
                        {"response", {{{"role", "assistant"}, {"content", nullptr}, {"tool_calls", call}}}}}.dump() << "\n"
      << nlohmann::json{{"id", "none"}, {"prompt", "Weather in Paris?"},
                        {"response", {{{"role", "assistant"}, {"content", ""}}}}}.dump() << "\n";
  const RunResult calls = score(responses);
  ASSERT_EQ(calls.exit_code, 0) << calls.out;
  const auto call_lines = read_jsonl(responses + ".out");
  ASSERT_EQ(call_lines.size(), 2u);
  EXPECT_NE(call_lines[0]["score"], call_lines[1]["score"]) << "the response's tool call changed nothing";
  // A judge quotes the conversation in its grading prompt: the call is in the quote (one more token, at least).
  auto made = run_arbiter("-q create-model --arch qwen2 --tokenizer " + kShared + "/fixtures/tokenizers/qwen3 --out " +
                          *dir_ + "/quoting-judge");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const RunResult judged = run_arbiter("judge -m " + *dir_ + "/quoting-judge -i " + rows + " -o " + *dir_ + "/quoted.jsonl");
  ASSERT_EQ(judged.exit_code, 0) << judged.out;
  const auto quoted = read_jsonl(*dir_ + "/quoted.jsonl");
  ASSERT_EQ(quoted.size(), 2u);
  EXPECT_NE(quoted[0]["lager"], quoted[1]["lager"]) << "the judge's prompt did not change with the call";
  // So is a response that is a tool call: judged with its call, not as an empty answer.
  const RunResult judged_calls =
      run_arbiter("judge -m " + *dir_ + "/quoting-judge -i " + responses + " -o " + *dir_ + "/quoted-responses.jsonl");
  ASSERT_EQ(judged_calls.exit_code, 0) << judged_calls.out;
  const auto quoted_responses = read_jsonl(*dir_ + "/quoted-responses.jsonl");
  ASSERT_EQ(quoted_responses.size(), 2u);
  EXPECT_NE(quoted_responses[0]["lager"], quoted_responses[1]["lager"]) << "the judge graded the call as an empty answer";
  // The same conversation as chat-template renders it holds the call.
  write_text(*dir_ + "/tool-call-messages.json", nlohmann::json::array({{{"role", "user"}, {"content", "Weather?"}},
      {{"role", "assistant"}, {"content", ""}, {"tool_calls", call}}}).dump());
  const RunResult shown = run_arbiter("chat-template -m " + *dir_ + "/rm --messages " + *dir_ + "/tool-call-messages.json");
  ASSERT_EQ(shown.exit_code, 0) << shown.out;
  EXPECT_NE(shown.out.find("get_weather"), std::string::npos) << shown.out;
}

// OpenAI's content parts ([{"type": "text", "text": ...}, ...]) are read as their text parts joined with
// newlines: the row scores as the same row with that string. Qwen's templates would read a list as no text
// at all. An image part is refused, naming the row and the message.
TEST_F(MessageRoles, ContentPartsAreReadAsTheirText) {
  const nlohmann::json parts = {{{"type", "text"}, {"text", "What is"}}, {{"type", "text"}, {"text", "6 x 7?"}}};
  const std::string rows = *dir_ + "/content-parts.jsonl";
  std::ofstream(rows) << nlohmann::json{{"id", "parts"}, {"prompt", {{{"role", "user"}, {"content", parts}}}},
                                        {"response", {{{"role", "assistant"}, {"content", {{{"type", "text"}, {"text", "42."}}}}}}}}.dump()
                      << "\n"
                      << nlohmann::json{{"id", "string"}, {"prompt", {{{"role", "user"}, {"content", "What is\n6 x 7?"}}}},
                                        {"response", "42."}}.dump()
                      << "\n"
                      << nlohmann::json{{"id", "empty"}, {"prompt", {{{"role", "user"}, {"content", ""}}}},
                                        {"response", "42."}}.dump()
                      << "\n";
  const RunResult r = score(rows);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(rows + ".out");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["score"], lines[1]["score"]);
  EXPECT_NE(lines[0]["score"], lines[2]["score"]) << "the parts' text never reached the model";

  const std::string images = *dir_ + "/image-parts.jsonl";
  std::ofstream(images) << nlohmann::json{{"id", "img"}, {"prompt", {{{"role", "system"}, {"content", "Be brief."}},
                                          {{"role", "user"}, {"content", {{{"type", "image_url"}, {"image_url", {{"url", "a.png"}}}}}}}}},
                                          {"response", "A cat."}}.dump()
                        << "\n";
  const RunResult refused = score(images);
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE(refused.out.find("image-parts.jsonl:1"), std::string::npos) << refused.out;
  EXPECT_NE(refused.out.find("field 'prompt', message 1: content part 0 is of type 'image_url'"), std::string::npos)
      << refused.out;
}

TEST_F(MessageRoles, AMessageWhoseContentTheTemplateRewritesIsRendered) {
  // Llama 3.1 writes a tool's output with tojson: quotes and newlines escaped, not the text as given.
  write_text(*dir_ + "/tojson.jinja",
             "{% for m in messages %}{% if m.role == 'tool' %}<tool>{{ m.content | tojson }}</tool>"
             "{% else %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endif %}{% endfor %}");
  const std::string rows = row_file("rewritten", "tool", "line one\n\"quoted\" line two");
  const RunResult r = score(rows, "--chat-template " + *dir_ + "/tojson.jinja");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(read_jsonl(rows + ".out").size(), 1u);
}

TEST_F(MessageRoles, ASystemPromptTheTemplateDropsIsNamed) {
  // A template that renders user and assistant turns only: a judge's system prompt would vanish.
  write_text(*dir_ + "/no-system.jinja",
             "{% for m in messages %}{% if m.role != 'system' %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
             "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}");
  auto made = run_arbiter("-q create-model --arch qwen2 --tokenizer " + kShared + "/fixtures/tokenizers/qwen3 --out " +
                          *dir_ + "/judge");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const std::string rows = *dir_ + "/judge-rows.jsonl";
  std::ofstream(rows) << R"({"id": "a", "prompt": "Say hi.", "response": "Hi!"})" "\n";
  write_text(*dir_ + "/system.txt", "You are a fair judge.");
  const RunResult r = run_arbiter("judge -q -m " + *dir_ + "/judge -i " + rows + " -o " + *dir_ +
                                  "/judged.jsonl --chat-template " + *dir_ + "/no-system.jinja --system-prompt-file " +
                                  *dir_ + "/system.txt");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("--system-prompt: the chat template leaves a system message out of the conversation"),
            std::string::npos)
      << r.out;
  // A setting's error, found before any row: no output is begun, even where rows' errors are skipped.
  const RunResult skipping = run_arbiter("judge -q -m " + *dir_ + "/judge -i " + rows + " -o " + *dir_ +
                                         "/judged-skip.jsonl --on-error skip --chat-template " + *dir_ +
                                         "/no-system.jinja --system-prompt-file " + *dir_ + "/system.txt");
  EXPECT_NE(skipping.exit_code, 0) << skipping.out;
  EXPECT_FALSE(std::filesystem::exists(*dir_ + "/judged-skip.jsonl"));
  // A template that refuses a system message outright (Gemma's raises) is found as early.
  write_text(*dir_ + "/raises.jinja",
             "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
             "<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>"
             "assistant\n{% endif %}");
  const RunResult raising = run_arbiter("judge -q -m " + *dir_ + "/judge -i " + rows + " -o " + *dir_ +
                                        "/judged-raise.jsonl --on-error skip --chat-template " + *dir_ +
                                        "/raises.jinja --system-prompt-file " + *dir_ + "/system.txt");
  EXPECT_NE(raising.exit_code, 0) << raising.out;
  EXPECT_NE(raising.out.find("--system-prompt: the chat template refuses a system message"), std::string::npos)
      << raising.out;
  EXPECT_NE(raising.out.find("System role not supported"), std::string::npos) << raising.out;
  EXPECT_FALSE(std::filesystem::exists(*dir_ + "/judged-raise.jsonl"));
}

}  // namespace
}  // namespace arbiter
