// --shard K/N: N processes share a dataset, each taking rows K, K+N, ...; each shard's file holds exactly
// the lines the whole run writes for its rows, so the shards' files together are the whole run's.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include <cstring>
#include <map>
#include <sstream>

#include "../../support/cli_helpers.h"
#include "train/features_file.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

std::vector<std::string> file_lines(const std::string& path) {
  std::istringstream in(read_text(path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string write_numbered_rows(const std::string& dir, int n) {
  const std::string path = dir + "/rows.jsonl";
  std::ofstream out(path);
  for (int i = 0; i < n; ++i) {
    const nlohmann::json row = {{"id", "row-" + std::to_string(i)},
                                {"prompt", "Tell me about the number " + std::to_string(i) + "."},
                                {"response", "It is " + std::string(size_t(i % 5 + 1), 'a') + " number."}};
    out << row.dump() << "\n";
  }
  return path;
}

class Shard : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("shard");
    input_ = write_numbered_rows(dir_, kRows);
    common_ = "judge -q -m " + kShared + "/models/stories260K/stories260K.gguf -i " + input_ + " --batch-tokens 256";
    const RunResult whole = run_arbiter(common_ + " -o " + dir_ + "/whole.jsonl");
    ASSERT_EQ(whole.exit_code, 0) << whole.out;
    whole_ = file_lines(dir_ + "/whole.jsonl");
    ASSERT_EQ(whole_.size(), size_t(kRows));
  }

  static constexpr int kRows = 23;
  std::string dir_, input_, common_;
  std::vector<std::string> whole_;
};

TEST_F(Shard, EachShardWritesTheWholeRunsLinesOfItsRows) {
  size_t lines = 0;
  for (int k = 0; k < 3; ++k) {
    const std::string out = dir_ + "/shard" + std::to_string(k) + ".jsonl";
    const RunResult run = run_arbiter(common_ + " -o " + out + " --shard " + std::to_string(k) + "/3");
    ASSERT_EQ(run.exit_code, 0) << run.out;
    std::vector<std::string> expected;
    for (size_t i = size_t(k); i < whole_.size(); i += 3) expected.push_back(whole_[i]);
    EXPECT_EQ(file_lines(out), expected) << "shard " << k;
    lines += file_lines(out).size();
  }
  EXPECT_EQ(lines, whole_.size());

  // --limit takes the first rows of the dataset, and the shard its share of them.
  const std::string limited = dir_ + "/limited.jsonl";
  ASSERT_EQ(run_arbiter(common_ + " -o " + limited + " --shard 1/3 --limit 10").exit_code, 0);
  EXPECT_EQ(file_lines(limited), (std::vector<std::string>{whole_[1], whole_[4], whole_[7]}));
}

TEST_F(Shard, AShardResumesItsOwnFile) {
  const std::string out = dir_ + "/shard.jsonl";
  ASSERT_EQ(run_arbiter(common_ + " -o " + out + " --shard 2/4").exit_code, 0);
  const std::vector<std::string> complete = file_lines(out);
  ASSERT_EQ(complete.size(), 6u);  // rows 2, 6, 10, 14, 18, 22
  write_text(out, complete[0] + "\n" + complete[1] + "\n");
  const RunResult resumed = run_arbiter(common_ + " -o " + out + " --shard 2/4 --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  EXPECT_EQ(file_lines(out), complete);
}

// Feature shards read through a pattern are the whole run's rows, each once, with the same bytes.
TEST_F(Shard, FeatureShardsReadTogetherAreTheWholeRun) {
  const std::string features = "features -q -m " + kShared + "/models/stories260K/stories260K.gguf -i " + input_;
  ASSERT_EQ(run_arbiter(features + " -o " + dir_ + "/whole.safetensors").exit_code, 0);
  // Shard 1 runs on a node whose copy of the model lies elsewhere: the same weights, so the same extraction.
  std::filesystem::create_directories(dir_ + "/elsewhere");
  std::filesystem::copy_file(kShared + "/models/stories260K/stories260K.gguf", dir_ + "/elsewhere/stories260K.gguf",
                             std::filesystem::copy_options::overwrite_existing);
  const std::string elsewhere = "features -q -m " + dir_ + "/elsewhere/stories260K.gguf -i " + input_;
  for (int k = 0; k < 3; ++k) {
    const RunResult run = run_arbiter((k == 1 ? elsewhere : features) + " -o " + dir_ + "/part." + std::to_string(k) +
                                      ".safetensors --shard " + std::to_string(k) + "/3");
    ASSERT_EQ(run.exit_code, 0) << run.out;
  }
  auto whole = train::read_features(dir_ + "/whole.safetensors");
  ASSERT_TRUE(whole.is_ok()) << whole.message();
  auto parts = train::read_features(dir_ + "/part.*.safetensors");
  ASSERT_TRUE(parts.is_ok()) << parts.message();
  ASSERT_EQ(parts->rows, whole->rows);
  ASSERT_EQ(parts->dim, whole->dim);
  ASSERT_EQ(parts->ids.size(), size_t(parts->rows));
  std::map<std::string, int64_t> whole_row;
  for (int64_t i = 0; i < whole->rows; ++i) whole_row[whole->ids[size_t(i)]] = i;
  for (int64_t i = 0; i < parts->rows; ++i) {
    const auto found = whole_row.find(parts->ids[size_t(i)]);
    ASSERT_NE(found, whole_row.end()) << parts->ids[size_t(i)];
    EXPECT_EQ(std::memcmp(parts->at(i, 0), whole->at(found->second, 0), size_t(parts->dim) * sizeof(float)), 0)
        << parts->ids[size_t(i)];
    whole_row.erase(found);  // each row once
  }
  EXPECT_TRUE(whole_row.empty());
  // In the whole run's order, whatever order the shards were read in: a seeded split sees the same rows.
  EXPECT_EQ(parts->ids, whole->ids);
  EXPECT_EQ(parts->features, whole->features);
  EXPECT_EQ(parts->labels, whole->labels);
  auto reversed = train::read_feature_files({dir_ + "/part.2.safetensors", dir_ + "/part.0.safetensors", dir_ + "/part.1.safetensors"});
  ASSERT_TRUE(reversed.is_ok()) << reversed.message();
  EXPECT_EQ(reversed->ids, whole->ids);
  EXPECT_EQ(reversed->features, whole->features);

  // The whole run's file beside its shards holds every row twice: refused, naming a row.
  auto twice = train::read_features(dir_ + "/*.safetensors");
  ASSERT_FALSE(twice.is_ok());
  EXPECT_NE(twice.message().find("is in more than one of its 4 files"), std::string::npos) << twice.message();
  // Features of another layer do not join these.
  ASSERT_EQ(run_arbiter(features + " -o " + dir_ + "/layer1.safetensors --layer 1 --limit 3").exit_code, 0);
  std::filesystem::rename(dir_ + "/layer1.safetensors", dir_ + "/part.3.safetensors");
  auto mixed = train::read_features(dir_ + "/part.*.safetensors");
  ASSERT_FALSE(mixed.is_ok());
  EXPECT_NE(mixed.message().find("part.3.safetensors: layer 'layer1', where "), std::string::npos) << mixed.message();
  // Nor do another model's, even at the same layer.
  ASSERT_EQ(run_arbiter("features -q -m " + kShared + "/fixtures/gguf/llama.f32.gguf -i " + input_ + " -o " + dir_ +
                        "/part.3.safetensors --limit 3")
                .exit_code,
            0);
  auto other_model = train::read_features(dir_ + "/part.*.safetensors");
  ASSERT_FALSE(other_model.is_ok());
  EXPECT_NE(other_model.message().find("part.3.safetensors: model '"), std::string::npos) << other_model.message();
  // Nor the same model's sequences formatted otherwise.
  ASSERT_EQ(run_arbiter(features + " -o " + dir_ + "/part.3.safetensors --limit 3 --plain").exit_code, 0);
  auto other_options = train::read_features(dir_ + "/part.*.safetensors");
  ASSERT_FALSE(other_options.is_ok());
  EXPECT_NE(other_options.message().find("part.3.safetensors: extracted with other options than " + dir_ +
                                         "/part.0.safetensors (--plain: not given in "),
            std::string::npos)
      << other_options.message();
}

// select --data over a shard of rows without ids: each line's id is its row's index in the dataset, and its
// row_digest checks that the dataset given is the one scored.
TEST_F(Shard, SelectTakesAShardsRowsFromTheDatasetByIndex) {
  const std::string rows = dir_ + "/unnamed.jsonl";
  {
    std::ofstream out(rows);
    for (int i = 0; i < 9; ++i)
      out << nlohmann::json{{"prompt", "Tell me about " + std::to_string(i) + "."}, {"response", std::string(size_t(i + 1), 'x')}}.dump()
          << "\n";
  }
  const std::string judged = dir_ + "/unnamed.shard1.jsonl";
  const RunResult shard = run_arbiter("judge -q -m " + kShared + "/models/stories260K/stories260K.gguf -i " + rows +
                                      " -o " + judged + " --shard 1/3");
  ASSERT_EQ(shard.exit_code, 0) << shard.out;
  const RunResult selected = run_arbiter("select -q -i " + judged + " --by lager --top 100% --data " + rows + " -o " + dir_ +
                                         "/selected.jsonl");
  ASSERT_EQ(selected.exit_code, 0) << selected.out;
  const std::vector<std::string> data = file_lines(rows);
  std::set<std::string> expected{data[1], data[4], data[7]};  // rows 1, 4, 7: shard 1 of 3
  const std::vector<std::string> picked = file_lines(dir_ + "/selected.jsonl");
  ASSERT_EQ(picked.size(), 3u);
  for (const std::string& line : picked)
    EXPECT_TRUE(expected.count(nlohmann::json::parse(line).dump())) << line;

  // Another dataset in its place is refused, naming the row.
  const std::string other = dir_ + "/other-unnamed.jsonl";
  {
    std::ofstream out(other);
    for (int i = 0; i < 9; ++i) out << nlohmann::json{{"prompt", "Something else " + std::to_string(i)}, {"response", "y"}}.dump() << "\n";
  }
  const RunResult wrong = run_arbiter("select -q -i " + judged + " --by lager --top 1 --data " + other + " -o " + dir_ +
                                      "/wrong.jsonl");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.out.find("is not the row " + judged + ":"), std::string::npos) << wrong.out;
}

TEST_F(Shard, AShardThatIsNotKOfNIsAnError) {
  for (const std::string bad : {"3/3", "1", "a/4", "0/0", "1/4/2", "1/"}) {
    const RunResult run = run_arbiter(common_ + " -o " + dir_ + "/bad.jsonl --shard " + bad);
    EXPECT_NE(run.exit_code, 0) << bad;
    EXPECT_NE(run.out.find("--shard '" + bad + "'"), std::string::npos) << run.out;
  }
}

}  // namespace
}  // namespace arbiter
