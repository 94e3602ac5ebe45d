// `arbiter pairs`: sampled responses scored by a reward model become (best, worst) preference pairs or
// best-of-N rows. Scoring the pairs file again with the same model must give back the scores the pairs
// carry, which holds only if every text was matched to its own score.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;
using nlohmann::json;

class Pairs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(temp_dir("pairs"));
    auto made = run_arbiter("-q create-model --arch qwen2 --head seqcls --tokenizer " + kShared +
                            "/fixtures/tokenizers/qwen3 --out " + *dir_ + "/rm");
    setup_.expect(made.exit_code == 0, made.out);
    std::ofstream samples(*dir_ + "/samples.jsonl");
    const std::vector<json> rows = {
        {{"id", "s0"}, {"prompt", "Tell me a joke."},
         {"samples", {"Why did the chicken cross the road?", "No.", "Jokes are fun.", "A man walks into a bar."}}},
        {{"id", "s1"}, {"prompt", "What is the capital of France?"}, {"samples", {"Paris.", "London.", "It is Paris."}}},
        {{"id", "s2"}, {"prompt", "Say hi."}, {"samples", {"Hi!"}}},
        {{"id", "s3"},
         {"prompt", json::array({{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Name a fruit."}}})},
         {"samples", {"Apple.", "Banana is a fruit."}}},
    };
    for (const json& row : rows) samples << row.dump() << "\n";
    samples.close();
    auto scored = run_arbiter("score -q -m " + *dir_ + "/rm -i " + *dir_ + "/samples.jsonl -o " + *dir_ +
                              "/scored.jsonl --field response=samples");
    setup_.expect(scored.exit_code == 0, scored.out);
  }
  static void TearDownTestSuite() { delete dir_; }
  static RunResult pairs(const std::string& out, const std::string& options) {
    return run_arbiter("pairs -i " + *dir_ + "/scored.jsonl --data " + *dir_ + "/samples.jsonl --field response=samples -o " +
                       *dir_ + "/" + out + " " + options);
  }
  void SetUp() override { setup_.check(); }
  static std::string* dir_;
  inline static SuiteSetup setup_;
};
std::string* Pairs::dir_ = nullptr;

TEST_F(Pairs, BestAndWorstPerRowScoreTheSameWhenScoredAgain) {
  auto r = pairs("dpo.jsonl", "");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("3 pairs written"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 with fewer than two responses"), std::string::npos) << r.out;
  const auto scored = read_jsonl(*dir_ + "/scored.jsonl");
  const auto written = read_jsonl(*dir_ + "/dpo.jsonl");
  ASSERT_EQ(written.size(), 3u);
  for (const json& pair : written) {
    const json& line = *std::find_if(scored.begin(), scored.end(), [&](const json& l) { return l["id"] == pair["id"]; });
    std::vector<double> scores;
    for (const json& resp : line["responses"]) scores.push_back(resp["score"].get<double>());
    EXPECT_EQ(pair["score_chosen"].get<double>(), *std::max_element(scores.begin(), scores.end()));
    EXPECT_EQ(pair["score_rejected"].get<double>(), *std::min_element(scores.begin(), scores.end()));
  }
  // s3's prompt has a system turn: the conversational layout.
  EXPECT_TRUE(written[2]["prompt"].is_array());
  EXPECT_EQ(written[2]["chosen"][0]["role"], "assistant");

  auto again = run_arbiter("score -q -m " + *dir_ + "/rm -i " + *dir_ + "/dpo.jsonl -o " + *dir_ + "/rescored.jsonl");
  ASSERT_EQ(again.exit_code, 0) << again.out;
  const auto rescored = read_jsonl(*dir_ + "/rescored.jsonl");
  ASSERT_EQ(rescored.size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_NEAR(rescored[i]["score_chosen"].get<double>(), written[i]["score_chosen"].get<double>(), 1e-6) << i;
    EXPECT_NEAR(rescored[i]["score_rejected"].get<double>(), written[i]["score_rejected"].get<double>(), 1e-6) << i;
  }
}

// A prompt with an assistant's tool call (and a response given as a message): the pairs keep every field of
// the messages, so that the DPO rows hold the conversation that was scored and score the same again.
TEST_F(Pairs, MessagesKeepTheirToolCalls) {
  const json call = json::array({{{"type", "function"}, {"function", {{"name", "weather"}, {"arguments", {{"city", "Paris"}}}}}}});
  const json row = {{"id", "tool"},
                    {"prompt", json::array({{{"role", "user"}, {"content", "Weather?"}},
                                            {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", call}},
                                            {{"role", "tool"}, {"content", "sunny"}}})},
                    {"samples", {"It is sunny.", "No idea.", "Sunny!"}}};
  std::ofstream(*dir_ + "/tool-samples.jsonl") << row.dump() << "\n";
  auto scored = run_arbiter("score -q -m " + *dir_ + "/rm -i " + *dir_ + "/tool-samples.jsonl -o " + *dir_ +
                            "/tool-scored.jsonl --field response=samples");
  ASSERT_EQ(scored.exit_code, 0) << scored.out;
  auto made = run_arbiter("pairs -i " + *dir_ + "/tool-scored.jsonl --data " + *dir_ +
                          "/tool-samples.jsonl --field response=samples -o " + *dir_ + "/tool-dpo.jsonl");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const auto written = read_jsonl(*dir_ + "/tool-dpo.jsonl");
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["prompt"][1]["tool_calls"], call) << written[0].dump();
  auto again = run_arbiter("score -q -m " + *dir_ + "/rm -i " + *dir_ + "/tool-dpo.jsonl -o " + *dir_ + "/tool-rescored.jsonl");
  ASSERT_EQ(again.exit_code, 0) << again.out;
  const auto rescored = read_jsonl(*dir_ + "/tool-rescored.jsonl");
  ASSERT_EQ(rescored.size(), 1u);
  EXPECT_NEAR(rescored[0]["score_chosen"].get<double>(), written[0]["score_chosen"].get<double>(), 1e-6);
  EXPECT_NEAR(rescored[0]["score_rejected"].get<double>(), written[0]["score_rejected"].get<double>(), 1e-6);
}

TEST_F(Pairs, BestOfNAndMargins) {
  auto best = pairs("best.jsonl", "--best");
  ASSERT_EQ(best.exit_code, 0) << best.out;
  const auto rows = read_jsonl(*dir_ + "/best.jsonl");
  ASSERT_EQ(rows.size(), 4u);  // a row of one response has a best one too
  EXPECT_EQ(rows[2]["response"], "Hi!");
  auto again = run_arbiter("score -q -m " + *dir_ + "/rm -i " + *dir_ + "/best.jsonl -o " + *dir_ +
                           "/best-rescored.jsonl --field response=response");
  ASSERT_EQ(again.exit_code, 0) << again.out;
  const auto rescored = read_jsonl(*dir_ + "/best-rescored.jsonl");
  for (size_t i = 0; i < rows.size(); ++i)
    EXPECT_NEAR(rescored[i]["score"].get<double>(), rows[i]["score"].get<double>(), 1e-6) << i;

  auto strict = pairs("strict.jsonl", "--min-margin 1000");
  ASSERT_EQ(strict.exit_code, 0) << strict.out;
  EXPECT_NE(strict.out.find("0 pairs written"), std::string::npos) << strict.out;
  EXPECT_NE(strict.out.find("3 with best - worst <= 1000"), std::string::npos) << strict.out;
}

// A scoring run that took ids from another field (--field id=uid): pairs finds the dataset's rows by it
// from the run's record, without being told; where the dataset's own ids name other rows, matching by them
// would pair one row's scores with another's responses.
TEST_F(Pairs, DataRowsAreFoundByTheFieldTheScoringRunsRecordNames) {
  std::ofstream swapped(*dir_ + "/swapped.jsonl");
  swapped << json{{"uid", "u0"}, {"id", "u1"}, {"prompt", "p0"}, {"samples", {"a0", "b0 is longer"}}}.dump() << "\n"
          << json{{"uid", "u1"}, {"id", "u0"}, {"prompt", "p1"}, {"samples", {"a1", "b1 is longer", "c1"}}}.dump() << "\n";
  swapped.close();
  auto scored = run_arbiter("score -q -m " + *dir_ + "/rm -i " + *dir_ + "/swapped.jsonl -o " + *dir_ +
                            "/swapped.scored.jsonl --field response=samples --field id=uid");
  ASSERT_EQ(scored.exit_code, 0) << scored.out;
  auto made = run_arbiter("pairs -i " + *dir_ + "/swapped.scored.jsonl --data " + *dir_ +
                          "/swapped.jsonl --field response=samples --best -o " + *dir_ + "/swapped.best.jsonl");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  EXPECT_NE(made.out.find("found by field 'uid'"), std::string::npos) << made.out;
  const auto best = read_jsonl(*dir_ + "/swapped.best.jsonl");
  ASSERT_EQ(best.size(), 2u);
  EXPECT_EQ(best[0]["prompt"], "p0");
  EXPECT_EQ(best[1]["prompt"], "p1");
  const std::vector<std::string> first = {"a0", "b0 is longer"}, second = {"a1", "b1 is longer", "c1"};
  EXPECT_NE(std::find(first.begin(), first.end(), best[0]["response"].get<std::string>()), first.end()) << best[0].dump();
  EXPECT_NE(std::find(second.begin(), second.end(), best[1]["response"].get<std::string>()), second.end()) << best[1].dump();
}

TEST_F(Pairs, MismatchesAreErrorsNamingTheRow) {
  // Read without the mapping, the dataset's rows have no responses to match the scored ones.
  auto unmapped = run_arbiter("pairs -i " + *dir_ + "/scored.jsonl --data " + *dir_ + "/samples.jsonl -o " + *dir_ +
                              "/unmapped.jsonl --schema generic");
  EXPECT_NE(unmapped.exit_code, 0);
  EXPECT_NE(unmapped.out.find("row id s0 has 4 scored responses"), std::string::npos) << unmapped.out;

  auto field = pairs("field.jsonl", "--by lager");
  EXPECT_NE(field.exit_code, 0);
  EXPECT_NE(field.out.find("no number 'lager'"), std::string::npos) << field.out;
  EXPECT_NE(field.out.find("scored.jsonl:1"), std::string::npos) << field.out;

  auto same = run_arbiter("pairs -i " + *dir_ + "/scored.jsonl --data " + *dir_ + "/samples.jsonl -o " + *dir_ +
                          "/samples.jsonl");
  EXPECT_NE(same.exit_code, 0);
  EXPECT_NE(same.out.find("is the file --data names: it would be overwritten while it is read"), std::string::npos)
      << same.out;
  EXPECT_EQ(read_jsonl(*dir_ + "/samples.jsonl").size(), 4u);  // untouched
  // However the path is spelled: with ./, through a link; and for select too, --input and --data alike.
  std::filesystem::create_symlink(*dir_ + "/scored.jsonl", *dir_ + "/scored-link.jsonl");
  const std::string scored_lines = read_text(*dir_ + "/scored.jsonl");
  const std::string dotted = *dir_ + "/./samples.jsonl";
  const std::pair<std::string, std::string> spellings[] = {
      {"pairs -i " + *dir_ + "/scored.jsonl --data " + *dir_ + "/samples.jsonl --field response=samples -o " + dotted,
       "is the file --data names"},
      {"pairs -i " + *dir_ + "/scored.jsonl --data " + *dir_ + "/samples.jsonl --field response=samples -o " + *dir_ +
           "/scored-link.jsonl",
       "is the file --input names"},
      {"select -i " + *dir_ + "/scored.jsonl --by score --top 1 -o " + *dir_ + "/scored-link.jsonl", "is the file --input names"},
      {"select -i " + *dir_ + "/scored.jsonl --by score --top 1 --data " + *dir_ + "/samples.jsonl -o " + dotted,
       "is the file --data names"},
  };
  for (const auto& [command, message] : spellings) {
    const RunResult refused = run_arbiter(command);
    EXPECT_NE(refused.exit_code, 0) << command;
    EXPECT_NE(refused.out.find(message), std::string::npos) << command << "\n" << refused.out;
  }
  EXPECT_EQ(read_jsonl(*dir_ + "/samples.jsonl").size(), 4u);
  EXPECT_EQ(read_text(*dir_ + "/scored.jsonl"), scored_lines);
}

// An id twice, in the scores or in the dataset, would pair one row's scores with another's texts, or write
// one row's pair twice: refused, naming the id.
TEST_F(Pairs, AnIdTwiceIsRefused) {
  const auto lines = read_jsonl(*dir_ + "/scored.jsonl");
  {
    std::ofstream twice(*dir_ + "/scored-twice.jsonl");
    for (const auto& line : lines) twice << line.dump() << "\n";
    twice << lines[1].dump() << "\n";
    std::ofstream data_twice(*dir_ + "/samples-twice.jsonl");
    const auto rows = read_jsonl(*dir_ + "/samples.jsonl");
    for (const auto& row : rows) data_twice << row.dump() << "\n";
    data_twice << rows[0].dump() << "\n";
  }
  auto scored_twice = run_arbiter("pairs -i " + *dir_ + "/scored-twice.jsonl --data " + *dir_ +
                                  "/samples.jsonl --field response=samples -o " + *dir_ + "/twice.jsonl");
  EXPECT_NE(scored_twice.exit_code, 0);
  EXPECT_NE(scored_twice.out.find("scored-twice.jsonl:5: id 's1' appears twice in the scored file"), std::string::npos)
      << scored_twice.out;
  auto data_twice = run_arbiter("pairs -i " + *dir_ + "/scored.jsonl --data " + *dir_ +
                                "/samples-twice.jsonl --field response=samples -o " + *dir_ + "/twice.jsonl");
  EXPECT_NE(data_twice.exit_code, 0);
  EXPECT_NE(data_twice.out.find("samples-twice.jsonl:5 (row 4): id 's0' is the id of row 0 too"), std::string::npos)
      << data_twice.out;

  // select --data: the same, and 1 and "1" are one id.
  std::ofstream(*dir_ + "/one-two.jsonl") << R"({"id": 1, "score": 1})" "\n" << R"({"id": "1", "score": 3})" "\n";
  auto select_twice = run_arbiter("select -i " + *dir_ + "/one-two.jsonl --by score --top 5 -o " + *dir_ + "/top.jsonl");
  EXPECT_NE(select_twice.exit_code, 0);
  EXPECT_NE(select_twice.out.find("one-two.jsonl: id '1' appears twice (lines 1 and 2)"), std::string::npos)
      << select_twice.out;
  auto select_data_twice = run_arbiter("select -i " + *dir_ + "/scored.jsonl --by score --top 1 --data " + *dir_ +
                                       "/samples-twice.jsonl -o " + *dir_ + "/top.jsonl");
  EXPECT_NE(select_data_twice.exit_code, 0);
  EXPECT_NE(select_data_twice.out.find("samples-twice.jsonl: id 's0' appears twice (rows 1 and 5)"), std::string::npos)
      << select_data_twice.out;
}

// select: a line that is not an object, a score that is not a number, a field no line has, a threshold
// that is no number: each an error naming it, not rows counted "without a score".
TEST_F(Pairs, SelectRefusesWhatItCannotRank) {
  const std::string out = " -o " + *dir_ + "/sel.jsonl";
  std::ofstream(*dir_ + "/array-line.jsonl") << R"({"id": "a", "score": 1})" "\n[1, 2]\n";
  std::ofstream(*dir_ + "/string-score.jsonl") << R"({"id": "a", "score": 1})" "\n" << R"({"id": "b", "score": "high"})" "\n";
  const std::pair<std::string, std::string> cases[] = {
      {"select -i " + *dir_ + "/array-line.jsonl --by score --top 1", "array-line.jsonl:2: a scored line must be a JSON object, not array"},
      {"select -i " + *dir_ + "/string-score.jsonl --by score --top 1", "string-score.jsonl:2: field 'score' is not a number"},
      {"select -i " + *dir_ + "/scored.jsonl --by lager --top 1", "no line has a number in 'lager'"},
      {"select -i " + *dir_ + "/scored.jsonl --by score --threshold nan", "--threshold must be a finite number"},
  };
  for (const auto& [command, message] : cases) {
    const RunResult r = run_arbiter(command + out);
    EXPECT_NE(r.exit_code, 0) << command;
    EXPECT_NE(r.out.find(message), std::string::npos) << command << "\n" << r.out;
  }
  const RunResult none = run_arbiter("select -i " + *dir_ + "/scored.jsonl --by score --threshold 1e9" + out);
  ASSERT_EQ(none.exit_code, 0) << none.out;
  EXPECT_NE(none.out.find("kept 0 of 4 rows (none reached the cutoff;"), std::string::npos) << none.out;
}

// A null score (what `score` writes for one that is not finite) is a row without a score; a one-element
// list is its element, as the eval commands read it.
TEST_F(Pairs, SelectReadsNullAsNoScoreAndAOneElementListAsItsValue) {
  std::ofstream(*dir_ + "/mixed.jsonl") << R"({"id": "a", "score": 1.5})" "\n" R"({"id": "b", "score": null})" "\n"
                                        << R"({"id": "c", "score": [2.5]})" "\n" R"({"id": "d", "score": [0.5, 1]})" "\n";
  const RunResult pair_list = run_arbiter("select -i " + *dir_ + "/mixed.jsonl --by score --top 1 -o " + *dir_ + "/m.jsonl");
  EXPECT_NE(pair_list.exit_code, 0);
  EXPECT_NE(pair_list.out.find("mixed.jsonl:4: field 'score' is not a number"), std::string::npos) << pair_list.out;
  std::ofstream(*dir_ + "/mixed.jsonl") << R"({"id": "a", "score": 1.5})" "\n" R"({"id": "b", "score": null})" "\n"
                                        << R"({"id": "c", "score": [2.5]})" "\n";
  const RunResult r = run_arbiter("select -i " + *dir_ + "/mixed.jsonl --by score --top 1 -o " + *dir_ + "/m.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("kept 1 of 3 rows"), std::string::npos) << r.out;
  const auto kept = read_jsonl(*dir_ + "/m.jsonl");
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0]["id"], "c");
}

// select --data streams the dataset: rows in another order than the scored lines (a sharded run's file)
// still come out in the scored file's order, each the dataset's row of its id, and by position each is
// the row its row_digest names.
TEST_F(Pairs, SelectWritesDatasetRowsInTheScoredOrderWhateverTheDatasetOrder) {
  std::ofstream(*dir_ + "/order-scored.jsonl") << R"({"id": "c", "score": 3})" "\n" R"({"id": "a", "score": 1})" "\n"
                                               << R"({"id": "d", "score": 0})" "\n" R"({"id": "b", "score": 2})" "\n";
  std::ofstream(*dir_ + "/order-data.jsonl") << R"({"id": "a", "text": "A"})" "\n" R"({"id": "b", "text": "B"})" "\n"
                                             << R"({"id": "c", "text": "C"})" "\n" R"({"id": "d", "text": "D"})" "\n";
  const RunResult r = run_arbiter("select -i " + *dir_ + "/order-scored.jsonl --by score --top 3 --data " + *dir_ +
                                  "/order-data.jsonl -o " + *dir_ + "/order-top.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto kept = read_jsonl(*dir_ + "/order-top.jsonl");
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0], json::parse(R"({"id": "c", "text": "C"})"));
  EXPECT_EQ(kept[1], json::parse(R"({"id": "a", "text": "A"})"));
  EXPECT_EQ(kept[2], json::parse(R"({"id": "b", "text": "B"})"));

  // An id the dataset lacks: an error naming it, and no output.
  std::ofstream(*dir_ + "/order-scored-x.jsonl") << R"({"id": "c", "score": 3})" "\n" R"({"id": "x", "score": 5})" "\n";
  const RunResult missing = run_arbiter("select -i " + *dir_ + "/order-scored-x.jsonl --by score --top 2 --data " + *dir_ +
                                        "/order-data.jsonl -o " + *dir_ + "/order-missing.jsonl");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.out.find("order-data.jsonl: no row with id x (" + *dir_ + "/order-scored-x.jsonl:2)"), std::string::npos) << missing.out;
  EXPECT_FALSE(std::filesystem::exists(*dir_ + "/order-missing.jsonl"));
}

// select reads --input twice (to rank, then to write): a pipe is refused by name rather than read as empty
// the second time.
TEST_F(Pairs, SelectRefusesAnInputItCannotReadTwice) {
  const std::string fifo = *dir_ + "/scored.fifo";
  std::filesystem::remove(fifo);
  ASSERT_EQ(std::system(("mkfifo " + fifo).c_str()), 0);
  const RunResult r = run_arbiter("select -i " + fifo + " --by score --top 1 -o " + *dir_ + "/fifo-top.jsonl");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("scored.fifo: select reads --input twice"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(*dir_ + "/fifo-top.jsonl"));
}

TEST_F(Pairs, ErrorLinesAreRowsNotScored) {
  // s0 failed in the scoring run: an error line in its place.
  {
    std::ofstream out(*dir_ + "/with-error.jsonl");
    out << R"({"id": "s0", "error": "too long"})" "\n";
    const auto lines = read_jsonl(*dir_ + "/scored.jsonl");
    for (size_t i = 1; i < lines.size(); ++i) out << lines[i].dump() << "\n";
  }
  auto r = run_arbiter("pairs -i " + *dir_ + "/with-error.jsonl --data " + *dir_ +
                       "/samples.jsonl --field response=samples -o " + *dir_ + "/skip.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("2 pairs written"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 not scored"), std::string::npos) << r.out;
}

// A dataset row the scoring run could not read (score --on-error skip wrote an error line for it) is not
// scored either: pairs counts it and goes on; an unreadable row that was scored somehow is still an error.
TEST_F(Pairs, RowsTheScoringRunCouldNotReadAreNotScored) {
  const std::string data = *dir_ + "/unreadable.jsonl";
  {
    std::ofstream out(data);
    out << R"({"id": "u0", "prompt": "Say hi.", "samples": ["Hi!", "Hello there."]})" "\n"
        << R"({"id": "u1", "prompt": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}], "samples": ["A cat.", "A dog."]})" "\n"
        << R"({"id": "u2", "prompt": "cut off)" "\n"
        << R"({"id": "u3", "prompt": "Name a fruit.", "samples": ["Apple.", "Banana."]})" "\n";
  }
  auto scored = run_arbiter("score -q -m " + *dir_ + "/rm -i " + data + " -o " + data + ".scored --field response=samples --on-error skip");
  ASSERT_EQ(scored.exit_code, 0) << scored.out;
  auto r = run_arbiter("pairs -i " + data + ".scored --data " + data + " --field response=samples -o " + *dir_ + "/unreadable.pairs.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("2 pairs written"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 not scored"), std::string::npos) << r.out;
  const auto written = read_jsonl(*dir_ + "/unreadable.pairs.jsonl");
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[1]["id"], "u3");

  // A run that stopped early (--limit) never read the bad rows: they are not scored either.
  auto first = run_arbiter("score -q -m " + *dir_ + "/rm -i " + data + " -o " + data + ".first --field response=samples --limit 1");
  ASSERT_EQ(first.exit_code, 0) << first.out;
  auto limited = run_arbiter("pairs -i " + data + ".first --data " + data + " --field response=samples -o " + *dir_ +
                             "/limited.pairs.jsonl");
  ASSERT_EQ(limited.exit_code, 0) << limited.out;
  EXPECT_NE(limited.out.find("1 pairs written"), std::string::npos) << limited.out;
  EXPECT_NE(limited.out.find("3 not scored"), std::string::npos) << limited.out;
}

// Rows without ids are matched by index, which any dataset has: a dataset other than the one scored is
// refused by the lines' row_digest rather than paired with another row's scores.
TEST_F(Pairs, RowsWithoutIdsMustBeTheRowsScored) {
  const std::string unnamed = *dir_ + "/unnamed.jsonl", edited = *dir_ + "/unnamed-edited.jsonl";
  std::ofstream(unnamed) << R"({"prompt": "Tell me a joke.", "samples": ["No.", "A man walks into a bar."]})" "\n"
                         << R"({"prompt": "Say hi.", "samples": ["Hi!", "Hello there."]})" "\n";
  std::ofstream(edited) << R"({"prompt": "Tell me a joke.", "samples": ["No.", "A man walks into a bar."]})" "\n"
                        << R"({"prompt": "Say bye.", "samples": ["Bye!", "Goodbye."]})" "\n";
  const std::string scored = *dir_ + "/unnamed.scored.jsonl";
  ASSERT_EQ(run_arbiter("score -q -m " + *dir_ + "/rm -i " + unnamed + " -o " + scored + " --field response=samples").exit_code, 0);
  const std::string common = "pairs -q -i " + scored + " --field response=samples -o " + *dir_ + "/unnamed.pairs.jsonl --data ";
  const RunResult same = run_arbiter(common + unnamed);
  ASSERT_EQ(same.exit_code, 0) << same.out;
  EXPECT_EQ(read_jsonl(*dir_ + "/unnamed.pairs.jsonl").size(), 2u);
  const RunResult other = run_arbiter(common + edited);
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.out.find("unnamed-edited.jsonl: row 1 is not the row " + scored + " scored as row 1"), std::string::npos)
      << other.out;
}

}  // namespace
}  // namespace arbiter
