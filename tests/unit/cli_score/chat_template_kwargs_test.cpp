// What a judge's prompt is made of beyond its template: --chat-template-kwargs reaches every render of
// the chat template (Qwen3's template writes an empty thinking block after the generation prompt when
// enable_thinking is false, so each judged sequence grows by exactly that block's tokens), and
// --system-prompt adds the system turn the chat template renders for it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

// The token count of a run's summary line ("... N tokens in ...").
long long summary_tokens(const std::string& out) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(R"((\d+) tokens in )"))) return -1;
  return std::stoll(m[1]);
}

TEST(ChatTemplateKwargs, EnableThinkingFalseAddsTheEmptyThinkingBlock) {
  const std::string dir = temp_dir("template-kwargs");
  auto made = run_arbiter("-q create-model --arch qwen2 --tokenizer " + kShared + "/fixtures/tokenizers/qwen3 --out " +
                          dir + "/judge");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const std::string rows = dir + "/rows.jsonl";
  std::ofstream(rows) << R"({"id": "a", "prompt": "Say hi.", "response": "Hi!"})" "\n"
                         R"({"id": "b", "prompt": "Add 2 and 2.", "response": "4"})" "\n"
                         R"({"id": "c", "prompt": "Name a colour.", "response": "Blue."})" "\n";
  auto plain = run_arbiter("judge -m " + dir + "/judge -i " + rows + " -o " + dir + "/plain.jsonl");
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  auto no_thinking = run_arbiter("judge -m " + dir + "/judge -i " + rows + " -o " + dir + "/kwargs.jsonl " +
                                 "--chat-template-kwargs '{\"enable_thinking\": false}'");
  ASSERT_EQ(no_thinking.exit_code, 0) << no_thinking.out;
  std::ofstream(dir + "/block.txt") << "<think>\n\n</think>\n\n";
  auto block = run_arbiter("tokenize -m " + dir + "/judge --special --json --text-file " + dir + "/block.txt");
  ASSERT_EQ(block.exit_code, 0) << block.out;
  const long long block_tokens = nlohmann::json::parse(block.out)["count"].get<long long>();
  EXPECT_EQ(block_tokens, 4);  // <think>, \n\n, </think>, \n\n
  const long long without = summary_tokens(plain.out), with = summary_tokens(no_thinking.out);
  ASSERT_GT(without, 0) << plain.out;
  EXPECT_EQ(with - without, 3 * block_tokens) << "three judged sequences";
}

TEST(JudgeSystemPrompt, AddsTheSystemTurnAsTheTemplateRendersIt) {
  const std::string dir = temp_dir("judge-system");
  auto made = run_arbiter("-q create-model --arch qwen2 --tokenizer " + kShared + "/fixtures/tokenizers/qwen3 --out " +
                          dir + "/judge");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const std::string rows = dir + "/rows.jsonl";
  std::ofstream(rows) << R"({"id": "a", "prompt": "Say hi.", "response": "Hi!"})" "\n"
                         R"({"id": "b", "prompt": "Add 2 and 2.", "response": "4"})" "\n";
  auto plain = run_arbiter("judge -m " + dir + "/judge -i " + rows + " -o " + dir + "/plain.jsonl");
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  std::ofstream(dir + "/system.txt") << "You are a fair judge.";
  auto with_system = run_arbiter("judge -m " + dir + "/judge -i " + rows + " -o " + dir +
                                 "/system.jsonl --system-prompt-file " + dir + "/system.txt");
  ASSERT_EQ(with_system.exit_code, 0) << with_system.out;
  // The same two conversations rendered by `arbiter chat-template`: with and without the system turn.
  std::ofstream(dir + "/user.json") << R"([{"role": "user", "content": "x"}])";
  std::ofstream(dir + "/both.json") << R"([{"role": "system", "content": "You are a fair judge."}, {"role": "user", "content": "x"}])";
  auto user_only = run_arbiter("chat-template -m " + dir + "/judge --messages " + dir + "/user.json --add-generation-prompt --ids");
  auto both = run_arbiter("chat-template -m " + dir + "/judge --messages " + dir + "/both.json --add-generation-prompt --ids");
  ASSERT_EQ(user_only.exit_code, 0) << user_only.out;
  ASSERT_EQ(both.exit_code, 0) << both.out;
  const long long system_tokens = (long long)nlohmann::json::parse(both.out)["ids"].size() -
                                  (long long)nlohmann::json::parse(user_only.out)["ids"].size();
  EXPECT_GT(system_tokens, 6);  // the text's six tokens and the turn's markers
  EXPECT_EQ(summary_tokens(with_system.out) - summary_tokens(plain.out), 2 * system_tokens);

  auto both_given = run_arbiter("judge -m " + dir + "/judge -i " + rows + " -o " + dir +
                                "/x.jsonl --system-prompt a --system-prompt-file " + dir + "/system.txt");
  EXPECT_NE(both_given.exit_code, 0);
}

TEST(ChatTemplateKwargs, NotAnObjectIsAnError) {
  const std::string dir = temp_dir("template-kwargs-bad");
  const std::string rows = dir + "/rows.jsonl";
  std::ofstream(rows) << R"({"id": "a", "prompt": "p", "response": "r"})" "\n";
  for (const std::string bad : {"'[1]'", "'{\"enable_thinking\": '", "'true'"}) {
    auto r = run_arbiter("judge -m " + kShared + "/models/stories260K/stories260K.gguf -i " + rows + " -o " + dir +
                         "/out.jsonl --chat-template-kwargs " + bad);
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.out.find("--chat-template-kwargs: expected a JSON object"), std::string::npos) << r.out;
  }
}

// A model with named templates ("default" and "tool_use", as Hermes 2 Pro and Command R ship them): a
// render given tools uses "tool_use", as transformers picks it, in chat-template, in scoring, and from the
// converted GGUF file.
TEST(NamedChatTemplates, ToolsPickTheToolUseTemplate) {
  const std::string dir = temp_dir("named-templates");
  auto made = run_arbiter("-q create-model --arch qwen2 --head seqcls --tokenizer " + kShared +
                          "/fixtures/tokenizers/qwen3 --out " + dir + "/rm");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  std::ifstream in(dir + "/rm/tokenizer_config.json");
  nlohmann::json config = nlohmann::json::parse(in);
  in.close();
  config["chat_template"] = nlohmann::json::array(
      {{{"name", "default"}, {"template", "DEFAULT{% for m in messages %} {{ m.content }}{% endfor %}"}},
       {{"name", "tool_use"}, {"template", "TOOLUSE {{ tools|length }}{% for m in messages %} {{ m.content }}{% endfor %}"}}});
  write_text(dir + "/rm/tokenizer_config.json", config.dump());
  std::filesystem::remove(dir + "/rm/chat_template.jinja");
  write_text(dir + "/messages.json", R"([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])");
  const std::string tools = R"({"tools": [{"type": "function", "function": {"name": "f"}}]})";
  auto converted = run_arbiter("-q convert " + dir + "/rm -o " + dir + "/rm.gguf --type f32");
  ASSERT_EQ(converted.exit_code, 0) << converted.out;
  for (const std::string& model : {dir + "/rm", dir + "/rm.gguf"}) {
    auto plain = run_arbiter("chat-template -m " + model + " --messages " + dir + "/messages.json");
    ASSERT_EQ(plain.exit_code, 0) << plain.out;
    EXPECT_EQ(plain.out, "DEFAULT hi yo") << model;
    auto with_tools = run_arbiter("chat-template -m " + model + " --messages " + dir + "/messages.json --context '" + tools + "'");
    ASSERT_EQ(with_tools.exit_code, 0) << with_tools.out;
    EXPECT_EQ(with_tools.out, "TOOLUSE 1 hi yo") << model;
  }
  // Scoring with the tools among the template's variables reads the tool_use rendering.
  write_text(dir + "/rows.jsonl", R"({"id": "r", "prompt": "hi", "response": "yo"})" "\n");
  write_text(dir + "/tool.txt", "TOOLUSE 1 hi yo");
  auto ids = run_arbiter("tokenize -m " + dir + "/rm --parse-special --json --text-file " + dir + "/tool.txt");
  ASSERT_EQ(ids.exit_code, 0) << ids.out;
  write_text(dir + "/ids.jsonl",
             nlohmann::json{{"id", "r"}, {"input_ids", nlohmann::json::parse(ids.out)["ids"]}}.dump() + "\n");
  auto scored = run_arbiter("-q score -m " + dir + "/rm -i " + dir + "/rows.jsonl -o " + dir + "/tools.jsonl " +
                            "--chat-template-kwargs '" + tools + "'");
  ASSERT_EQ(scored.exit_code, 0) << scored.out;
  auto by_ids = run_arbiter("-q score -m " + dir + "/rm -i " + dir + "/ids.jsonl -o " + dir + "/ids.out.jsonl");
  ASSERT_EQ(by_ids.exit_code, 0) << by_ids.out;
  EXPECT_EQ(read_jsonl(dir + "/tools.jsonl").at(0)["score"], read_jsonl(dir + "/ids.out.jsonl").at(0)["score"]);

  // chat_template.jinja replaces the config's entry whole, its tool_use too; a named template saved as a
  // file of its own (additional_chat_templates/tool_use.jinja) is read beside it, and converted.
  write_text(dir + "/rm/chat_template.jinja", "FILE{% for m in messages %} {{ m.content }}{% endfor %}");
  auto file_only = run_arbiter("chat-template -m " + dir + "/rm --messages " + dir + "/messages.json --context '" + tools + "'");
  ASSERT_EQ(file_only.exit_code, 0) << file_only.out;
  EXPECT_EQ(file_only.out, "FILE hi yo");
  std::filesystem::create_directories(dir + "/rm/additional_chat_templates");
  write_text(dir + "/rm/additional_chat_templates/tool_use.jinja", "NAMEDFILE{% for m in messages %} {{ m.content }}{% endfor %}");
  auto reconverted = run_arbiter("-q convert " + dir + "/rm -o " + dir + "/rm2.gguf --type f32");
  ASSERT_EQ(reconverted.exit_code, 0) << reconverted.out;
  for (const std::string& model : {dir + "/rm", dir + "/rm2.gguf"}) {
    auto named = run_arbiter("chat-template -m " + model + " --messages " + dir + "/messages.json --context '" + tools + "'");
    ASSERT_EQ(named.exit_code, 0) << named.out;
    EXPECT_EQ(named.out, "NAMEDFILE hi yo") << model;
    auto plain = run_arbiter("chat-template -m " + model + " --messages " + dir + "/messages.json");
    EXPECT_EQ(plain.out, "FILE hi yo") << model;
  }
}

}  // namespace
}  // namespace arbiter
