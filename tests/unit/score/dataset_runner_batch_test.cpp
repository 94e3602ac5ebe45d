// How run_dataset sizes its forward passes: the tokens the caller asks for, else the backend's preferred
// number, with chunks of rows grown to fill such passes (a GPU's 16k-token passes would otherwise be cut
// short by 64-row chunks of short rows).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "../../support/scratch_root.h"
#include "model/model.h"
#include "score/dataset_runner.h"

namespace arbiter {
namespace {

// Counts the tokens of each forward pass; every sequence's output is empty.
class CountingBackend final : public Backend {
 public:
  explicit CountingBackend(int64_t preferred) : preferred_(preferred) {}
  std::string name() const override { return "counting"; }
  const Model& model() const override { return model_; }
  int64_t preferred_batch_tokens() const override { return preferred_; }
  Result<std::vector<SequenceOutput>> forward(const std::vector<SequenceInput>& sequences, const ForwardOptions&) override {
    int64_t tokens = 0;
    for (const SequenceInput& s : sequences) tokens += int64_t(s.tokens.size());
    pass_tokens.push_back(tokens);
    return std::vector<SequenceOutput>(sequences.size());
  }
  std::vector<int64_t> pass_tokens;

 private:
  int64_t preferred_;
  Model model_;
};

// One sequence of 100 tokens per row.
class HundredTokenJob final : public RowJob {
 public:
  ForwardOptions forward_options() const override { return {}; }
  Result<std::vector<SequenceInput>> prepare(const data::Example&) override {
    return std::vector<SequenceInput>{SequenceInput{std::vector<int32_t>(100, 1), {}}};
  }
  Result<nlohmann::json> finish(const data::Example& example, std::vector<SequenceOutput>&) override {
    return nlohmann::json{{"id", example.id}};
  }
};

std::string write_rows(int n) {
  const std::string path = (arbiter::test::scratch_root() / "batch_rows.jsonl").string();
  std::ofstream out(path);
  for (int i = 0; i < n; ++i) out << R"({"prompt": "p", "response": "r"})" << "\n";
  return path;
}

RunOptions options_for(const std::string& input, int64_t max_batch_tokens) {
  RunOptions o;
  o.input = input;
  o.max_batch_tokens = max_batch_tokens;
  o.progress_label = "test";
  return o;
}

int64_t largest(const std::vector<int64_t>& v) { return *std::max_element(v.begin(), v.end()); }

TEST(DatasetRunnerBatches, TheBackendsPreferredSizeUnlessAsked) {
  const std::string input = write_rows(600);
  HundredTokenJob job;

  CountingBackend cpu_like(4096);
  ASSERT_TRUE(run_dataset(cpu_like, job, options_for(input, 0)).is_ok());
  EXPECT_EQ(largest(cpu_like.pass_tokens), 4000);  // 40 rows of 100 tokens

  // A backend that wants 16k-token passes gets them: chunks grow from 64 rows to 256.
  CountingBackend gpu_like(16384);
  ASSERT_TRUE(run_dataset(gpu_like, job, options_for(input, 0)).is_ok());
  EXPECT_EQ(largest(gpu_like.pass_tokens), 16300);
  EXPECT_GT(largest(gpu_like.pass_tokens), 64 * 100);

  // What the caller asks for wins.
  CountingBackend asked(16384);
  ASSERT_TRUE(run_dataset(asked, job, options_for(input, 500)).is_ok());
  EXPECT_EQ(largest(asked.pass_tokens), 500);
  int64_t total = 0;
  for (int64_t t : asked.pass_tokens) total += t;
  EXPECT_EQ(total, 600 * 100);
}

}  // namespace
}  // namespace arbiter
