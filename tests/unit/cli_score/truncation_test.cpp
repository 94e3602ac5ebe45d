// --max-length truncation, as `score` applies and reports it: prompt-left drops the oldest prompt tokens
// (and a response longer than the limit by itself loses its end), right keeps the beginning, error refuses
// the row. Each cut row is scored as the token sequence the policy leaves (checked by scoring that sequence
// as an input_ids row), and says in its line how many tokens went and whether a response lost its end.
#include <gtest/gtest.h>

#include <fstream>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;
using nlohmann::json;

constexpr int kMaxLength = 40;

json user_turn(const std::string& content) { return json::array({{{"role", "user"}, {"content", content}}}); }

std::string words(int count) {
  std::string text;
  for (int k = 0; k < count; ++k) text += (k ? " " : "") + std::string("word") + std::to_string(k);
  return text;
}

// The chat template's token ids for `messages` (with the assistant's opening when `generation_prompt`).
std::vector<int32_t> template_ids(const std::string& dir, const std::string& model, const json& messages,
                                  bool generation_prompt) {
  const std::string path = dir + "/messages.json";
  write_text(path, messages.dump());
  auto r = run_arbiter("chat-template -m " + model + " --messages " + path + " --ids" +
                       (generation_prompt ? " --add-generation-prompt" : ""));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  if (r.exit_code != 0) return {};
  return json::parse(r.out)["ids"].get<std::vector<int32_t>>();
}

json conversation(const json& prompt, const std::string& response) {
  json messages = prompt;
  messages.push_back({{"role", "assistant"}, {"content", response}});
  return messages;
}

class Truncation : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("truncation");
    model_ = dir_ + "/rm";
    auto made = run_arbiter("-q create-model --arch qwen2 --head seqcls --tokenizer " + kShared +
                            "/fixtures/tokenizers/qwen3 --out " + model_);
    ASSERT_EQ(made.exit_code, 0) << made.out;
    std::ofstream rows(dir_ + "/rows.jsonl");
    rows << json{{"id", "short"}, {"prompt", "Hi"}, {"response", "Hello."}}.dump() << "\n";
    rows << json{{"id", "long-prompt"}, {"prompt", words(40)}, {"response", "Short answer."}}.dump() << "\n";
    rows << json{{"id", "long-response"}, {"prompt", "Count."}, {"response", words(40)}}.dump() << "\n";
  }

  // The scores of `token_rows` given as input_ids rows (under the model's own limit, far above them).
  std::vector<json> scores_of(const std::vector<std::vector<int32_t>>& token_rows, const std::string& model = "") {
    std::ofstream rows(dir_ + "/ids.jsonl");
    for (size_t k = 0; k < token_rows.size(); ++k)
      rows << json{{"id", "ids" + std::to_string(k)}, {"input_ids", token_rows[k]}}.dump() << "\n";
    rows.close();
    auto r = run_arbiter("-q score -m " + (model.empty() ? model_ : model) + " -i " + dir_ + "/ids.jsonl -o " + dir_ +
                         "/ids.out.jsonl");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::vector<json> scores;
    for (const json& line : read_jsonl(dir_ + "/ids.out.jsonl")) scores.push_back(line["score"]);
    return scores;
  }

  std::string dir_, model_;
};

TEST_F(Truncation, PromptLeftDropsThePromptsStartThenTheResponsesEnd) {
  auto r = run_arbiter("score -m " + model_ + " -i " + dir_ + "/rows.jsonl -o " + dir_ + "/out.jsonl --max-length " +
                       std::to_string(kMaxLength));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("2 rows were longer than the length limit"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("in 1 of them a response's own end went"), std::string::npos) << r.out;
  const auto lines = read_jsonl(dir_ + "/out.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_FALSE(lines[0].contains("truncated_tokens")) << lines[0].dump();
  EXPECT_FALSE(lines[0].contains("response_end_cut")) << lines[0].dump();

  // A long prompt: its oldest tokens go (Qwen has no BOS to keep), the response stays whole.
  const std::vector<int32_t> long_prompt =
      template_ids(dir_, model_, conversation(user_turn(words(40)), "Short answer."), false);
  ASSERT_GT(long_prompt.size(), size_t(kMaxLength));
  const int64_t prompt_excess = int64_t(long_prompt.size()) - kMaxLength;
  EXPECT_EQ(lines[1].value("truncated_tokens", int64_t(-1)), prompt_excess) << lines[1].dump();
  EXPECT_FALSE(lines[1].contains("response_end_cut")) << lines[1].dump();

  // A response longer than the limit alone: the prompt goes whole, then the response's end.
  const std::vector<int32_t> long_response = template_ids(dir_, model_, conversation(user_turn("Count."), words(40)), false);
  const std::vector<int32_t> prompt_part = template_ids(dir_, model_, user_turn("Count."), true);
  ASSERT_TRUE(std::equal(prompt_part.begin(), prompt_part.end(), long_response.begin()));
  const std::vector<int32_t> response_part(long_response.begin() + long(prompt_part.size()), long_response.end());
  ASSERT_GT(response_part.size(), size_t(kMaxLength));
  EXPECT_EQ(lines[2].value("truncated_tokens", int64_t(-1)), int64_t(long_response.size()) - kMaxLength) << lines[2].dump();
  EXPECT_EQ(lines[2].value("response_end_cut", false), true) << lines[2].dump();

  const auto expected = scores_of({std::vector<int32_t>(long_prompt.begin() + prompt_excess, long_prompt.end()),
                                   std::vector<int32_t>(response_part.begin(), response_part.begin() + kMaxLength)});
  ASSERT_EQ(expected.size(), 2u);
  EXPECT_EQ(lines[1]["score"], expected[0]);
  EXPECT_EQ(lines[2]["score"], expected[1]);
}

TEST_F(Truncation, RightKeepsTheBeginning) {
  auto r = run_arbiter("-q score -m " + model_ + " -i " + dir_ + "/rows.jsonl -o " + dir_ + "/right.jsonl --max-length " +
                       std::to_string(kMaxLength) + " --truncation right");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(dir_ + "/right.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  const std::vector<int32_t> long_prompt =
      template_ids(dir_, model_, conversation(user_turn(words(40)), "Short answer."), false);
  EXPECT_EQ(lines[1].value("truncated_tokens", int64_t(-1)), int64_t(long_prompt.size()) - kMaxLength) << lines[1].dump();
  EXPECT_EQ(lines[1].value("response_end_cut", false), true) << lines[1].dump();
  const auto expected = scores_of({std::vector<int32_t>(long_prompt.begin(), long_prompt.begin() + kMaxLength)});
  ASSERT_EQ(expected.size(), 1u);
  EXPECT_EQ(lines[1]["score"], expected[0]);
}

TEST_F(Truncation, ErrorRefusesTheRowByName) {
  auto r = run_arbiter("score -m " + model_ + " -i " + dir_ + "/rows.jsonl -o " + dir_ + "/error.jsonl --max-length " +
                       std::to_string(kMaxLength) + " --truncation error --on-error skip");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(dir_ + "/error.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(lines[0].contains("score")) << lines[0].dump();
  for (size_t k : {1u, 2u}) {
    ASSERT_TRUE(lines[k].contains("error")) << lines[k].dump();
    EXPECT_NE(lines[k]["error"].get<std::string>().find("exceeds the maximum length 40"), std::string::npos) << lines[k].dump();
  }
}

// Rows given as token ids are held to the same limit: right drops the end, prompt-left (which cannot tell a
// prompt from a response in ids) keeps a leading BOS and drops the oldest tokens after it, error refuses.
TEST_F(Truncation, TokenIdRowsAreHeldToTheLimit) {
  std::vector<int32_t> ids;
  for (int32_t k = 0; k < 60; ++k) ids.push_back(100 + k);
  write_text(dir_ + "/long-ids.jsonl", json{{"id", "long"}, {"input_ids", ids}}.dump() + "\n");
  const std::string limit = " --max-length " + std::to_string(kMaxLength);
  auto left = run_arbiter("-q score -m " + model_ + " -i " + dir_ + "/long-ids.jsonl -o " + dir_ + "/ids-left.jsonl" + limit);
  ASSERT_EQ(left.exit_code, 0) << left.out;
  auto right = run_arbiter("-q score -m " + model_ + " -i " + dir_ + "/long-ids.jsonl -o " + dir_ + "/ids-right.jsonl" +
                           limit + " --truncation right");
  ASSERT_EQ(right.exit_code, 0) << right.out;
  const auto expected = scores_of({std::vector<int32_t>(ids.end() - kMaxLength, ids.end()),
                                   std::vector<int32_t>(ids.begin(), ids.begin() + kMaxLength)});
  ASSERT_EQ(expected.size(), 2u);
  const json left_line = read_jsonl(dir_ + "/ids-left.jsonl").at(0), right_line = read_jsonl(dir_ + "/ids-right.jsonl").at(0);
  EXPECT_EQ(left_line["score"], expected[0]);
  EXPECT_EQ(left_line["truncated_tokens"], 20);
  EXPECT_FALSE(left_line.contains("response_end_cut")) << left_line.dump();
  EXPECT_EQ(right_line["score"], expected[1]);
  EXPECT_EQ(right_line["truncated_tokens"], 20);
  EXPECT_EQ(right_line["response_end_cut"], true);

  auto refused = run_arbiter("score -m " + model_ + " -i " + dir_ + "/long-ids.jsonl -o " + dir_ + "/ids-error.jsonl" +
                             limit + " --truncation error");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.out.find("(row long): input_ids of 60 tokens, more than the maximum length 40"), std::string::npos)
      << refused.out;

  // A leading BOS stays (Llama's tokenizer has one, id 1).
  const std::string llama = kShared + "/fixtures/hf/llama-seqcls1";
  std::vector<int32_t> with_bos = {1};
  with_bos.insert(with_bos.end(), ids.begin(), ids.end());
  write_text(dir_ + "/bos-ids.jsonl", json{{"id", "bos"}, {"input_ids", with_bos}}.dump() + "\n");
  auto bos = run_arbiter("-q score -m " + llama + " -i " + dir_ + "/bos-ids.jsonl -o " + dir_ + "/bos-left.jsonl" + limit);
  ASSERT_EQ(bos.exit_code, 0) << bos.out;
  std::vector<int32_t> kept = {1};
  kept.insert(kept.end(), ids.end() - (kMaxLength - 1), ids.end());
  const auto bos_expected = scores_of({kept}, llama);
  ASSERT_EQ(bos_expected.size(), 1u);
  const json bos_line = read_jsonl(dir_ + "/bos-left.jsonl").at(0);
  EXPECT_EQ(bos_line["score"], bos_expected[0]);
  EXPECT_EQ(bos_line["truncated_tokens"], 21);
}

// A template whose generation prompt is not how it writes an assistant turn (DeepSeek-R1's "<think>\n")
// cannot tell prompt from response; prompt-left then keeps the last tokens, and the leading BOS with them.
TEST_F(Truncation, PromptLeftKeepsTheBosWhereTheTemplateHidesThePrompt) {
  const std::string model = dir_ + "/rm-llama3";
  auto made = run_arbiter("-q create-model --arch llama --head seqcls --tokenizer " + kShared +
                          "/fixtures/tokenizers/llama3 --out " + model);
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const std::string tmpl = dir_ + "/think.jinja";
  write_text(tmpl,
             "{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}[U]{{ m.content }}{% else %}[A]{{ m.content }}"
             "[E]{% endif %}{% endfor %}{% if add_generation_prompt %}[A]<think>\n{% endif %}");
  const json messages = conversation(user_turn(words(12)), "Answer is here.");
  write_text(dir_ + "/messages.json", messages.dump());
  auto rendered = run_arbiter("chat-template -m " + model + " --template-file " + tmpl + " --messages " + dir_ +
                              "/messages.json --ids");
  ASSERT_EQ(rendered.exit_code, 0) << rendered.out;
  const auto full = json::parse(rendered.out)["ids"].get<std::vector<int32_t>>();
  ASSERT_EQ(full.at(0), 128000);  // <|begin_of_text|>
  write_text(dir_ + "/think.jsonl",
             json{{"id", "t"}, {"prompt", words(12)}, {"response", "Answer is here."}}.dump() + "\n");
  auto r = run_arbiter("-q score -m " + model + " -i " + dir_ + "/think.jsonl -o " + dir_ + "/think.out.jsonl --chat-template " +
                       tmpl + " --max-length 10");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::vector<int32_t> kept = {128000};
  kept.insert(kept.end(), full.end() - 9, full.end());
  const auto expected = scores_of({kept}, model);
  ASSERT_EQ(expected.size(), 1u);
  const json line = read_jsonl(dir_ + "/think.out.jsonl").at(0);
  EXPECT_EQ(line["score"], expected[0]) << line.dump();
  EXPECT_EQ(line["truncated_tokens"], int64_t(full.size()) - 10);
}

// Without a chat template the pair is laid out as "User: ...\n\nAssistant: ..." and that text is encoded
// whole, as `tokenize` encodes it: a SentencePiece tokenizer's response gets no word-start mark of its own.
TEST_F(Truncation, ThePlainLayoutIsEncodedAsOneText) {
  const std::string llama = kShared + "/fixtures/hf/llama-seqcls1";
  write_text(dir_ + "/plain.jsonl", json{{"id", "p"}, {"prompt", "Hi"}, {"response", "Hello world"}}.dump() + "\n");
  auto r = run_arbiter("-q score -m " + llama + " -i " + dir_ + "/plain.jsonl -o " + dir_ + "/plain.out.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  write_text(dir_ + "/plain.txt", "User: Hi\n\nAssistant: Hello world");
  auto ids = run_arbiter("tokenize -m " + llama + " --special --json --text-file " + dir_ + "/plain.txt");
  ASSERT_EQ(ids.exit_code, 0) << ids.out;
  const auto expected = scores_of({json::parse(ids.out)["ids"].get<std::vector<int32_t>>()}, llama);
  ASSERT_EQ(expected.size(), 1u);
  EXPECT_EQ(read_jsonl(dir_ + "/plain.out.jsonl").at(0)["score"], expected[0]);
}

}  // namespace
}  // namespace arbiter
