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
    EXPECT_NE(r.out.find("rows.jsonl:3: id 'a' is the id of row 1 too"), std::string::npos) << r.out;
    // Nothing is left as if it were the run's output.
    EXPECT_LT(read_jsonl(out).size(), 3u) << extra;
  }
  // A row without an id is known by its index: one whose own id is another row's index is the same clash.
  write_text(dir + "/index.jsonl", R"({"prompt":"a","response":"x"})" "\n" R"({"id":"0","prompt":"b","response":"y"})" "\n");
  const RunResult index = run_arbiter("score -q -t 1 -m " + kRowIdsModel + " -i " + dir + "/index.jsonl -o " + dir + "/index.scored.jsonl");
  EXPECT_NE(index.exit_code, 0);
  EXPECT_NE(index.out.find("index.jsonl:2: id '0' is the id of row 1 too"), std::string::npos) << index.out;
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

}  // namespace
}  // namespace arbiter
