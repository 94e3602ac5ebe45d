// `judge --generate` (and `--skip-lager`) on a real trained model (stories260K), whose greedy continuation from BOS is known
// from its published golden ids: the judge must read the position that predicts the first score token
// the model writes, which a plain prefill of the same prefix reproduces.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

const std::string kStories = kShared + "/models/stories260K/stories260K.gguf";
// The first greedy ids from BOS (the model's README); 378 is the fourth, 500 is never among the first 60.
const std::vector<int32_t> kGoldenPrefix = {403, 407, 261, 378, 432};

std::string write_rows(const std::string& dir, const std::string& name, const std::string& rows) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << rows;
  return path;
}

// `arbiter judge -q` on stories260K: rows -> out, with the given options.
RunResult judge(const std::string& rows, const std::string& out, const std::string& options) {
  return run_arbiter("judge -q -m " + kStories + " -i " + rows + " -o " + out + " " + options);
}

TEST(JudgeGenerate, ReadsWhereTheFirstScoreTokenIsWritten) {
  const std::string dir = temp_dir("judge-generate");
  const std::string from_bos = write_rows(dir, "bos.jsonl", "{\"id\": \"a\", \"input_ids\": [1]}\n");
  auto gen = judge(from_bos, dir + "/gen.jsonl", "--score-token-ids 500,378 --per-layer --generate --max-new-tokens 20");
  ASSERT_EQ(gen.exit_code, 0) << gen.out;
  // The same prefix given whole: BOS and the three ids written before 378.
  const std::string prefix = write_rows(dir, "prefix.jsonl", "{\"id\": \"a\", \"input_ids\": [1, 403, 407, 261]}\n");
  auto plain = judge(prefix, dir + "/plain.jsonl", "--score-token-ids 500,378 --per-layer");
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  const auto g = read_jsonl(dir + "/gen.jsonl");
  const auto p = read_jsonl(dir + "/plain.jsonl");
  ASSERT_EQ(g.size(), 1u);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(g[0]["generated_tokens"].get<int>(), 4);
  EXPECT_EQ(g[0]["vanilla"].get<double>(), 2.0);  // the model did write the second score token there
  const auto gl = g[0]["per_layer_logits"].get<std::vector<std::vector<double>>>();
  const auto pl = p[0]["per_layer_logits"].get<std::vector<std::vector<double>>>();
  ASSERT_EQ(gl.size(), 6u);  // 5 layers + embeddings
  ASSERT_EQ(gl.size(), pl.size());
  for (size_t l = 0; l < gl.size(); ++l)
    for (size_t k = 0; k < 2; ++k) EXPECT_NEAR(gl[l][k], pl[l][k], 1e-5) << "layer " << l;
  EXPECT_NEAR(g[0]["expected"].get<double>(), p[0]["expected"].get<double>(), 1e-6);
  EXPECT_NEAR(g[0]["lager"].get<double>(), p[0]["lager"].get<double>(), 1e-6);
}

TEST(JudgeGenerate, ScoreMarkerSkipsEarlierScoreTokens) {
  // 432 is written twice in the golden prefix (5th and 31st...); after the text of the first four ids
  // the first 432 no longer counts when the marker is that text's last word.
  const std::string dir = temp_dir("judge-generate-marker");
  const std::string from_bos = write_rows(dir, "bos.jsonl", "{\"id\": \"a\", \"input_ids\": [1]}\n");
  auto without = judge(from_bos, dir + "/a.jsonl", "--score-token-ids 432,500 --generate --max-new-tokens 60");
  ASSERT_EQ(without.exit_code, 0) << without.out;
  const auto a = read_jsonl(dir + "/a.jsonl");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]["generated_tokens"].get<int>(), 5);
  const std::string written = a[0]["generated"].get<std::string>();
  ASSERT_FALSE(written.empty());
  // Use the text written up to and including the first 432 as the marker: the read moves to a later 432.
  auto with = judge(from_bos, dir + "/b.jsonl",
                    "--score-token-ids 432,500 --generate --max-new-tokens 60 --score-after '" + written + "'");
  ASSERT_EQ(with.exit_code, 0) << with.out;
  const auto b = read_jsonl(dir + "/b.jsonl");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_GT(b[0]["generated_tokens"].get<int>(), 5);
  EXPECT_EQ(b[0]["generated"].get<std::string>().rfind(written, 0), 0u);  // starts with the marker text
}

TEST(JudgeGenerate, NoScoreWrittenIsARowErrorNamingWhy) {
  const std::string dir = temp_dir("judge-generate-none");
  const std::string from_bos = write_rows(dir, "bos.jsonl", "{\"id\": \"a\", \"input_ids\": [1]}\n{\"id\": \"b\", \"input_ids\": [1, 403]}\n");
  auto fail = judge(from_bos, dir + "/f.jsonl", "--score-token-ids 500,501 --generate --max-new-tokens 6");
  EXPECT_NE(fail.exit_code, 0);
  EXPECT_NE(fail.out.find("without a score token"), std::string::npos) << fail.out;
  EXPECT_NE(fail.out.find("max_tokens"), std::string::npos) << fail.out;
  EXPECT_NE(fail.out.find("bos.jsonl:1 (row a)"), std::string::npos) << fail.out;  // names the row
  auto skip = judge(from_bos, dir + "/s.jsonl", "--score-token-ids 500,501 --generate --max-new-tokens 6 --on-error skip");
  EXPECT_EQ(skip.exit_code, 0) << skip.out;
  const auto lines = read_jsonl(dir + "/s.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& line : lines) EXPECT_NE(line["error"].get<std::string>().find("6 tokens"), std::string::npos) << line.dump();
}

TEST(JudgeGenerate, OptionsThatNeedGenerateSaySo) {
  const std::string dir = temp_dir("judge-generate-options");
  const std::string rows = write_rows(dir, "bos.jsonl", "{\"id\": \"a\", \"input_ids\": [1]}\n");
  auto marker = judge(rows, dir + "/o.jsonl", "--score-token-ids 5,6 --score-after X");
  EXPECT_NE(marker.exit_code, 0);
  EXPECT_NE(marker.out.find("--score-after needs --generate"), std::string::npos) << marker.out;
  auto feedback = judge(rows, dir + "/o.jsonl", "--score-token-ids 5,6 --template prometheus-feedback");
  EXPECT_NE(feedback.exit_code, 0);
  EXPECT_NE(feedback.out.find("add --generate"), std::string::npos) << feedback.out;
  // An option that would change nothing is refused rather than kept in the run record, where a resume
  // without it would then be refused.
  auto length = judge(rows, dir + "/o.jsonl", "--score-token-ids 5,6 --max-new-tokens 5");
  EXPECT_NE(length.exit_code, 0);
  EXPECT_NE(length.out.find("--max-new-tokens needs --generate"), std::string::npos) << length.out;
  write_rows(dir, "t.txt", "Rate {response} to {prompt}: ");
  auto both = judge(rows, dir + "/o.jsonl", "--score-token-ids 5,6 --template-file " + dir + "/t.txt --template prometheus");
  EXPECT_NE(both.exit_code, 0);
  EXPECT_NE(both.out.find("--template excludes --template-file"), std::string::npos) << both.out;
}

TEST(JudgeSkipLager, FinalLayerScoresOnlyAndTheSameValues) {
  const std::string dir = temp_dir("judge-skip-lager");
  const std::string rows = write_rows(dir, "rows.jsonl",
                                      "{\"id\": \"a\", \"input_ids\": [1, 403, 407]}\n{\"id\": \"b\", \"input_ids\": [1, 261]}\n");
  auto full = judge(rows, dir + "/full.jsonl", "--score-token-ids 378,432,500");
  ASSERT_EQ(full.exit_code, 0) << full.out;
  auto skip = judge(rows, dir + "/skip.jsonl", "--score-token-ids 378,432,500 --skip-lager");
  ASSERT_EQ(skip.exit_code, 0) << skip.out;
  const auto f = read_jsonl(dir + "/full.jsonl");
  const auto k = read_jsonl(dir + "/skip.jsonl");
  ASSERT_EQ(f.size(), 2u);
  ASSERT_EQ(k.size(), 2u);
  for (size_t i = 0; i < f.size(); ++i) {
    EXPECT_TRUE(f[i].contains("lager"));
    EXPECT_FALSE(k[i].contains("lager")) << k[i].dump();
    EXPECT_EQ(k[i]["vanilla"], f[i]["vanilla"]);
    EXPECT_NEAR(k[i]["expected"].get<double>(), f[i]["expected"].get<double>(), 1e-6);
  }
  auto both = judge(rows, dir + "/both.jsonl", "--score-token-ids 378,432,500 --skip-lager --per-layer");
  EXPECT_NE(both.exit_code, 0);
  EXPECT_NE(both.out.find("exclude each other"), std::string::npos) << both.out;
  // Ranking by LAGER when asked for, not silently by the expected score.
  auto ranked = judge(rows, dir + "/ranked.jsonl", "--score-token-ids 378,432,500 --skip-lager --rank-by lager");
  EXPECT_NE(ranked.exit_code, 0);
  EXPECT_NE(ranked.out.find("--rank-by lager and --skip-lager exclude each other"), std::string::npos) << ranked.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/ranked.jsonl"));
}

}  // namespace
}  // namespace arbiter
