// Options that cannot mean what they say are refused before any work, naming the option; a run that fails
// on its first row leaves no output file where there was none.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

TEST(OptionChecks, ImpossibleValuesAreRefusedByName) {
  const std::string dir = temp_dir("option-checks");
  const std::string qwen3 = kShared + "/fixtures/tokenizers/qwen3";
  write_text(dir + "/rows.jsonl", R"({"id": "a", "prompt": "hi", "response": "hello"})" "\n");
  const std::pair<std::string, std::string> cases[] = {
      {"create-model --vocab 0 -o " + dir + "/m", "--vocab must be a positive number of tokens, not 0"},
      {"create-model --vocab -5 -o " + dir + "/m", "--vocab must be a positive number of tokens, not -5"},
      {"create-model --vocab 100 --tokenizer " + qwen3 + " -o " + dir + "/m", "--vocab 100 is smaller than the tokenizer's"},
      {"create-model --head seqcls --labels a,a,b -o " + dir + "/m", "'a' is named twice"},
      {"create-model --head seqcls --labels a,,b -o " + dir + "/m", "an empty name"},
      {"create-model --labels a,b -o " + dir + "/m", "give --head seqcls"},
      {"bench --shape tiny --warmup -1", "--warmup"},
      {"forward -m " + kShared + "/fixtures/hf/llama --tokens 1,2 --add-special -o " + dir + "/f.safetensors", "excludes"},
      {"bench --shape tiny --batch 1000000000 --tokens 100000", "GiB of activations"},
      {"bench -m " + kShared + "/fixtures/hf/llama --head classifier", "--head describes the random model"},
      // Qwen's tokenizer writes 10 as 1 then 0: the error says which scales work there.
      {"judge -m " + kShared + "/fixtures/hf/qwen2 -i " + dir + "/rows.jsonl -o " + dir + "/j.jsonl --score-tokens 1..10",
       "writes numbers digit by digit"},
      // A judge's prompt is never cut: asking for a cut is refused rather than ignored.
      {"judge -m " + kShared + "/fixtures/hf/qwen2 -i " + dir + "/rows.jsonl -o " + dir + "/j.jsonl --truncation right",
       "a judge's prompts are never cut"},
      {"serve --mode judge -m " + kShared + "/fixtures/hf/qwen2 --port 0 --truncation prompt-left",
       "a judge's prompts are never cut"},
      // A deadline this far off would overflow the clock into the past: every request would time out at once.
      {"serve -m " + kShared + "/fixtures/hf/qwen2-seqcls1 --port 0 --timeout-ms 10000000000000", "--timeout-ms"},
      {"serve -m " + kShared + "/fixtures/hf/qwen2-seqcls1 --port 0 --header-timeout-ms 0", "--header-timeout-ms"},
      // An empty value would run as if not given (an empty -o wrote nothing and reported success).
      {"score -m " + kShared + "/fixtures/hf/qwen2-seqcls1 -i " + dir + "/rows.jsonl -o ''", "--output: must not be empty"},
      {"score -m " + kShared + "/fixtures/hf/qwen2-seqcls1 -i " + dir + "/rows.jsonl -o " + dir + "/s.jsonl --shard ''",
       "--shard: must not be empty"},
      // Labels beside token ids would be dropped: the scores would be on the ids' 1..K scale.
      {"judge -m " + kShared + "/fixtures/hf/qwen2 -i " + dir + "/rows.jsonl -o " + dir + "/j.jsonl --score-tokens 0..4 "
       "--score-token-ids 1,2,3,4,5", "--score-tokens excludes --score-token-ids"},
      {"features -m " + kShared + "/fixtures/hf/qwen2 -i " + dir + "/rows.jsonl -o " + dir + "/f.safetensors --step-answer x",
       "--step-answer: the answer to each step is written with --step-turns"},
      // NaN passes every range comparison; a zero or negative count is no count (CLI11's own message printed
      // the whole double range).
      {"train lager --input " + dir + "/rows.jsonl --human-field h --out " + dir + "/w.json --validation-fraction nan",
       "--validation-fraction: must be a number in [0, 0.95], got 'nan'"},
      {"train lager --input " + dir + "/rows.jsonl --human-field h --out " + dir + "/w.json --lr inf", "--lr: must be a number > 0"},
      {"train head --features " + dir + "/f.safetensors --out " + dir + "/h.safetensors --epochs 0",
       "--epochs: must be a number > 0, got '0'"},
      {"train head --features " + dir + "/f.safetensors --out " + dir + "/h.safetensors --lr 0", "--lr: must be a number > 0"},
      {"train head --features " + dir + "/f.safetensors --out " + dir + "/h.safetensors --backbone " + kShared + "/fixtures/hf/llama",
       "--backbone is the model an --export-hf-dir directory is built on"},
      {"serve -m " + kShared + "/fixtures/hf/qwen2-seqcls1 --port 0 --threads -1", "--threads"},
      // A stall guard of 0 never fires: a stalled server would hang the download.
      {"pull http://127.0.0.1:9/model.gguf --stall-timeout 0", "--stall-timeout: must be a number > 0"},
      {"pull http://127.0.0.1:9/model.gguf --attempts 0", "--attempts"},
      {"pull http://127.0.0.1:9/model.gguf --sha256 ''", "--sha256: must not be empty"},
  };
  for (const auto& [command, message] : cases) {
    const RunResult r = run_arbiter(command);
    EXPECT_NE(r.exit_code, 0) << command << "\n" << r.out;
    EXPECT_NE(r.out.find(message), std::string::npos) << command << "\n" << r.out;
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/m")) << "no model written by a refused command";
}

// A super-block type at a shape whose rows its blocks do not divide runs with llama.cpp's fallback for
// those matrices, and says so beside the figure.
TEST(OptionChecks, BenchOfASuperBlockTypeFallsBackWhereRowsDoNotFit) {
  const RunResult r = run_arbiter("-t 1 bench --shape tiny --type q4_K --tokens 8 --repeat 1 --warmup 0");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Q4_K (random weights, Q5_0 where rows of 64, 192 do not fit Q4_K's blocks)"), std::string::npos)
      << r.out;
  const RunResult fits = run_arbiter("-t 1 bench --shape small --type q4_K --tokens 8 --repeat 1 --warmup 0");
  ASSERT_EQ(fits.exit_code, 0) << fits.out;
  EXPECT_NE(fits.out.find("Q4_K (random weights)"), std::string::npos) << fits.out;
}

// A model made for token ids (no tokenizer) runs rows of ids in score, judge and features, as serve and
// forward do; a row of text is an error naming why, and a row longer than --max-length (by default the
// model's context) is cut as --truncation says, as it is with a tokenizer.
TEST(OptionChecks, AModelWithoutATokenizerRunsRowsOfTokenIds) {
  const std::string dir = temp_dir("no-tokenizer");
  ASSERT_EQ(run_arbiter("-q create-model -o " + dir + "/rm --head seqcls --labels a,b --arch qwen3").exit_code, 0);
  ASSERT_EQ(run_arbiter("-q create-model -o " + dir + "/lm --arch qwen3").exit_code, 0);
  write_text(dir + "/ids.jsonl", R"({"id": "x", "input_ids": [1, 2, 3, 4]})" "\n");
  write_text(dir + "/text.jsonl", R"({"id": "t", "prompt": "hi", "response": "hello"})" "\n");
  std::string long_row = R"({"id": "long", "input_ids": [1)";
  for (int i = 0; i < 5000; ++i) long_row += ", 2";
  write_text(dir + "/long.jsonl", long_row + "]}\n");
  const RunResult scored = run_arbiter("-t 1 score -m " + dir + "/rm -i " + dir + "/ids.jsonl -o " + dir + "/s.jsonl");
  ASSERT_EQ(scored.exit_code, 0) << scored.out;
  EXPECT_NE(scored.out.find("has no tokenizer"), std::string::npos) << scored.out;
  EXPECT_TRUE(read_jsonl(dir + "/s.jsonl").at(0).contains("attributes"));
  const RunResult judged = run_arbiter("-q -t 1 judge -m " + dir + "/lm -i " + dir + "/ids.jsonl -o " + dir +
                                       "/j.jsonl --score-token-ids 5,6,7");
  ASSERT_EQ(judged.exit_code, 0) << judged.out;
  EXPECT_TRUE(read_jsonl(dir + "/j.jsonl").at(0).contains("lager"));
  const RunResult features = run_arbiter("-q -t 1 features -m " + dir + "/lm -i " + dir + "/ids.jsonl -o " + dir + "/f.safetensors");
  ASSERT_EQ(features.exit_code, 0) << features.out;
  const RunResult text = run_arbiter("-q -t 1 score -m " + dir + "/rm -i " + dir + "/text.jsonl -o " + dir + "/t.jsonl");
  EXPECT_NE(text.exit_code, 0);
  EXPECT_NE(text.out.find("has no tokenizer (tokenizer.json or tokenizer.model) to format this row's text"),
            std::string::npos) << text.out;
  const RunResult too_long = run_arbiter("-q -t 1 score -m " + dir + "/rm -i " + dir + "/long.jsonl -o " + dir + "/l.jsonl");
  ASSERT_EQ(too_long.exit_code, 0) << too_long.out;
  EXPECT_EQ(read_jsonl(dir + "/l.jsonl").at(0).value("truncated_tokens", -1), 5001 - 4096);
  const RunResult cut = run_arbiter("-q -t 1 score -m " + dir + "/rm -i " + dir + "/ids.jsonl -o " + dir +
                                    "/c.jsonl --max-length 3 --truncation right");
  ASSERT_EQ(cut.exit_code, 0) << cut.out;
  EXPECT_EQ(read_jsonl(dir + "/c.jsonl").at(0).value("truncated_tokens", -1), 1);
  const RunResult refused = run_arbiter("-q -t 1 score -m " + dir + "/rm -i " + dir + "/ids.jsonl -o " + dir +
                                        "/e.jsonl --max-length 3 --truncation error");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.out.find("input_ids of 4 tokens, more than the maximum length 3 (--max-length)"), std::string::npos)
      << refused.out;
  const RunResult steps = run_arbiter("-q -t 1 features -m " + dir + "/lm -i " + dir + "/ids.jsonl -o " + dir +
                                      "/g.safetensors --step-tag x");
  EXPECT_NE(steps.exit_code, 0);
  EXPECT_NE(steps.out.find("give it by id (--step-tag-id)"), std::string::npos) << steps.out;
}

// pull puts a file at -o by renaming it there: a device, FIFO or socket would be replaced by the file
// (as root, /dev/full and /dev/stdout themselves), so it is refused before anything is fetched.
TEST(OptionChecks, PullRefusesToReplaceADeviceOrFifo) {
  const std::string dir = temp_dir("pull-stream");
  const std::string fifo = dir + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const RunResult r = run_arbiter("pull http://127.0.0.1:9/model.gguf --cache-dir " + dir + "/cache -o " + fifo);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("-o " + fifo + " is a device, FIFO or socket, not a file"), std::string::npos) << r.out;
  struct stat info {};
  ASSERT_EQ(::stat(fifo.c_str(), &info), 0);
  EXPECT_TRUE(S_ISFIFO(info.st_mode));
  const RunResult to_dir = run_arbiter("pull http://127.0.0.1:9/model.gguf --cache-dir " + dir + "/cache -o " + dir);
  EXPECT_NE(to_dir.exit_code, 0);
  EXPECT_NE(to_dir.out.find("is a directory, not a file"), std::string::npos) << to_dir.out;
}

// An output the run cannot vouch for is left as it was: a fresh run whose record cannot be written (a
// folder in its place) keeps the old output; a resume of a file that is no run's output (a wrong -o)
// is refused without cutting its incomplete last line.
TEST(OptionChecks, AnOutputIsNotEmptiedOrCutByARunThatIsRefused) {
  const std::string dir = temp_dir("output-kept");
  const std::string model = kShared + "/fixtures/hf/qwen2-seqcls1";
  write_text(dir + "/rows.jsonl", R"({"id": "a", "prompt": "hi", "response": "hello"})" "\n");
  write_text(dir + "/out.jsonl", "{\"id\": \"old\"}\n");
  std::filesystem::create_directory(dir + "/out.run.json");
  const RunResult fresh = run_arbiter("-q score -m " + model + " -i " + dir + "/rows.jsonl -o " + dir + "/out.jsonl");
  EXPECT_NE(fresh.exit_code, 0) << fresh.out;
  EXPECT_EQ(read_text(dir + "/out.jsonl"), "{\"id\": \"old\"}\n");

  const std::string not_jsonl = "a,b,c\n1,2,3\n4,5";
  write_text(dir + "/table.csv", not_jsonl);
  const RunResult resumed = run_arbiter("-q score -m " + model + " -i " + dir + "/rows.jsonl -o " + dir + "/table.csv --resume");
  EXPECT_NE(resumed.exit_code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("table.csv:1"), std::string::npos) << resumed.out;
  EXPECT_EQ(read_text(dir + "/table.csv"), not_jsonl);
  // A file without a single newline is all "incomplete last line": cut only if it begins as a run's line.
  const std::string binary = std::string("GGUF\x03\x00\x00\x00", 8) + "weights";
  write_text(dir + "/model.gguf", binary);
  const RunResult on_model = run_arbiter("-q score -m " + model + " -i " + dir + "/rows.jsonl -o " + dir + "/model.gguf --resume");
  EXPECT_NE(on_model.exit_code, 0) << on_model.out;
  EXPECT_NE(on_model.out.find("model.gguf:1: an incomplete last line that is no run's"), std::string::npos) << on_model.out;
  EXPECT_EQ(read_text(dir + "/model.gguf"), binary);
}

TEST(OptionChecks, AFailedFirstRowLeavesNoOutput) {
  const std::string dir = temp_dir("first-row-fails");
  write_text(dir + "/rows.jsonl", R"({"id": "a", "prompt": "hi"})" "\n");
  const std::string out = dir + "/out.jsonl";
  const RunResult r = run_arbiter("score -m " + kShared + "/fixtures/hf/qwen2-seqcls1 -i " + dir + "/rows.jsonl -o " + out);
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_FALSE(std::filesystem::exists(out)) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.run.json")) << r.out;
  // An output that was there is kept as it was.
  write_text(out, "{\"id\": \"old\"}\n");
  const RunResult again = run_arbiter("score -m " + kShared + "/fixtures/hf/qwen2-seqcls1 -i " + dir + "/rows.jsonl -o " + out);
  EXPECT_NE(again.exit_code, 0) << again.out;
  EXPECT_EQ(read_text(out), "{\"id\": \"old\"}\n");
}

}  // namespace
}  // namespace arbiter
