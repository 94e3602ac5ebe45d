// How scoring runs know their rows: every output line is known by its row's id, so two rows of one id are
// refused before anything is scored (a resumed run would skip the second as done), ids past 2^63 are
// written as they were, and a chat row ({"messages": [...]}) is scored in its conversation's context.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;
using nlohmann::json;

const std::string kRowIdsModel = kShared + "/fixtures/hf/qwen2-seqcls1";

TEST(RowIds, AnIdTwoRowsShareIsRefusedNamingBoth) {
  const std::string dir = temp_dir("row-ids-twice");
  write_text(dir + "/rows.jsonl", R"({"id":"a","prompt":"a","response":"x"})" "\n" R"({"id":"b","prompt":"b","response":"y"})" "\n"
                                  R"({"id":"a","prompt":"c","response":"z"})" "\n");
  for (const std::string extra : {"", " --on-error skip"}) {
    const std::string out = dir + "/scored.jsonl";
    const RunResult r = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/rows.jsonl -o " + out + extra);
    EXPECT_NE(r.exit_code, 0) << extra;
    EXPECT_NE(r.out.find("rows.jsonl:3 (row 2): id 'a' is the id of row 0 too"), std::string::npos) << r.out;
    // Nothing is left as if it were the run's output.
    EXPECT_LT(read_jsonl(out).size(), 3u) << extra;
  }
  // A row without an id is known by its index: one whose own id is another row's index is the same clash.
  write_text(dir + "/index.jsonl", R"({"prompt":"a","response":"x"})" "\n" R"({"id":"0","prompt":"b","response":"y"})" "\n");
  const RunResult index = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/index.jsonl -o " + dir + "/index.scored.jsonl");
  EXPECT_NE(index.exit_code, 0);
  EXPECT_NE(index.out.find("index.jsonl:2 (row 1): id '0' is the id of row 0 too"), std::string::npos) << index.out;
}

// The ids are read before any row runs: a clash near the end of a long dataset stops the run before the
// rows before it are scored, and no output is begun.
TEST(RowIds, AClashIsFoundBeforeAnyRowRuns) {
  const std::string dir = temp_dir("row-ids-early");
  std::string rows;
  for (int i = 0; i < 2000; ++i) rows += R"({"id": "r)" + std::to_string(i) + R"(", "prompt": "p", "response": "x"})" "\n";
  rows += R"({"id": "r7", "prompt": "p", "response": "y"})" "\n";
  write_text(dir + "/late.jsonl", rows);
  const RunResult r = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/late.jsonl -o " + dir + "/late.out.jsonl");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("late.jsonl:2001 (row 2000): id 'r7' is the id of row 7 too"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/late.out.jsonl"));
}

// A row that cannot be read is known by its index (its error line carries it): another row whose own id
// spells that index, before or after it, is the same clash, refused with --on-error skip too (a resume
// would take the error line for that row's, and leave the row unscored).
TEST(RowIds, AnUnreadableRowsIndexIsAnIdNoOtherRowMayHave) {
  const std::string dir = temp_dir("row-ids-unreadable");
  write_text(dir + "/after.jsonl", R"({"id":5,"prompt":"a","response":"b"})" "\n" R"({"id":7,"prompt":"a",)" "\n"
                                   R"({"id":1,"prompt":"a","response":"c"})" "\n");
  write_text(dir + "/before.jsonl", R"({"id":1,"prompt":"a","response":"b"})" "\n" R"({"id":7,"prompt":"a",)" "\n");
  write_text(dir + "/float.jsonl", R"({"id":0.5,"prompt":"a","response":"b"})" "\n" R"({"id":0,"prompt":"a","response":"c"})" "\n");
  const struct {
    std::string file, message;
  } cases[] = {
      {"after.jsonl", "after.jsonl:3 (row 2): id '1' is the id of row 1 (which could not be read, and is known by its index) too"},
      {"before.jsonl", "before.jsonl:2: malformed JSON"},
      {"float.jsonl", "float.jsonl:2 (row 1): id '0' is the id of row 0 (which could not be read, and is known by its index) too"},
  };
  for (const auto& c : cases) {
    const RunResult r = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/" + c.file + " -o " + dir + "/" +
                                    c.file + ".out --on-error skip");
    EXPECT_NE(r.exit_code, 0) << c.file;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << r.out;
  }
  const RunResult before = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/before.jsonl -o " + dir +
                                       "/before.out2 --on-error skip");
  EXPECT_NE(before.out.find("unread, the row is known by its index 1, which is the id of row 0 too"), std::string::npos)
      << before.out;
}

// An id is a string or an integer: a float or a boolean is refused, naming the row, not written as some
// spelling of itself.
TEST(RowIds, AnIdIsAStringOrAnInteger) {
  const std::string dir = temp_dir("row-ids-kinds");
  write_text(dir + "/rows.jsonl", R"({"id":1.5,"prompt":"a","response":"x"})" "\n" R"({"id":true,"prompt":"b","response":"y"})" "\n"
                                  R"({"id":null,"prompt":"c","response":"z"})" "\n");
  const RunResult r = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/rows.jsonl -o " + dir +
                                  "/scored.jsonl --on-error skip");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(dir + "/scored.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].value("error", "").find("rows.jsonl:1: field 'id' is number (not an integer): an id is a string or an integer"),
            std::string::npos) << lines[0];
  EXPECT_NE(lines[1].value("error", "").find("rows.jsonl:2: field 'id' is boolean"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[2]["id"], "2");  // a null id: the row's index, as a row without one
  EXPECT_TRUE(lines[2].contains("score"));
}

// A 64-bit hash as an id (past 2^63) is an unsigned integer: read as signed it would become another,
// negative id (2^64 - 1 would be -1, which may be another row's).
TEST(RowIds, IdsPastTwoToTheSixtyThreeAreWrittenAsTheyWere) {
  const std::string dir = temp_dir("row-ids-wide");
  write_text(dir + "/rows.jsonl", R"({"id":18446744073709551615,"prompt":"a","response":"x"})" "\n"
                                  R"({"id":-1,"prompt":"b","response":"y"})" "\n"
                                  R"({"id":12345678901234567890,"prompt":"c","response":"z"})" "\n");
  const RunResult r = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/rows.jsonl -o " + dir + "/scored.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(dir + "/scored.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["id"], "18446744073709551615");
  EXPECT_EQ(lines[1]["id"], "-1");
  EXPECT_EQ(lines[2]["id"], "12345678901234567890");
}

// {"messages": [user, assistant]} is the prompt "user" and the response "assistant": the same score as the
// row written with prompt and response fields, not the last message read without its context. A response
// field holding a whole conversation reads the same way when no prompt is given beside it.
TEST(RowIds, AChatRowIsScoredInItsConversation) {
  const std::string dir = temp_dir("row-ids-messages");
  const json messages = json::array({{{"role", "system"}, {"content", "Be brief."}},
                                     {{"role", "user"}, {"content", "What is the capital of France?"}},
                                     {{"role", "assistant"}, {"content", "Paris."}}});
  write_text(dir + "/chat.jsonl", json{{"messages", messages}}.dump() + "\n");
  write_text(dir + "/conversation.jsonl", json{{"id", "as-response"}, {"conversation", messages}}.dump() + "\n");
  write_text(dir + "/split.jsonl",
             json{{"prompt", json::array({messages[0], messages[1]})}, {"response", "Paris."}}.dump() + "\n" +
                 json{{"prompt", json::array()}, {"response", "Paris."}}.dump() + "\n");
  const RunResult chat = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/chat.jsonl -o " + dir + "/chat.scored.jsonl");
  ASSERT_EQ(chat.exit_code, 0) << chat.out;
  const RunResult split = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/split.jsonl -o " + dir + "/split.scored.jsonl");
  ASSERT_EQ(split.exit_code, 0) << split.out;
  const auto chat_lines = read_jsonl(dir + "/chat.scored.jsonl");
  const auto split_lines = read_jsonl(dir + "/split.scored.jsonl");
  ASSERT_EQ(chat_lines.size(), 1u);
  ASSERT_EQ(split_lines.size(), 2u);
  EXPECT_EQ(chat_lines[0]["score"], split_lines[0]["score"]);
  EXPECT_NE(chat_lines[0]["score"], split_lines[1]["score"]);  // context changes the score

  const RunResult mapped = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/conversation.jsonl -o " + dir +
                                       "/mapped.scored.jsonl --schema generic --field response=conversation");
  ASSERT_EQ(mapped.exit_code, 0) << mapped.out;
  const auto mapped_lines = read_jsonl(dir + "/mapped.scored.jsonl");
  ASSERT_EQ(mapped_lines.size(), 1u);
  EXPECT_EQ(mapped_lines[0]["score"], split_lines[0]["score"]);
}

// A dataset whose id is shared by rows (a prompt's id on each of its samples) is read row by row with
// --field id= (nothing after '='): each row known by its index.
TEST(RowIds, SharedIdsAreReadRowByRowWithAnEmptyIdField) {
  const std::string dir = temp_dir("row-ids-flat");
  write_text(dir + "/flat.jsonl", R"({"id":"p1","prompt":"q","response":"a"})" "\n" R"({"id":"p1","prompt":"q","response":"b"})" "\n");
  const RunResult refused = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/flat.jsonl -o " + dir + "/flat.out.jsonl");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.out.find("key rows by their index with --field id= (nothing after '=')"), std::string::npos) << refused.out;
  const RunResult by_index = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/flat.jsonl -o " + dir +
                                         "/flat.out.jsonl --field id=");
  ASSERT_EQ(by_index.exit_code, 0) << by_index.out;
  const auto lines = read_jsonl(dir + "/flat.out.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["id"], "0");
  EXPECT_EQ(lines[1]["id"], "1");
  // A row without an id whose index is another row's id: the message says it has none.
  write_text(dir + "/mixed.jsonl", R"({"id":"1","prompt":"q","response":"a"})" "\n" R"({"prompt":"q","response":"b"})" "\n");
  const RunResult mixed = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/mixed.jsonl -o " + dir + "/mixed.out.jsonl");
  EXPECT_NE(mixed.exit_code, 0);
  EXPECT_NE(mixed.out.find("mixed.jsonl:2 (row 1): id '1' (this row has no id: it is known by its index) is the id of row 0 too"),
            std::string::npos) << mixed.out;
}

// A line that is not JSON is a row all the same: with --on-error skip its error line and the next row
// are known by different indices.
TEST(RowIds, AnUnreadableLineKeepsItsIndex) {
  const std::string dir = temp_dir("row-ids-broken");
  write_text(dir + "/rows.jsonl", R"({"prompt":"a","response":"b"})" "\n" R"({"prompt":"a",)" "\n" R"({"prompt":"a","response":"c"})" "\n");
  const RunResult r = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/rows.jsonl -o " + dir +
                                  "/out.jsonl --on-error skip");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(dir + "/out.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["id"], "0");
  EXPECT_EQ(lines[1]["id"], "1");
  EXPECT_TRUE(lines[1].contains("error"));
  EXPECT_EQ(lines[2]["id"], "2");
}

// A FIFO is read once, by the reader: the progress count does not drain it first, whatever its name.
TEST(RowIds, AFifoNamedJsonlIsReadWhole) {
  const std::string dir = temp_dir("row-ids-fifo");
  write_text(dir + "/source.jsonl", R"({"prompt":"a","response":"b"})" "\n" R"({"prompt":"c","response":"d"})" "\n");
  const std::string fifo = dir + "/rows.jsonl";
  std::filesystem::remove(fifo);
  ASSERT_EQ(std::system(("mkfifo " + fifo).c_str()), 0);
  ASSERT_EQ(std::system(("cat " + dir + "/source.jsonl > " + fifo + " &").c_str()), 0);
  const RunResult r = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + fifo + " -o " + dir + "/out.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(read_jsonl(dir + "/out.jsonl").size(), 2u);
}

// ultrachat's layout: `prompt` is the conversation's opening user message and `messages` the whole of
// it. The response is read after every earlier turn, not after the opening alone; a prompt that is
// neither those turns nor their opening is a second prompt, refused.
TEST(RowIds, AConversationBesideItsOpeningPromptIsReadWhole) {
  const std::string dir = temp_dir("row-ids-ultrachat");
  const json messages = json::array({{{"role", "user"}, {"content", "hi there"}}, {{"role", "assistant"}, {"content", "hello you"}},
                                     {{"role", "user"}, {"content", "more"}}, {{"role", "assistant"}, {"content", "ok"}}});
  write_text(dir + "/uc.jsonl", json{{"prompt", "hi there"}, {"messages", messages}}.dump() + "\n" +
                                    json{{"prompt", json::array({messages[0], messages[1], messages[2]})}, {"response", "ok"}}.dump() + "\n");
  const RunResult r = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/uc.jsonl -o " + dir + "/uc.out.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(dir + "/uc.out.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["score"], lines[1]["score"]);
  write_text(dir + "/other.jsonl", json{{"prompt", "something else"}, {"messages", messages}}.dump() + "\n");
  const RunResult other = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/other.jsonl -o " + dir + "/other.out.jsonl");
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.out.find("field 'prompt' and the messages before the last of field 'messages' are two different prompts"),
            std::string::npos) << other.out;
  // A last turn with no content and no tool calls has no response; `messages` that is no list is no
  // conversation.
  write_text(dir + "/odd.jsonl", json{{"messages", json::array({messages[0], {{"role", "assistant"}, {"content", nullptr}}})}}.dump() +
                                     "\n" + json{{"messages", "hi there"}}.dump() + "\n");
  const RunResult odd = run_arbiter("score -t 1 -m " + kRowIdsModel + " -i " + dir + "/odd.jsonl -o " + dir +
                                    "/odd.out.jsonl --on-error skip");
  ASSERT_EQ(odd.exit_code, 0) << odd.out;
  EXPECT_NE(odd.out.find("the last message's content is null and it calls no tools"), std::string::npos) << odd.out;
  EXPECT_NE(odd.out.find("field 'messages' is string, expected a list of messages"), std::string::npos) << odd.out;
}

}  // namespace
}  // namespace arbiter
