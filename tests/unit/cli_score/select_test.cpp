// `arbiter select` without a model: how many rows a percentage keeps, that kept lines are written as they
// were, and how --data's rows are found for the scored lines (by id, by the field the scoring run took ids
// from, or by position).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;
using nlohmann::json;

std::vector<std::string> lines_of(const std::string& path) {
  std::istringstream in(read_text(path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class Select : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_dir("select"); }
  RunResult select(const std::string& options) { return run_arbiter("select -q " + options + " -o " + dir_ + "/out.jsonl"); }
  std::string dir_;
};

// P% of N rows is ceil(P * N / 100) exactly: in floating point 7 / 100 * 100 is 7.000000000000001, which
// rounds up to 8. Checked against integer arithmetic for every whole percentage of 1 to 200 rows.
TEST_F(Select, APercentageKeepsExactlyItsShareRoundedUp) {
  for (int n : {7, 25, 50, 100, 150, 200}) {
    const std::string scored = dir_ + "/n" + std::to_string(n) + ".jsonl";
    {
      std::ofstream out(scored);
      for (int i = 0; i < n; ++i) out << json{{"id", i}, {"score", i}}.dump() << "\n";
    }
    for (int p = 1; p <= 100; ++p) {
      const RunResult r = select("-i " + scored + " --by score --top " + std::to_string(p) + "%");
      ASSERT_EQ(r.exit_code, 0) << r.out;
      const size_t expected = size_t((p * n + 99) / 100);
      ASSERT_EQ(lines_of(dir_ + "/out.jsonl").size(), expected) << p << "% of " << n;
    }
  }
  const std::string scored = dir_ + "/n1000.jsonl";
  {
    std::ofstream out(scored);
    for (int i = 0; i < 1000; ++i) out << json{{"id", i}, {"score", i}}.dump() << "\n";
  }
  const RunResult fraction = select("-i " + scored + " --by score --top 0.15%");
  ASSERT_EQ(fraction.exit_code, 0) << fraction.out;
  EXPECT_EQ(lines_of(dir_ + "/out.jsonl").size(), 2u);  // 1.5 rows, rounded up
  for (const std::string bad : {"0%", "101%", "5x%", "10%%", "%", ".5.%", "1e1%", "-3%"}) {
    const RunResult r = select("-i " + scored + " --by score --top " + bad);
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.out.find("--top must be a positive count or a percentage in (0, 100]"), std::string::npos) << r.out;
  }
}

// The kept lines are the input's lines byte for byte: key order, number spellings, escapes and integers
// past 64 bits as they were written (a parse and dump would sort, re-spell and round them).
TEST_F(Select, KeptLinesAreWrittenAsTheyWere) {
  const std::string scored = dir_ + "/spelled.jsonl";
  const std::string kept_line = R"({"zeta":1,"id":"a","score":1.50,"t":"caf\u00e9 \/ x","big":12345678901234567890123,"f":1e5})";
  write_text(scored, kept_line + "\r\n" + R"({"id":"b","score":0.5})" + "\n");
  const RunResult r = select("-i " + scored + " --by score --top 1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(read_text(dir_ + "/out.jsonl"), kept_line + "\n");

  // --data's rows too, by id.
  const std::string data = dir_ + "/data.jsonl";
  const std::string data_line = R"({"prompt":"p","response":"r","id":"a","uid":18446744073709551617})";
  write_text(data, "\xEF\xBB\xBF" + data_line + "\n" + R"({"prompt":"p2","response":"r2","id":"b"})" + "\n");
  const RunResult by_id = select("-i " + scored + " --by score --top 1 --data " + data);
  ASSERT_EQ(by_id.exit_code, 0) << by_id.out;
  EXPECT_EQ(read_text(dir_ + "/out.jsonl"), data_line + "\n");
}

// A scoring run that took its ids from another field (--field id=uid) wrote them as "id": select --data
// finds the dataset's rows by that field when told (--field id=uid), and without it names the way out
// instead of writing the dataset's first rows.
TEST_F(Select, DataRowsAreFoundByTheFieldTheScoringRunTookIdsFrom) {
  const std::string data = dir_ + "/uid.jsonl";
  {
    std::ofstream out(data);
    for (int i = 0; i < 6; ++i) out << json{{"uid", "u" + std::to_string(i)}, {"prompt", "prompt " + std::to_string(i)}}.dump() << "\n";
  }
  const std::string scored = dir_ + "/uid.scored.jsonl";
  write_text(scored, R"({"id":"u1","score":1})" "\n" R"({"id":"u3","score":3})" "\n" R"({"id":"u5","score":2})" "\n");
  const RunResult named = select("-i " + scored + " --by score --top 2 --data " + data + " --field id=uid");
  ASSERT_EQ(named.exit_code, 0) << named.out;
  const std::vector<std::string> data_lines = lines_of(data);
  EXPECT_EQ(lines_of(dir_ + "/out.jsonl"), (std::vector<std::string>{data_lines[3], data_lines[5]}));

  const RunResult unnamed = select("-i " + scored + " --by score --top 2 --data " + data);
  EXPECT_NE(unnamed.exit_code, 0);
  EXPECT_NE(unnamed.out.find("uid.jsonl: no row with id u3"), std::string::npos) << unnamed.out;
  EXPECT_NE(unnamed.out.find("name it with --field id=NAME"), std::string::npos) << unnamed.out;

  const RunResult other_field = select("-i " + scored + " --by score --top 2 --data " + data + " --field prompt=uid");
  EXPECT_NE(other_field.exit_code, 0);
  EXPECT_NE(other_field.out.find("select reads only id=NAME"), std::string::npos) << other_field.out;
}

// The scoring run's record names the field it took ids from: select --data finds the rows by it without
// being told (here the dataset's own "id" field holds other rows' values).
TEST_F(Select, DataRowsAreFoundByTheFieldTheScoringRunsRecordNames) {
  const std::string data = dir_ + "/swap.jsonl";
  write_text(data, R"({"uid":"1","id":"0","text":"first"})" "\n" R"({"uid":"0","id":"1","text":"second"})" "\n");
  const std::string scored = dir_ + "/swap.scored.jsonl";
  write_text(scored, R"({"id":"1","score":1})" "\n" R"({"id":"0","score":2})" "\n");
  write_text(dir_ + "/swap.scored.run.json", R"({"command": "score", "settings": {"--field": ["id=uid", "response=text"]}})");
  const RunResult r = run_arbiter("select -i " + scored + " --by score --top 1 --data " + data + " -o " + dir_ + "/out.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(read_text(dir_ + "/out.jsonl"), std::string(R"({"uid":"0","id":"1","text":"second"})") + "\n");
  EXPECT_NE(r.out.find("found by field 'uid'"), std::string::npos) << r.out;
}

// The outputs of --shard runs, read as a pattern, bring their records: the rows are found by the field the
// runs took ids from. Joined with cat they have none, and select says it finds rows by 'id' (here the
// dataset's 'id' holds other rows' values). Records that disagree are not of one run.
TEST_F(Select, ShardOutputsReadAsAPatternBringTheirRecords) {
  const std::string data = dir_ + "/shards.jsonl";
  write_text(data, R"({"uid":"1","id":"0","text":"first"})" "\n" R"({"uid":"0","id":"1","text":"second"})" "\n");
  const std::string record = R"({"command": "score", "settings": {"--field": ["id=uid"]}})";
  write_text(dir_ + "/scores.0.jsonl", R"({"id":"1","score":1})" "\n");
  write_text(dir_ + "/scores.0.run.json", record);
  write_text(dir_ + "/scores.1.jsonl", R"({"id":"0","score":2})" "\n");
  write_text(dir_ + "/scores.1.run.json", record);
  const RunResult pattern = run_arbiter("select -i '" + dir_ + "/scores.*.jsonl' --by score --top 1 --data " + data +
                                        " -o " + dir_ + "/out.jsonl");
  ASSERT_EQ(pattern.exit_code, 0) << pattern.out;
  EXPECT_EQ(read_text(dir_ + "/out.jsonl"), std::string(R"({"uid":"0","id":"1","text":"second"})") + "\n");

  write_text(dir_ + "/joined.jsonl", read_text(dir_ + "/scores.0.jsonl") + read_text(dir_ + "/scores.1.jsonl"));
  const RunResult joined = run_arbiter("select -i " + dir_ + "/joined.jsonl --by score --top 1 --data " + data + " -o " +
                                       dir_ + "/out.jsonl");
  EXPECT_NE(joined.out.find("joined.jsonl has no run record"), std::string::npos) << joined.out;
  EXPECT_NE(joined.out.find("give it here too"), std::string::npos) << joined.out;

  write_text(dir_ + "/scores.1.run.json", R"({"command": "score", "settings": {}})");
  const RunResult mixed = run_arbiter("select -i '" + dir_ + "/scores.*.jsonl' --by score --top 1 --data " + data +
                                      " -o " + dir_ + "/out.jsonl");
  EXPECT_NE(mixed.exit_code, 0);
  EXPECT_NE(mixed.out.find("took row ids from 'id'"), std::string::npos) << mixed.out;
  EXPECT_NE(mixed.out.find("not of one scoring run"), std::string::npos) << mixed.out;
}

// Scored lines without ids (a file made elsewhere) are of the dataset rows at their positions, even where
// the dataset's own ids are numbers that would name other rows (ids from 1: line 0 is not the row of id 0).
TEST_F(Select, LinesWithoutIdsAreOfTheRowsAtTheirPositions) {
  const std::string data = dir_ + "/from-one.jsonl";
  write_text(data, R"({"id":1,"text":"first"})" "\n" R"({"id":2,"text":"second"})" "\n" R"({"id":3,"text":"third"})" "\n");
  const std::string scored = dir_ + "/bare.jsonl";
  write_text(scored, R"({"score":0})" "\n" R"({"score":9})" "\n" R"({"score":1})" "\n");
  const RunResult r = select("-i " + scored + " --by score --top 1 --data " + data);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(read_text(dir_ + "/out.jsonl"), std::string(R"({"id":2,"text":"second"})") + "\n");
}

// A dataset whose first row has an id and later ones do not: each row is known as the scoring run knew it
// (its id, else its index), whatever the first row looks like.
TEST_F(Select, DatasetsMixingRowsWithAndWithoutIdsAreMatchedRowByRow) {
  const std::string data = dir_ + "/mixed.jsonl";
  write_text(data, R"({"id":"x","text":"named"})" "\n" R"({"text":"row 1"})" "\n" R"({"text":"row 2"})" "\n");
  const std::string scored = dir_ + "/mixed.scored.jsonl";
  write_text(scored, R"({"id":"x","score":1})" "\n" R"({"id":"1","score":0})" "\n" R"({"id":"2","score":2})" "\n");
  const RunResult r = select("-i " + scored + " --by score --top 2 --data " + data);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(read_text(dir_ + "/out.jsonl"), std::string(R"({"id":"x","text":"named"})") + "\n" + R"({"text":"row 2"})" + "\n");
}

}  // namespace
}  // namespace arbiter
