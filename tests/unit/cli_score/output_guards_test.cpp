// What a command writes never replaces what it reads, however the two are named: an input pattern's files,
// the model's own files, the run record beside the output. And options that would give scores of no
// meaning (a NaN weight, one output weighed twice, outputs sharing a name) are refused or kept apart.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sys/resource.h>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

class OutputGuards : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(temp_dir("output-guards"));
    auto made = run_arbiter("-q create-model --arch qwen2 --head seqcls --labels a,b,c --tokenizer " + kShared +
                            "/fixtures/tokenizers/qwen3 --out " + *dir_ + "/rm");
    setup_.expect(made.exit_code == 0, made.out);
    // Two outputs named alike, as some published checkpoints have them (create-model refuses to write one).
    const std::string config_path = *dir_ + "/rm/config.json";
    nlohmann::json config = nlohmann::json::parse(read_text(config_path), nullptr, false);
    setup_.expect(config.is_object(), config_path + " does not parse");
    if (config.is_object()) {
      config["id2label"] = {{"0", "a"}, {"1", "b"}, {"2", "a"}};
      config["label2id"] = {{"a", 2}, {"b", 1}};
      write_text(config_path, config.dump(2));
    }
    std::filesystem::create_directories(*dir_ + "/data");
    std::ofstream(*dir_ + "/data/part-0.jsonl") << R"({"id": "r", "prompt": "Hi", "response": "Hello"})" "\n";
  }
  static void TearDownTestSuite() { delete dir_; }
  void SetUp() override { setup_.check(); }
  static std::string* dir_;
  inline static SuiteSetup setup_;
};
std::string* OutputGuards::dir_ = nullptr;

TEST_F(OutputGuards, AnInputPatternsFilesAreNotOverwritten) {
  const std::string part = *dir_ + "/data/part-0.jsonl";
  const std::string before = read_text(part);
  for (const char* command : {"score", "features"}) {
    const RunResult r = run_arbiter(std::string(command) + " -q -m " + *dir_ + "/rm -i '" + *dir_ + "/data/part-*.jsonl' -o " + part);
    EXPECT_NE(r.exit_code, 0) << command << ": " << r.out;
    EXPECT_NE(r.out.find("is the --input file"), std::string::npos) << r.out;
    EXPECT_EQ(read_text(part), before) << command;
  }
}

TEST_F(OutputGuards, TheModelsFilesAreNotOverwritten) {
  const std::string weights = *dir_ + "/rm/model.safetensors";
  const std::string before = read_text(weights);
  const RunResult forward = run_arbiter("forward -m " + *dir_ + "/rm --tokens 1,2 -o " + weights);
  EXPECT_NE(forward.exit_code, 0) << forward.out;
  EXPECT_NE(forward.out.find("is a file of the model"), std::string::npos) << forward.out;
  const RunResult score = run_arbiter("score -q -m " + *dir_ + "/rm -i " + *dir_ + "/data/part-0.jsonl -o " + *dir_ + "/rm/config.json");
  EXPECT_NE(score.exit_code, 0) << score.out;
  EXPECT_NE(score.out.find("is a file of the model"), std::string::npos) << score.out;
  EXPECT_EQ(read_text(weights), before);
  EXPECT_EQ(run_arbiter("info -m " + *dir_ + "/rm").exit_code, 0);
  // Another file in the model's folder is not the model's: an output written there before is written again.
  const std::string beside = "score -q -m " + *dir_ + "/rm -i " + *dir_ + "/data/part-0.jsonl -o " + *dir_ + "/rm/scores.jsonl";
  ASSERT_EQ(run_arbiter(beside).exit_code, 0);
  EXPECT_EQ(run_arbiter(beside).exit_code, 0);
}

// The run record is OUTPUT less .jsonl, plus .run.json: an input of that name is not replaced by it.
TEST_F(OutputGuards, TheRunRecordIsNotWrittenOverAnInput) {
  const std::string input = *dir_ + "/train.run.json";
  std::ofstream(input) << R"({"id": "r", "prompt": "Hi", "response": "Hello"})" "\n";
  const std::string before = read_text(input);
  const RunResult r = run_arbiter("score -q -m " + *dir_ + "/rm -i " + input + " -o " + *dir_ + "/train.jsonl");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("where the run record of --output"), std::string::npos) << r.out;
  EXPECT_EQ(read_text(input), before);
}

TEST_F(OutputGuards, AttributeWeightsOfNoMeaningAreRefused) {
  const std::string score = "score -q -m " + *dir_ + "/rm -i " + *dir_ + "/data/part-0.jsonl -o " + *dir_ + "/weighted.jsonl ";
  const std::pair<std::string, std::string> cases[] = {
      {"--attribute-weights output_0=nan", "'nan' is not a finite number"},
      {"--attribute-weights output_0=inf", "'inf' is not a finite number"},
      {"--attribute-weights output_0=1,output_0=2", "'output_0' is weighed twice"},
      {"--attribute-weights ''", "must not be empty"},
  };
  for (const auto& [option, message] : cases) {
    const RunResult r = run_arbiter(score + option);
    EXPECT_NE(r.exit_code, 0) << option;
    EXPECT_NE(r.out.find(message), std::string::npos) << option << "\n" << r.out;
  }
}

// id2label names two outputs alike (a, b, a): they would merge in `attributes`. They are numbered instead,
// each with its own value.
TEST_F(OutputGuards, OutputsSharingANameAreNumbered) {
  const RunResult r = run_arbiter("score -q -m " + *dir_ + "/rm -i " + *dir_ + "/data/part-0.jsonl -o " + *dir_ + "/named.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto lines = read_jsonl(*dir_ + "/named.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_EQ(lines[0]["attributes"].size(), 3u) << lines[0].dump();
  EXPECT_TRUE(lines[0]["attributes"].contains("output_2")) << lines[0].dump();
}

// -1 and L name one layer: asked for both, it is written once (the help's own example on a 2-layer model).
TEST_F(OutputGuards, ALayerNamedTwiceIsWrittenOnce) {
  const RunResult r = run_arbiter("forward -m " + *dir_ + "/rm --tokens 1,2 --layers 0,2,-1 -o " + *dir_ + "/layers.safetensors");
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

// A file-size limit (ulimit -f, a batch scheduler's): the write fails and the error names the file, where
// the default action of SIGXFSZ would kill the run without a word.
TEST(FileSizeLimit, IsAnErrorNamingTheFile) {
  const std::string dir = temp_dir("file-size-limit");
  {
    std::ofstream rows(dir + "/scored.jsonl");
    for (int i = 0; i < 2000; ++i) rows << nlohmann::json{{"id", i}, {"score", i % 7}, {"text", std::string(50, 'x')}}.dump() << "\n";
  }
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &before), 0);
  rlimit limited = before;
  limited.rlim_cur = 20 * 1024;  // bytes; the selected half is about 80 KB
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  const RunResult r = run_arbiter("select -i " + dir + "/scored.jsonl --by score --top 50% -o " + dir + "/selected.jsonl");
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &before), 0);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("selected.jsonl"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("File too large"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/selected.jsonl"));
}

}  // namespace
}  // namespace arbiter
