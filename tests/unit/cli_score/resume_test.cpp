// A judge run killed mid-way and resumed must end with exactly the file an uninterrupted run writes.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "core/json_text.h"
#include "runtime/cpu/matmul.h"
#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

std::string write_rows(const std::string& dir, int n) {
  const std::string path = dir + "/rows.jsonl";
  std::ofstream out(path);
  for (int i = 0; i < n; ++i) {
    nlohmann::json row = {{"prompt", "Tell me a story about the number " + std::to_string(i) + "."},
                          {"response", "Once upon a time there was a little " + std::string(size_t(i % 7 + 1), 'x') +
                                           " who liked number " + std::to_string(i) + "."},
                          {"helpfulness", i % 5}, {"correctness", (i * 3) % 5}, {"coherence", 4}, {"complexity", 1},
                          {"verbosity", i % 3}};
    out << row.dump() << "\n";
  }
  return path;
}

size_t count_lines(const std::string& path) {
  std::ifstream in(path);
  return size_t(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
}

TEST(Resume, KilledThenResumedEqualsUninterrupted) {
  const std::string model = kShared + "/models/stories260K/stories260K.gguf";
  const std::string dir = temp_dir("resume");
  const int rows = 600;
  const std::string input = write_rows(dir, rows);
  const std::string common = " -m " + model + " -i " + input + " --per-layer --batch-tokens 256";

  auto full = run_arbiter("judge -q" + common + " -o " + dir + "/full.jsonl");
  ASSERT_EQ(full.exit_code, 0) << full.out;
  ASSERT_EQ(count_lines(dir + "/full.jsonl"), size_t(rows));

  // Start the same run, kill it hard once some rows are written, then resume.
  const std::string partial = dir + "/partial.jsonl";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The binary itself, not a shell around it: waitpid below then returns once it is gone, and with it
    // its lock on the output, which the resumed run would otherwise find held.
    const int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
    std::vector<std::string> args = {kBinary, "judge", "-q", "-m", model, "-i", input, "--per-layer", "--batch-tokens",
                                      "256", "-o", partial};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(kBinary.c_str(), argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (count_lines(partial) < 100 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
  // Only this run's process: its output path is this test's own (a bare 'partial.jsonl' also matched the
  // other resume test's run when ctest ran them side by side).
  system(("pkill -KILL -f '" + partial + "' >/dev/null 2>&1").c_str());
  int status = 0;
  waitpid(pid, &status, 0);
  const size_t before = count_lines(partial);
  ASSERT_GE(before, 100u);
  if (before >= size_t(rows)) GTEST_SKIP() << "the run finished before it could be killed";

  auto resumed = run_arbiter("judge -q" + common + " -o " + partial + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  EXPECT_EQ(read_text(partial), read_text(dir + "/full.jsonl")) << "killed after " << before << " rows";
}

TEST(Resume, TruncatedLastLineIsRewritten) {
  const std::string model = kShared + "/models/stories260K/stories260K.gguf";
  const std::string dir = temp_dir("resume-cut");
  const std::string input = write_rows(dir, 40);
  const std::string common = " -m " + model + " -i " + input;
  ASSERT_EQ(run_arbiter("judge -q" + common + " -o " + dir + "/full.jsonl").exit_code, 0);
  const std::string full = read_text(dir + "/full.jsonl");
  // A crash in the middle of writing line 21: 20 whole lines and half of the next.
  size_t cut = 0;
  for (int i = 0; i < 20; ++i) cut = full.find('\n', cut) + 1;
  const size_t next_end = full.find('\n', cut);
  std::ofstream(dir + "/partial.jsonl", std::ios::binary) << full.substr(0, cut + (next_end - cut) / 2);
  auto r = run_arbiter("judge -q" + common + " -o " + dir + "/partial.jsonl --resume");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(read_text(dir + "/partial.jsonl"), full);
}

// The lines a resumed output holds must be the rows its input starts with: an output begun on another
// dataset, or on another shard, is refused (naming its line and the input's row) and left as it was.
TEST(Resume, AnOutputBegunOnOtherRowsIsRefused) {
  const std::string model = kShared + "/models/stories260K/stories260K.gguf";
  const std::string dir = temp_dir("resume-other");
  std::ofstream(dir + "/named.jsonl") << R"({"id": "a", "prompt": "p", "response": "r", "helpfulness": 1})" "\n"
                                      << R"({"id": "b", "prompt": "q", "response": "s", "helpfulness": 2})" "\n"
                                      << R"({"id": "c", "prompt": "t", "response": "u", "helpfulness": 3})" "\n";
  std::ofstream(dir + "/other.jsonl") << R"({"id": "a", "prompt": "p", "response": "r", "helpfulness": 1})" "\n"
                                      << R"({"id": "x", "prompt": "q", "response": "s", "helpfulness": 2})" "\n"
                                      << R"({"id": "c", "prompt": "t", "response": "u", "helpfulness": 3})" "\n";
  const std::string common = "judge -q -m " + model + " --schema generic --field labels=helpfulness";
  const std::string out = dir + "/out.jsonl";
  ASSERT_EQ(run_arbiter(common + " -i " + dir + "/named.jsonl -o " + out + " --limit 2").exit_code, 0);
  const std::string begun = read_text(out);

  const RunResult other = run_arbiter(common + " -i " + dir + "/other.jsonl -o " + out + " --resume");
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.out.find("out.jsonl:2 holds row 'b', where the input has " + dir + "/other.jsonl:2 (row x)"),
            std::string::npos)
      << other.out;
  EXPECT_EQ(read_text(out), begun);

  // Shard 1 of 2 starts with row b, not a.
  const RunResult shard = run_arbiter(common + " -i " + dir + "/named.jsonl -o " + out + " --resume --shard 1/2");
  EXPECT_NE(shard.exit_code, 0);
  EXPECT_NE(shard.out.find("out.jsonl:1 holds row 'a'"), std::string::npos) << shard.out;
  EXPECT_EQ(read_text(out), begun);

  // The input it was begun on resumes (the first run had --limit 2, this one none).
  const RunResult same = run_arbiter(common + " -i " + dir + "/named.jsonl -o " + out + " --resume");
  ASSERT_EQ(same.exit_code, 0) << same.out;
  EXPECT_EQ(count_lines(out), 3u);
}

// Rows without ids are known by their index, which another dataset shares: their lines carry a digest of
// the row, and a resume over other content (an edited file, another id-less dataset) is refused.
TEST(Resume, RowsWithoutIdsAreToldApartByTheirDigest) {
  const std::string model = kShared + "/models/stories260K/stories260K.gguf";
  const std::string dir = temp_dir("resume-idless");
  std::ofstream(dir + "/rows.jsonl") << R"({"prompt": "p", "response": "r", "helpfulness": 1})" "\n"
                                     << R"({"prompt": "q", "response": "s", "helpfulness": 2})" "\n"
                                     << R"({"prompt": "t", "response": "u", "helpfulness": 3})" "\n";
  std::ofstream(dir + "/edited.jsonl") << R"({"prompt": "p", "response": "r", "helpfulness": 1})" "\n"
                                       << R"({"prompt": "q", "response": "s!", "helpfulness": 2})" "\n"
                                       << R"({"prompt": "t", "response": "u", "helpfulness": 3})" "\n";
  std::ofstream(dir + "/named.jsonl") << R"({"id": "a", "prompt": "p", "response": "r", "helpfulness": 1})" "\n";
  const std::string common = "judge -q -m " + model + " --schema generic --field labels=helpfulness";
  const std::string out = dir + "/out.jsonl";
  ASSERT_EQ(run_arbiter(common + " -i " + dir + "/rows.jsonl -o " + out + " --limit 2").exit_code, 0);
  const std::string begun = read_text(out);
  const auto lines = read_jsonl(out);
  ASSERT_EQ(lines.size(), 2u);
  ASSERT_TRUE(lines[0].contains("row_digest"));
  EXPECT_NE(lines[0]["row_digest"], lines[1]["row_digest"]);

  const RunResult edited = run_arbiter(common + " -i " + dir + "/edited.jsonl -o " + out + " --resume");
  EXPECT_NE(edited.exit_code, 0);
  EXPECT_NE(edited.out.find("out.jsonl:2 was written for another row 1 than " + dir + "/edited.jsonl:2 (row 1)"),
            std::string::npos)
      << edited.out;
  EXPECT_EQ(read_text(out), begun);

  const RunResult same = run_arbiter(common + " -i " + dir + "/rows.jsonl -o " + out + " --resume");
  ASSERT_EQ(same.exit_code, 0) << same.out;
  EXPECT_EQ(count_lines(out), 3u);

  // A row with an id of its own needs no digest: the id names it.
  ASSERT_EQ(run_arbiter(common + " -i " + dir + "/named.jsonl -o " + dir + "/named.out.jsonl").exit_code, 0);
  EXPECT_FALSE(read_jsonl(dir + "/named.out.jsonl")[0].contains("row_digest"));
}

// Beside its output a run leaves its record (the model's fingerprint and the options that decide the lines);
// a resume by another model or with other such options is refused, one that only runs differently is not.
TEST(Resume, TheRunRecordRefusesAnotherModelOrOtherSettings) {
  const std::string dir = temp_dir("resume-record");
  std::ofstream(dir + "/rows.jsonl") << R"({"id": "a", "prompt": "p", "response": "r"})" "\n"
                                     << R"({"id": "b", "prompt": "q", "response": "s"})" "\n"
                                     << R"({"id": "c", "prompt": "t", "response": "u"})" "\n";
  const std::string out = dir + "/scores.jsonl", record = dir + "/scores.run.json";
  const std::string rows = " -i " + dir + "/rows.jsonl -o " + out;
  const std::string qwen = " -m " + kShared + "/fixtures/hf/qwen2-seqcls1", llama = " -m " + kShared + "/fixtures/hf/llama-seqcls1";
  ASSERT_EQ(run_arbiter("score -q" + qwen + rows + " --limit 1 --max-length 64").exit_code, 0);
  const nlohmann::json begun_record = nlohmann::json::parse(read_text(record));
  EXPECT_EQ(begun_record["command"], "score");
  EXPECT_EQ(begun_record["settings"], (nlohmann::json{{"--max-length", "64"}, {"text formatting revision", "2"}}));
  EXPECT_EQ(begun_record["model"], kShared + "/fixtures/hf/qwen2-seqcls1");
  // `info` shows the same fingerprint, so a user can tell which model a record names.
  const RunResult info = run_arbiter("info --json" + qwen);
  ASSERT_EQ(info.exit_code, 0) << info.out;
  EXPECT_EQ(nlohmann::json::parse(info.out.substr(info.out.find('{')))["fingerprint"], begun_record["model_fingerprint"]);
  // And `info --data` of the scored file says what scored it.
  const RunResult scored_info = run_arbiter("info --data " + out);
  ASSERT_EQ(scored_info.exit_code, 0) << scored_info.out;
  EXPECT_NE(scored_info.out.find("scored_by                score: " + kShared + "/fixtures/hf/qwen2-seqcls1 (fingerprint " +
                                 begun_record["model_fingerprint"].get<std::string>() + "); --max-length 64"),
            std::string::npos)
      << scored_info.out;
  const RunResult scored_json = run_arbiter("info --json --data " + out);
  ASSERT_EQ(scored_json.exit_code, 0) << scored_json.out;
  EXPECT_EQ(nlohmann::json::parse(scored_json.out.substr(scored_json.out.find('{')))["run_record"], begun_record);
  const std::string begun = read_text(out);

  const RunResult other_model = run_arbiter("score -q" + llama + rows + " --resume --max-length 64");
  EXPECT_NE(other_model.exit_code, 0);
  EXPECT_NE(other_model.out.find("scores.jsonl was begun by another run than this one"), std::string::npos) << other_model.out;
  EXPECT_NE(other_model.out.find("model: other weights"), std::string::npos) << other_model.out;
  const RunResult other_setting = run_arbiter("score -q" + qwen + rows + " --resume --max-length 32");
  EXPECT_NE(other_setting.exit_code, 0);
  EXPECT_NE(other_setting.out.find("--max-length: '64' then, '32' now"), std::string::npos) << other_setting.out;
  EXPECT_EQ(read_text(out), begun);
  EXPECT_EQ(nlohmann::json::parse(read_text(record)), begun_record);

  // Batch size and row limits change how the run goes, not what it writes; other arithmetic is a warning.
  EXPECT_EQ(begun_record["ran_on"]["device"], "cpu");
  // Without AVX512-BF16 both runs are f32 (the CPU has no other arithmetic to continue on).
  const std::string begun_arithmetic = begun_record["ran_on"]["matmul"];
  const std::string other_arithmetic = begun_arithmetic == "f32" && bf16_matmul_supported() ? "bf16" : "f32";
  const RunResult same = run_arbiter("--cpu-matmul " + other_arithmetic + " score" + qwen + rows +
                                     " --resume --max-length 64 --batch-tokens 256 --limit 2");
  ASSERT_EQ(same.exit_code, 0) << same.out;
  EXPECT_EQ(count_lines(out), 2u);
  if (other_arithmetic != begun_arithmetic) {
    EXPECT_NE(same.out.find("continues on {\"device\":\"cpu\",\"matmul\":\"" + other_arithmetic + "\"}"),
              std::string::npos)
        << same.out;
  }

  // An output without a record resumes with a warning, and gets this run's record.
  std::filesystem::remove(record);
  const RunResult unrecorded = run_arbiter("score" + qwen + rows + " --resume --max-length 64");
  ASSERT_EQ(unrecorded.exit_code, 0) << unrecorded.out;
  EXPECT_NE(unrecorded.out.find("has no run record"), std::string::npos) << unrecorded.out;
  EXPECT_TRUE(std::filesystem::exists(record));
  std::ofstream(record) << "{not json";
  const RunResult malformed = run_arbiter("score -q" + qwen + rows + " --resume --max-length 64");
  EXPECT_NE(malformed.exit_code, 0);
  EXPECT_NE(malformed.out.find("scores.run.json: not a run record"), std::string::npos) << malformed.out;
  std::ofstream(record) << R"({"command": 5, "model_fingerprint": [1], "settings": "x"})";
  const RunResult mistyped = run_arbiter("score -q" + qwen + rows + " --resume --max-length 64");
  EXPECT_NE(mistyped.exit_code, 0);
  EXPECT_NE(mistyped.out.find("command: '' then, 'score' now"), std::string::npos) << mistyped.out;
  EXPECT_NE(mistyped.out.find("--max-length: not given then, '64' now"), std::string::npos) << mistyped.out;

  // A fresh run that fails before it opens its output leaves the old output and its record together.
  const std::string kept_record = read_text(record);
  const RunResult no_input = run_arbiter("score -q" + llama + " -i " + dir + "/missing.jsonl -o " + out);
  EXPECT_NE(no_input.exit_code, 0);
  EXPECT_EQ(read_text(record), kept_record);
  // So does one whose first row is bad: the output is emptied only when its first line is written.
  std::ofstream(dir + "/bad-first.jsonl") << R"({"id": "z", "prompt": "p", "response": 5})" "\n";
  const RunResult bad_first = run_arbiter("score -q" + qwen + " -i " + dir + "/bad-first.jsonl -o " + out);
  EXPECT_NE(bad_first.exit_code, 0);
  EXPECT_NE(bad_first.out.find("bad-first.jsonl:1"), std::string::npos) << bad_first.out;
  EXPECT_EQ(read_text(record), kept_record);
  EXPECT_EQ(count_lines(out), 3u);
  // An output that is not a file has no record beside it.
  const RunResult discarded = run_arbiter("score -q" + qwen + " -i " + dir + "/rows.jsonl -o /dev/null");
  EXPECT_EQ(discarded.exit_code, 0) << discarded.out;
  EXPECT_FALSE(std::filesystem::exists("/dev/null.run.json"));
  std::filesystem::remove("/dev/null.run.json");  // should the check fail, nothing is left in /dev
  // A fresh run starts a new record.
  ASSERT_EQ(run_arbiter("score -q" + llama + rows).exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(read_text(record))["settings"], (nlohmann::json{{"text formatting revision", "2"}}));
  // A file begun by an arbiter that formatted rows otherwise (its record has no revision, or another) is not
  // resumed: its lines and this run's would come from two formattings.
  {
    nlohmann::json older = nlohmann::json::parse(read_text(record));
    older["settings"].erase("text formatting revision");
    write_text(record, older.dump());
    const RunResult refused = run_arbiter("score -q" + llama + rows + " --resume");
    EXPECT_NE(refused.exit_code, 0) << refused.out;
    EXPECT_NE(refused.out.find("text formatting revision"), std::string::npos) << refused.out;
    ASSERT_EQ(run_arbiter("score -q" + llama + rows).exit_code, 0);
  }

  // A file an option names is kept by its contents: edited between the runs, it is another setting.
  const std::string templ = dir + "/chat.jinja";
  std::ofstream(templ) << "{% for m in messages %}{{ m['content'] }}\n{% endfor %}";
  ASSERT_EQ(run_arbiter("score -q" + qwen + rows + " --limit 1 --chat-template " + templ).exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(read_text(record))["file_contents"].count(templ), 1u);
  std::ofstream(templ) << "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}";
  const RunResult edited = run_arbiter("score -q" + qwen + rows + " --resume --chat-template " + templ);
  EXPECT_NE(edited.exit_code, 0);
  EXPECT_NE(edited.out.find("--chat-template: contents of " + templ + " differ ('"), std::string::npos) << edited.out;
  // The same contents at another path (a copy on another node, a relative path now) are the same setting;
  // a default given explicitly is the same as one left out.
  const std::string copy = dir + "/copy.jinja";
  std::filesystem::copy_file(templ, copy);
  ASSERT_EQ(run_arbiter("score -q" + qwen + rows + " --limit 1 --chat-template " + templ).exit_code, 0);
  const RunResult copied = run_arbiter("score -q" + qwen + rows + " --resume --chat-template " + copy + " --truncation prompt-left");
  ASSERT_EQ(copied.exit_code, 0) << copied.out;
  EXPECT_EQ(count_lines(out), 3u);
}

// A row nested thousands deep (corrupt or hostile) is an error naming its line, in every command that
// reads rows, not a stack overflow.
TEST(BadRows, DeeplyNestedRowsAreRefused) {
  const std::string dir = temp_dir("deep-rows");
  const std::string deep = dir + "/deep.jsonl";
  std::ofstream(deep) << R"({"id": "a", "score": 1})" "\n"
                      << R"({"id": "b", "score": 2, "x": )" << std::string(100000, '[') << std::string(100000, ']')
                      << "}\n";
  for (const std::string& command : {"select -i " + deep + " --by score --top 1 -o " + dir + "/top.jsonl",
                                     "info --data " + deep}) {
    const RunResult r = run_arbiter(command);
    EXPECT_EQ(r.exit_code, 1) << command << "\n" << r.out;
    EXPECT_NE(r.out.find("deep.jsonl:2: JSON nested deeper than 512 levels"), std::string::npos) << r.out;
  }
}

// --max-length is held to as given, down to one token; a length that is no length is refused.
TEST(BadRows, EveryMaximumLengthIsHeldTo) {
  const std::string dir = temp_dir("max-length");
  std::ofstream(dir + "/rows.jsonl") << R"({"id": "a", "prompt": "hi there", "response": "yo"})" "\n";
  const std::string score = "score -q -m " + kShared + "/fixtures/hf/qwen2-seqcls1 -i " + dir + "/rows.jsonl -o " + dir + "/out.jsonl";
  const RunResult one = run_arbiter(score + " --max-length 1 --truncation error");
  EXPECT_NE(one.exit_code, 0);
  EXPECT_NE(one.out.find("exceeds the maximum length 1"), std::string::npos) << one.out;
  for (const char* bad : {"0", "-5"}) {
    const RunResult r = run_arbiter(score + " --max-length " + bad);
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.out.find("--max-length: Value " + std::string(bad) + " not in range 1"), std::string::npos) << r.out;
  }
}

// Options whose values mean nothing are refused, not read as their defaults.
TEST(BadRows, OptionsThatMeanNothingAreRefused) {
  const std::string dir = temp_dir("meaningless-options");
  std::ofstream(dir + "/rows.jsonl") << R"({"id": "a", "prompt": "hi there", "response": "yo"})" "\n";
  const std::string judge = "judge -q -m " + kShared + "/fixtures/gguf/llama.f32.gguf -i " + dir + "/rows.jsonl -o " +
                            dir + "/out.jsonl";
  const std::pair<std::string, std::string> cases[] = {
      {" --limit 0", "--limit: Value 0 not in range 1"},
      {" --limit -1", "--limit: Value -1 not in range 1"},
      {" --batch-tokens -1", "--batch-tokens: Value -1 not in range 0"},
      {" --score-token-ids 1,1", "score tokens: id 1 is given twice (scores 1 and 2)"},
  };
  for (const auto& [option, message] : cases) {
    const RunResult r = run_arbiter(judge + option);
    EXPECT_NE(r.exit_code, 0) << option;
    EXPECT_NE(r.out.find(message), std::string::npos) << option << "\n" << r.out;
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.jsonl"));
}

// A copy of `gguf` with the 4-byte value of metadata `key` (a u32 or i32) set to `value`.
std::string gguf_with_u32(const std::string& gguf, const std::string& key, uint32_t value, const std::string& out) {
  std::string bytes = read_text(gguf);
  const size_t at = bytes.find(key);
  EXPECT_NE(at, std::string::npos) << key;
  std::memcpy(bytes.data() + at + key.size() + 4, &value, 4);  // the key, its u32 type, the value
  std::ofstream(out, std::ios::binary) << bytes;
  return out;
}

// GGUF metadata that disagrees with the file: a layer count below the layers it holds, a BOS id outside the
// vocabulary it is added from. Each an error, not a model cut short or a sequence without its BOS.
TEST(BadRows, GgufMetadataIsHeldToTheFile) {
  const std::string dir = temp_dir("gguf-metadata");
  const std::string gguf = kShared + "/fixtures/gguf/llama.f32.gguf";
  const std::string short_count = gguf_with_u32(gguf, "llama.block_count", 2, dir + "/two-layers.gguf");
  const RunResult cut = run_arbiter("info -m " + short_count);
  EXPECT_NE(cut.exit_code, 0);
  EXPECT_NE(cut.out.find("two-layers.gguf: holds tensor 'blk.2.attn_norm.weight' past the 2 layers its configuration "
                         "gives"),
            std::string::npos)
      << cut.out;
  const std::string bad_bos = gguf_with_u32(gguf, "tokenizer.ggml.bos_token_id", 99999, dir + "/bos.gguf");
  const RunResult bos = run_arbiter("tokenize -m " + bad_bos + " --text hi");
  EXPECT_NE(bos.exit_code, 0);
  EXPECT_NE(bos.out.find("tokenizer.ggml.bos_token_id is 99999, outside the 512 tokens"), std::string::npos) << bos.out;
}

// A reward model made here (Qwen2's shape, Qwen3's tokenizer and template) in DIR/rm and four rows in
// DIR/rows.jsonl, to be scored into DIR/out.jsonl by `score`; a test begins the run, edits, and resumes.
struct BegunRun {
  std::string dir, score;
};
BegunRun begin_run(const std::string& name) {
  const std::string dir = temp_dir(name);
  const RunResult made = run_arbiter("-q create-model --arch qwen2 --head seqcls --tokenizer " + kShared +
                                     "/fixtures/tokenizers/qwen3 --out " + dir + "/rm");
  if (made.exit_code != 0) {
    ADD_FAILURE() << made.out;
    return {};
  }
  std::ofstream rows(dir + "/rows.jsonl");
  for (int i = 0; i < 4; ++i) rows << nlohmann::json{{"prompt", "Question " + std::to_string(i)}, {"response", "Answer"}}.dump() << "\n";
  return {dir, "score -q -m " + dir + "/rm -i " + dir + "/rows.jsonl -o " + dir + "/out.jsonl"};
}

// The model's own chat template decides every sequence: edited in its tokenizer_config.json between a run
// and its resume, the resume is refused as one with another --chat-template file is.
TEST(Resume, TheModelsOwnChatTemplateIsPartOfTheRecord) {
  const BegunRun run = begin_run("resume-own-template");
  ASSERT_FALSE(run.dir.empty());
  const std::string& dir = run.dir;
  const std::string& score = run.score;
  ASSERT_EQ(run_arbiter(score + " --limit 2").exit_code, 0);
  const std::string begun = read_text(dir + "/out.jsonl");
  const std::string config_path = dir + "/rm/tokenizer_config.json";
  nlohmann::json config = nlohmann::json::parse(read_text(config_path));
  config["chat_template"] = "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}";
  write_text(config_path, config.dump());
  const RunResult resumed = run_arbiter(score + " --resume");
  EXPECT_NE(resumed.exit_code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("the model's chat template: "), std::string::npos) << resumed.out;
  // The template is kept apart from the tokenizer_config.json it lives in: the tokenizer is the same.
  EXPECT_EQ(resumed.out.find("the model's tokenizer: "), std::string::npos) << resumed.out;
  EXPECT_EQ(read_text(dir + "/out.jsonl"), begun);
}

// So does its configuration: another rope_theta (or norm epsilon) changes every score with the same weights.
TEST(Resume, TheModelsConfigurationIsPartOfTheRecord) {
  const BegunRun run = begin_run("resume-own-config");
  ASSERT_FALSE(run.dir.empty());
  const std::string& dir = run.dir;
  const std::string& score = run.score;
  ASSERT_EQ(run_arbiter(score + " --limit 2").exit_code, 0);
  const std::string begun = read_text(dir + "/out.jsonl");
  nlohmann::json config = nlohmann::json::parse(read_text(dir + "/rm/config.json"));
  config["rope_theta"] = 1000000.0;
  write_text(dir + "/rm/config.json", config.dump());
  const RunResult resumed = run_arbiter(score + " --resume");
  EXPECT_NE(resumed.exit_code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("the model's configuration: "), std::string::npos) << resumed.out;
  EXPECT_EQ(read_text(dir + "/out.jsonl"), begun);
}

// An option given in another spelling of the same value is the same setting: JSON with other whitespace or
// key order. Another value is not.
TEST(Resume, OneValueInAnotherSpellingIsTheSameSetting) {
  const BegunRun run = begin_run("resume-spelling");
  ASSERT_FALSE(run.dir.empty());
  const std::string& dir = run.dir;
  const std::string& score = run.score;
  ASSERT_EQ(run_arbiter(score + " --limit 2 --chat-template-kwargs '{\"enable_thinking\": false, \"x\": 1}'").exit_code, 0);
  const RunResult same = run_arbiter(score + " --resume --chat-template-kwargs '{\"x\":1,\"enable_thinking\":false}'");
  EXPECT_EQ(same.exit_code, 0) << same.out;
  EXPECT_EQ(read_jsonl(dir + "/out.jsonl").size(), 4u);
  const RunResult other = run_arbiter(score + " --resume --chat-template-kwargs '{\"x\": 2, \"enable_thinking\": false}'");
  EXPECT_NE(other.exit_code, 0) << other.out;
  EXPECT_NE(other.out.find("--chat-template-kwargs"), std::string::npos) << other.out;
}

// So do its tokenizer files: a normalizer edited in tokenizer.json (lowercasing) gives other token ids for
// the same rows, with the same weights.
TEST(Resume, TheModelsTokenizerIsPartOfTheRecord) {
  const BegunRun run = begin_run("resume-own-tokenizer");
  ASSERT_FALSE(run.dir.empty());
  const std::string& dir = run.dir;
  const std::string& score = run.score;
  ASSERT_EQ(run_arbiter(score + " --limit 2").exit_code, 0);
  const std::string begun = read_text(dir + "/out.jsonl");
  const std::string tokenizer_path = dir + "/rm/tokenizer.json";
  const std::string original = read_text(tokenizer_path);
  // Saved again with another layout (a blank after each comma and colon, a line after each brace, outside
  // strings), it is the same tokenizer.
  std::string relaid;
  JsonStringTracker strings;
  for (const char c : original) {
    relaid += c;
    if (strings.holds(c)) continue;
    if (c == ',' || c == ':') relaid += ' ';
    else if (c == '{') relaid += "\n  ";
  }
  ASSERT_NE(relaid, original);
  write_text(tokenizer_path, relaid);
  const RunResult reindented = run_arbiter(score + " --resume --limit 3");
  ASSERT_EQ(reindented.exit_code, 0) << reindented.out;
  const std::string three = read_text(dir + "/out.jsonl");
  // nlohmann::json, not ordered_json: ordered_map takes quadratic time over a 150k-token vocabulary.
  nlohmann::json tokenizer = nlohmann::json::parse(original);
  tokenizer["normalizer"] = {{"type", "Lowercase"}};
  write_text(tokenizer_path, tokenizer.dump());
  const RunResult resumed = run_arbiter(score + " --resume");
  EXPECT_NE(resumed.exit_code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("the model's tokenizer: "), std::string::npos) << resumed.out;
  EXPECT_EQ(read_text(dir + "/out.jsonl"), three);
  EXPECT_NE(three, begun);
  // A fresh run with the edited tokenizer reads the rows otherwise: the record was right to refuse.
  ASSERT_EQ(run_arbiter(score + "-lower").exit_code, 0);
  EXPECT_NE(read_jsonl(dir + "/out.jsonl-lower")[0]["score"], read_jsonl(dir + "/out.jsonl")[0]["score"]);
}

// An output holding more rows than the input it is resumed on (a shorter file, or --limit) is not the file
// an uninterrupted run on that input writes: refused, naming the first extra line, the file left as it was.
TEST(Resume, AnOutputLongerThanItsInputIsRefused) {
  const std::string model = kShared + "/models/stories260K/stories260K.gguf";
  const std::string dir = temp_dir("resume-longer");
  std::ofstream rows(dir + "/rows.jsonl");
  for (int i = 0; i < 4; ++i) rows << nlohmann::json{{"prompt", "Question " + std::to_string(i)}, {"response", "Answer"}}.dump() << "\n";
  rows.close();
  const std::string judge = "judge -q -m " + model + " -o " + dir + "/out.jsonl -i ";
  ASSERT_EQ(run_arbiter(judge + dir + "/rows.jsonl").exit_code, 0);
  const std::string whole = read_text(dir + "/out.jsonl");
  const RunResult limited = run_arbiter(judge + dir + "/rows.jsonl --resume --limit 2");
  EXPECT_NE(limited.exit_code, 0) << limited.out;
  EXPECT_NE(limited.out.find("out.jsonl:3 holds row '2', past the 2 rows of"), std::string::npos) << limited.out;
  EXPECT_NE(limited.out.find("(--limit 2)"), std::string::npos) << limited.out;
  EXPECT_EQ(read_text(dir + "/out.jsonl"), whole);
}

TEST(BadRows, ReportedWithLineAndSkippedOrFatal) {
  const std::string model = kShared + "/models/stories260K/stories260K.gguf";
  const std::string dir = temp_dir("bad-rows");
  const std::string labels = R"("helpfulness": 1, "correctness": 2, "coherence": 3, "complexity": 1, "verbosity": 2})";
  std::ofstream(dir + "/rows.jsonl") << R"({"prompt": "a", "response": "b", )" << labels << "\n"
                                     << R"({"prompt": "c", "response": )" "\n"
                                     << R"({"prompt": "d", "response": "e", )" << labels << "\n";
  auto fail = run_arbiter("judge -q -m " + model + " -i " + dir + "/rows.jsonl -o " + dir + "/out.jsonl");
  EXPECT_NE(fail.exit_code, 0);
  EXPECT_NE(fail.out.find("rows.jsonl:2"), std::string::npos) << fail.out;

  auto skip = run_arbiter("judge -m " + model + " -i " + dir + "/rows.jsonl -o " + dir + "/out2.jsonl --on-error skip");
  ASSERT_EQ(skip.exit_code, 0) << skip.out;
  const auto lines = read_jsonl(dir + "/out2.jsonl");
  ASSERT_EQ(lines.size(), 3u);  // one line per input row, the bad one as an error line
  EXPECT_TRUE(lines[0].contains("lager"));
  EXPECT_TRUE(lines[1].contains("error"));
  EXPECT_TRUE(lines[2].contains("lager"));

  // A row that is read but refused (a role no model reads) keeps its own id in its error line, so that ids
  // stay unique and the row is found by them; a row that cannot be read at all is known by its index.
  std::ofstream(dir + "/ids.jsonl") << R"({"id": "1", "prompt": "a", "response": "b"})" "\n"
                                    << R"({"id": "7", "prompt": [{"role": "human", "content": "c"}], "response": "d"})" "\n"
                                    << R"({"id": "8", "prompt": "e", "response": )" "\n";
  auto by_id = run_arbiter("judge -m " + model + " -i " + dir + "/ids.jsonl -o " + dir + "/ids-out.jsonl --on-error skip");
  ASSERT_EQ(by_id.exit_code, 0) << by_id.out;
  const auto id_lines = read_jsonl(dir + "/ids-out.jsonl");
  ASSERT_EQ(id_lines.size(), 3u);
  EXPECT_EQ(id_lines[0]["id"], "1");
  EXPECT_EQ(id_lines[1]["id"], "7") << id_lines[1].dump();
  EXPECT_TRUE(id_lines[1].contains("error"));
  EXPECT_EQ(id_lines[2]["id"], "2") << id_lines[2].dump();
}

}  // namespace
}  // namespace arbiter
