// arbiter features keeps what it extracted in checkpoint parts (OUTPUT.parts/), so that a run stopped
// part-way and resumed ends with the very file an uninterrupted run writes.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "train/features_file.h"
#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

// Rated rows (a label each), numbered; row `bad` (if any) is not JSON.
std::string write_rated_rows(const std::string& path, int n, int bad = -1) {
  std::ofstream out(path);
  for (int i = 0; i < n; ++i) {
    if (i == bad) {
      out << "{\"prompt\": \"cut off\n";
      continue;
    }
    const nlohmann::json row = {{"id", "r" + std::to_string(i)},
                                {"prompt", "Say something about " + std::to_string(i) + "."},
                                {"response", "Here is " + std::string(size_t(i % 4 + 1), 'o') + " something."},
                                {"score", i % 5}};
    out << row.dump() << "\n";
  }
  return path;
}

TEST(FeaturesCheckpoint, AStoppedRunResumesToTheUninterruptedFile) {
  const std::string dir = temp_dir("features-checkpoint");
  const int rows = 160, bad = 150;  // chunks of 64 rows: two are kept before the bad row stops the run
  const std::string good = write_rated_rows(dir + "/good.jsonl", rows);
  const std::string broken = write_rated_rows(dir + "/broken.jsonl", rows, bad);
  const std::string model = " -m " + kShared + "/models/stories260K/stories260K.gguf --field labels=score";

  const RunResult whole = run_arbiter("features -q" + model + " -i " + good + " -o " + dir + "/whole.safetensors");
  ASSERT_EQ(whole.exit_code, 0) << whole.out;

  const std::string out = dir + "/resumed.safetensors";
  const std::string parts = out + ".parts";
  const RunResult stopped =
      run_arbiter("features -q" + model + " -i " + broken + " -o " + out + " --checkpoint-rows 50");
  ASSERT_NE(stopped.exit_code, 0) << stopped.out;
  EXPECT_NE(stopped.out.find("broken.jsonl:" + std::to_string(bad + 1)), std::string::npos) << stopped.out;
  EXPECT_FALSE(std::filesystem::exists(out));
  ASSERT_TRUE(std::filesystem::exists(parts + "/part-00000.safetensors"));
  ASSERT_TRUE(std::filesystem::exists(parts + "/part-00001.safetensors"));

  // Left there, the parts are not silently overwritten or mixed into a fresh run.
  const RunResult fresh = run_arbiter("features -q" + model + " -i " + good + " -o " + out);
  EXPECT_NE(fresh.exit_code, 0);
  EXPECT_NE(fresh.out.find(parts + ": holds the features of an interrupted run: --resume"), std::string::npos)
      << fresh.out;

  const RunResult resumed = run_arbiter("features" + model + " -i " + good + " -o " + out + " --resume --checkpoint-rows 50");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("resuming: 128 rows already in 2 parts"), std::string::npos) << resumed.out;
  EXPECT_EQ(read_text(out), read_text(dir + "/whole.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(parts));

  // Resuming a finished file does nothing.
  const RunResult again = run_arbiter("features" + model + " -i " + good + " -o " + out + " --resume");
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_NE(again.out.find("is complete: nothing to resume"), std::string::npos) << again.out;
  EXPECT_EQ(read_text(out), read_text(dir + "/whole.safetensors"));
}

// Rows without ids (their id is their index), and one of the first `n` rows' text changed when `edited`.
std::string write_unnamed_rows(const std::string& path, int n, int bad, int edited) {
  std::ofstream out(path);
  for (int i = 0; i < n; ++i) {
    if (i == bad) {
      out << "[1,\n";
      continue;
    }
    const std::string topic = i == edited ? "something else" : "item " + std::to_string(i);
    out << nlohmann::json{{"prompt", "Describe " + topic + "."}, {"response", "It is fine."}, {"score", i % 5}}.dump()
        << "\n";
  }
  return path;
}

// Resuming over a dataset that changed since the interrupted run would join features of two datasets into
// one file: the parts remember each row's fingerprint, and a row that differs stops the run.
// Parts extracted before the model's files were edited (its tokenizer, its configuration) are not joined
// with rows extracted after: the resume is refused, naming what changed.
TEST(FeaturesCheckpoint, PartsOfAModelEditedSinceAreRefused) {
  const std::string dir = temp_dir("features-model-edited");
  auto made = run_arbiter("-q create-model --arch qwen2 --tokenizer " + kShared + "/fixtures/tokenizers/qwen3 --out " +
                          dir + "/lm");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const std::string broken = write_rated_rows(dir + "/broken.jsonl", 100, 90);
  const std::string good = write_rated_rows(dir + "/good.jsonl", 100);
  const std::string command = "features -q -m " + dir + "/lm --field labels=score -o " + dir + "/f.safetensors --checkpoint-rows 16";
  ASSERT_NE(run_arbiter(command + " -i " + broken).exit_code, 0);
  ASSERT_TRUE(std::filesystem::exists(dir + "/f.safetensors.parts/part-00000.safetensors"));
  nlohmann::json config = nlohmann::json::parse(read_text(dir + "/lm/config.json"));
  config["rms_norm_eps"] = 0.5;
  write_text(dir + "/lm/config.json", config.dump());
  const RunResult resumed = run_arbiter(command + " -i " + good + " --resume");
  EXPECT_NE(resumed.exit_code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("the model's files were edited since the interrupted run"), std::string::npos) << resumed.out;
  EXPECT_NE(resumed.out.find("the model's configuration: "), std::string::npos) << resumed.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/f.safetensors"));
}

// Under --on-error skip a bad row is left out of the file (a scored file gets an error line for it), and
// the summary counts only the rows the file holds.
TEST(FeaturesCheckpoint, SkippedRowsAreNotCountedAsWritten) {
  const std::string dir = temp_dir("features-skipped");
  const std::string rows = write_rated_rows(dir + "/rows.jsonl", 8, 3);
  const std::string out = dir + "/skipped.safetensors";
  const RunResult r = run_arbiter("features -m " + kShared + "/models/stories260K/stories260K.gguf --field labels=score -i " +
                                  rows + " -o " + out + " --on-error skip");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("7 rows written to " + out + " (0 already there, 1 failed)"), std::string::npos) << r.out;
  const auto set = train::read_features(out);
  ASSERT_TRUE(set.is_ok()) << set.message();
  EXPECT_EQ(set->rows, 7);
}

TEST(FeaturesCheckpoint, ADatasetChangedSinceTheStoppedRunIsRefused) {
  const std::string dir = temp_dir("features-checkpoint-changed");
  const std::string model = " -m " + kShared + "/models/stories260K/stories260K.gguf --field labels=score";
  const std::string out = dir + "/f.safetensors";
  const std::string parts = out + ".parts";
  ASSERT_NE(run_arbiter("features -q" + model + " -i " + write_unnamed_rows(dir + "/broken.jsonl", 100, 90, -1) +
                        " -o " + out + " --checkpoint-rows 10")
                .exit_code,
            0);
  ASSERT_TRUE(std::filesystem::exists(parts + "/part-00000.safetensors"));

  // Same ids (row indices), row 40's text changed.
  const RunResult edited = run_arbiter("features -q" + model + " -i " +
                                       write_unnamed_rows(dir + "/edited.jsonl", 100, -1, 40) + " -o " + out + " --resume");
  EXPECT_NE(edited.exit_code, 0);
  EXPECT_NE(edited.out.find("holds row 40 of a different dataset"), std::string::npos) << edited.out;
  EXPECT_NE(edited.out.find("edited.jsonl:41"), std::string::npos) << edited.out;
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_TRUE(std::filesystem::exists(parts + "/part-00000.safetensors"));  // the parts are kept

  // Other ids: a different dataset altogether.
  const RunResult other = run_arbiter("features -q" + model + " -i " + write_rated_rows(dir + "/other.jsonl", 100) +
                                      " -o " + out + " --resume");
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.out.find("holds row 0 of a different dataset (other content or id; here id 'r0')"), std::string::npos)
      << other.out;

  // The same rows resume, and the finished file carries no fingerprints.
  const RunResult same = run_arbiter("features -q" + model + " -i " +
                                     write_unnamed_rows(dir + "/good.jsonl", 100, -1, -1) + " -o " + out + " --resume");
  ASSERT_EQ(same.exit_code, 0) << same.out;
  EXPECT_EQ(read_text(out).find("row_digests"), std::string::npos);
  const RunResult whole = run_arbiter("features -q" + model + " -i " + dir + "/good.jsonl -o " + dir + "/whole.safetensors");
  ASSERT_EQ(whole.exit_code, 0) << whole.out;
  EXPECT_EQ(read_text(out), read_text(dir + "/whole.safetensors"));
}

// Parts written before they carried fingerprints are matched by id: another dataset's ids are refused, the
// same rows resume to the uninterrupted file.
TEST(FeaturesCheckpoint, PartsWithoutFingerprintsAreMatchedById) {
  const std::string dir = temp_dir("features-checkpoint-unprinted");
  const std::string model = " -m " + kShared + "/models/stories260K/stories260K.gguf --field labels=score";
  const std::string out = dir + "/f.safetensors";
  const std::string parts = out + ".parts";
  ASSERT_NE(run_arbiter("features -q" + model + " -i " + write_rated_rows(dir + "/broken.jsonl", 100, 90) + " -o " + out +
                        " --checkpoint-rows 10")
                .exit_code,
            0);
  size_t stripped = 0;
  for (const auto& entry : std::filesystem::directory_iterator(parts)) {
    auto part = train::read_features(entry.path().string());
    ASSERT_TRUE(part.is_ok()) << part.message();
    ASSERT_FALSE(part->row_digests.empty());
    part->row_digests.clear();
    ASSERT_TRUE(train::write_features(entry.path().string(), *part).is_ok());
    ++stripped;
  }
  ASSERT_GE(stripped, 1u);

  const RunResult other = run_arbiter("features -q" + model + " -i " + write_unnamed_rows(dir + "/other.jsonl", 100, -1, -1) +
                                      " -o " + out + " --resume");
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.out.find("holds row 0 of a different dataset (id 'r0', here '0')"), std::string::npos) << other.out;
  EXPECT_TRUE(std::filesystem::exists(parts));

  const std::string good = write_rated_rows(dir + "/good.jsonl", 100);
  const RunResult same = run_arbiter("features -q" + model + " -i " + good + " -o " + out + " --resume");
  ASSERT_EQ(same.exit_code, 0) << same.out;
  ASSERT_EQ(run_arbiter("features -q" + model + " -i " + good + " -o " + dir + "/whole.safetensors").exit_code, 0);
  EXPECT_EQ(read_text(out), read_text(dir + "/whole.safetensors"));
}

// Parts of another extraction are refused rather than joined.
TEST(FeaturesCheckpoint, PartsOfAnotherLayerAreRefused) {
  const std::string dir = temp_dir("features-checkpoint-layer");
  const std::string broken = write_rated_rows(dir + "/broken.jsonl", 100, 90);
  const std::string good = write_rated_rows(dir + "/good.jsonl", 100);
  const std::string model = " -m " + kShared + "/models/stories260K/stories260K.gguf --field labels=score";
  const std::string out = dir + "/f.safetensors";
  ASSERT_NE(run_arbiter("features -q" + model + " -i " + broken + " -o " + out + " --checkpoint-rows 10").exit_code, 0);
  const RunResult other = run_arbiter("features -q" + model + " -i " + good + " -o " + out + " --resume --layer 2");
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.out.find("at final_norm, not"), std::string::npos) << other.out;
  EXPECT_NE(other.out.find("at layer2"), std::string::npos) << other.out;
}

// Parts holding rows past what the resumed run reads (--limit, a shorter input) would join into a file of
// rows this input does not have: refused, the parts kept.
TEST(FeaturesCheckpoint, PartsPastTheResumedInputAreRefused) {
  const std::string dir = temp_dir("features-checkpoint-limit");
  const std::string broken = write_rated_rows(dir + "/broken.jsonl", 100, 90);
  const std::string good = write_rated_rows(dir + "/good.jsonl", 100);
  const std::string model = " -m " + kShared + "/models/stories260K/stories260K.gguf --field labels=score";
  const std::string out = dir + "/f.safetensors";
  ASSERT_NE(run_arbiter("features -q" + model + " -i " + broken + " -o " + out + " --checkpoint-rows 10").exit_code, 0);
  const RunResult limited = run_arbiter("features -q" + model + " -i " + good + " -o " + out + " --resume --limit 20");
  EXPECT_NE(limited.exit_code, 0) << limited.out;
  EXPECT_NE(limited.out.find("holds 64 rows, of which this run's input reached 20"), std::string::npos) << limited.out;
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_TRUE(std::filesystem::exists(out + ".parts"));
}

// Parts of another --shard's rows: refused before any row is extracted (not after a whole shard's rows were
// added to the folder), the folder as it was.
TEST(FeaturesCheckpoint, PartsOfAnotherShardAreRefusedAtOnce) {
  const std::string dir = temp_dir("features-checkpoint-shard");
  const std::string broken = write_rated_rows(dir + "/broken.jsonl", 200, 190);
  const std::string good = write_rated_rows(dir + "/good.jsonl", 200);
  const std::string model = " -m " + kShared + "/models/stories260K/stories260K.gguf --field labels=score";
  const std::string out = dir + "/f.safetensors";
  ASSERT_NE(run_arbiter("features -q" + model + " -i " + broken + " -o " + out + " --checkpoint-rows 10 --shard 0/2").exit_code, 0);
  auto parts = [&] {
    size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(out + ".parts")) n += entry.path().extension() == ".safetensors";
    return n;
  };
  const size_t before = parts();
  ASSERT_GT(before, 0u);
  const RunResult other = run_arbiter("features -q" + model + " -i " + good + " -o " + out + " --checkpoint-rows 10 --resume --shard 1/2");
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.out.find("holds row 0, which --shard 1/2 does not read"), std::string::npos) << other.out;
  EXPECT_EQ(parts(), before);
  // Its own shard resumes.
  const RunResult same = run_arbiter("features -q" + model + " -i " + good + " -o " + out + " --checkpoint-rows 10 --resume --shard 0/2");
  EXPECT_EQ(same.exit_code, 0) << same.out;
}

// A resume that finds the file finished has nothing to do, if the file is this extraction's: another layer
// or other options are named, and the file is kept.
TEST(FeaturesCheckpoint, AFinishedFileOfAnotherExtractionIsNamed) {
  const std::string dir = temp_dir("features-finished");
  const std::string rows = write_rated_rows(dir + "/rows.jsonl", 20);
  const std::string model = " -m " + kShared + "/models/stories260K/stories260K.gguf --field labels=score";
  const std::string out = dir + "/f.safetensors";
  ASSERT_EQ(run_arbiter("features -q" + model + " -i " + rows + " -o " + out).exit_code, 0);
  const RunResult same = run_arbiter("features" + model + " -i " + rows + " -o " + out + " --resume");
  EXPECT_EQ(same.exit_code, 0) << same.out;
  EXPECT_NE(same.out.find("is complete: nothing to resume"), std::string::npos) << same.out;
  const RunResult layer = run_arbiter("features -q" + model + " -i " + rows + " -o " + out + " --resume --layer 2");
  EXPECT_NE(layer.exit_code, 0) << layer.out;
  EXPECT_NE(layer.out.find("is finished, but by another extraction than this one"), std::string::npos) << layer.out;
  EXPECT_NE(layer.out.find("layer: final_norm there, layer2 now"), std::string::npos) << layer.out;
  const RunResult options = run_arbiter("features -q" + model + " -i " + rows + " -o " + out + " --resume --max-length 64");
  EXPECT_NE(options.exit_code, 0) << options.out;
  EXPECT_NE(options.out.find("--max-length"), std::string::npos) << options.out;
  // Its rows are held to the input's: another dataset's ids, or a shorter one, are named.
  std::string other_rows = read_text(rows);
  for (size_t at; (at = other_rows.find("\"r")) != std::string::npos;) other_rows.replace(at, 2, "\"x");
  write_text(dir + "/other.jsonl", other_rows);
  const RunResult other = run_arbiter("features -q" + model + " -i " + dir + "/other.jsonl -o " + out + " --resume");
  EXPECT_NE(other.exit_code, 0) << other.out;
  EXPECT_NE(other.out.find("is finished, but from other rows: its feature row 0 is row 0 with id 'r0', where"),
            std::string::npos) << other.out;
  const std::string shorter = write_rated_rows(dir + "/shorter.jsonl", 12);
  const RunResult cut = run_arbiter("features -q" + model + " -i " + shorter + " -o " + out + " --resume");
  EXPECT_NE(cut.exit_code, 0) << cut.out;
  EXPECT_NE(cut.out.find("holds rows past the end of " + shorter + " (feature row 12 is row 12)"), std::string::npos)
      << cut.out;
  // ... and to the rows this run reads: a smaller --limit, a larger one (or a longer input), another shard.
  const RunResult fewer = run_arbiter("features -q" + model + " -i " + rows + " -o " + out + " --resume --limit 10");
  EXPECT_NE(fewer.exit_code, 0) << fewer.out;
  EXPECT_NE(fewer.out.find("holds rows past the 10 rows this run reads (--limit) (feature row 10 is row 10)"),
            std::string::npos) << fewer.out;
  const std::string longer = write_rated_rows(dir + "/longer.jsonl", 30);
  const RunResult more = run_arbiter("features -q" + model + " -i " + longer + " -o " + out + " --resume");
  EXPECT_NE(more.exit_code, 0) << more.out;
  EXPECT_NE(more.out.find("its extraction read the input's first 20 rows, and this run reads rows to 29"), std::string::npos)
      << more.out;
  const RunResult sharded = run_arbiter("features -q" + model + " -i " + rows + " -o " + out + " --resume --shard 1/2");
  EXPECT_NE(sharded.exit_code, 0) << sharded.out;
  EXPECT_NE(sharded.out.find("holds row 0, which --shard 1/2 does not read"), std::string::npos) << sharded.out;
  // A shard's file, and one that left a bad row out (--on-error skip), are their input's rows.
  const std::string shard = dir + "/shard.safetensors";
  ASSERT_EQ(run_arbiter("features -q" + model + " -i " + rows + " -o " + shard + " --shard 1/3").exit_code, 0);
  const RunResult shard_again = run_arbiter("features" + model + " -i " + rows + " -o " + shard + " --shard 1/3 --resume");
  EXPECT_EQ(shard_again.exit_code, 0) << shard_again.out;
  const std::string broken = write_rated_rows(dir + "/broken.jsonl", 20, 5);
  const std::string skipped = dir + "/skipped.safetensors";
  ASSERT_EQ(run_arbiter("features -q" + model + " -i " + broken + " -o " + skipped + " --on-error skip").exit_code, 0);
  const RunResult skipped_again =
      run_arbiter("features" + model + " -i " + broken + " -o " + skipped + " --on-error skip --resume");
  EXPECT_EQ(skipped_again.exit_code, 0) << skipped_again.out;
  // A last row that was read but failed (too long, --on-error skip) has no features, yet was reached: the
  // finished file is this run's, not one that stopped short.
  std::string with_long_row = read_text(rows);
  with_long_row += nlohmann::json{{"id", "long"}, {"prompt", std::string(2000, 'x')}, {"response", "y"}, {"score", 1}}.dump() + "\n";
  write_text(dir + "/long-last.jsonl", with_long_row);
  const std::string failed_last = dir + "/failed-last.safetensors";
  const std::string cut_options = " --max-length 64 --truncation error --on-error skip";
  ASSERT_EQ(run_arbiter("features -q" + model + " -i " + dir + "/long-last.jsonl -o " + failed_last + cut_options).exit_code, 0);
  const RunResult failed_again =
      run_arbiter("features" + model + " -i " + dir + "/long-last.jsonl -o " + failed_last + cut_options + " --resume");
  EXPECT_EQ(failed_again.exit_code, 0) << failed_again.out;
  EXPECT_NE(failed_again.out.find("is complete: nothing to resume"), std::string::npos) << failed_again.out;
}

// Parts keep the options of their run: resuming them with sequences formatted otherwise would join two
// extractions into one file. The same template at another path is the same option.
TEST(FeaturesCheckpoint, PartsOfOtherOptionsAreRefused) {
  const std::string dir = temp_dir("features-checkpoint-options");
  const std::string broken = write_rated_rows(dir + "/broken.jsonl", 100, 90);
  const std::string good = write_rated_rows(dir + "/good.jsonl", 100);
  const std::string templ = dir + "/chat.jinja", copy = dir + "/copy.jinja";
  std::ofstream(templ) << "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}";
  std::filesystem::copy_file(templ, copy);
  const std::string model = " -m " + kShared + "/models/stories260K/stories260K.gguf --field labels=score";
  const std::string out = dir + "/f.safetensors", parts = out + ".parts";
  ASSERT_NE(run_arbiter("features -q" + model + " -i " + broken + " -o " + out + " --checkpoint-rows 10 --chat-template " +
                        templ)
                .exit_code,
            0);
  ASSERT_TRUE(std::filesystem::exists(parts + "/part-00000.safetensors"));

  const RunResult plain = run_arbiter("features -q" + model + " -i " + good + " -o " + out + " --resume --plain");
  EXPECT_NE(plain.exit_code, 0);
  EXPECT_NE(plain.out.find("part-00000.safetensors: the interrupted run was given other options than this one:"),
            std::string::npos)
      << plain.out;
  EXPECT_NE(plain.out.find("--chat-template: '" + templ + "' then, not given now"), std::string::npos) << plain.out;
  EXPECT_NE(plain.out.find("--plain: not given then, 'true' now"), std::string::npos) << plain.out;
  EXPECT_TRUE(std::filesystem::exists(parts + "/part-00000.safetensors"));

  const RunResult copied =
      run_arbiter("features -q" + model + " -i " + good + " -o " + out + " --resume --layer final --chat-template " + copy);
  ASSERT_EQ(copied.exit_code, 0) << copied.out;
  ASSERT_EQ(run_arbiter("features -q" + model + " -i " + good + " -o " + dir + "/whole.safetensors --chat-template " + templ)
                .exit_code,
            0);
  auto resumed = train::read_features(out);
  auto whole = train::read_features(dir + "/whole.safetensors");
  ASSERT_TRUE(resumed.is_ok() && whole.is_ok()) << resumed.message() << whole.message();
  EXPECT_EQ(resumed->features, whole->features);
  EXPECT_EQ(resumed->ids, whole->ids);
  // The finished file keeps the options, so a head trained on it knows how its sequences were formatted.
  ASSERT_TRUE(resumed->settings.has_value());
  EXPECT_EQ(resumed->settings->settings["--chat-template"], copy);
  EXPECT_EQ(resumed->settings->settings["--field"], "labels=score");
  EXPECT_FALSE(resumed->settings->settings.contains("--layer"));  // the default, given explicitly
  EXPECT_FALSE(resumed->settings->settings.contains("--checkpoint-rows"));
}

// A second run with the same output while the first still runs is refused (the parts folder is locked),
// and the first one's file is its own.
TEST(FeaturesCheckpoint, ASecondRunOfOneOutputIsRefused) {
  const std::string dir = temp_dir("features-twice");
  const std::string rows = write_rated_rows(dir + "/rows.jsonl", 6000);
  const std::string model = " -m " + kShared + "/models/stories260K/stories260K.gguf";
  const std::string out = dir + "/twice.safetensors";
  RunResult first;
  std::thread running([&] { first = run_arbiter("features -q -t 1" + model + " -i " + rows + " -o " + out); });
  const std::string parts = out + ".parts";
  for (int i = 0; i < 2000 && !std::filesystem::exists(parts); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const bool seen = std::filesystem::exists(parts);
  const RunResult second = run_arbiter("features -q -t 1" + model + " -i " + rows + " -o " + out);
  running.join();
  ASSERT_TRUE(seen) << "the first run's parts folder never appeared";
  EXPECT_NE(second.exit_code, 0) << second.out;
  EXPECT_NE(second.out.find("another process is writing these features"), std::string::npos) << second.out;
  ASSERT_EQ(first.exit_code, 0) << first.out;
  EXPECT_FALSE(std::filesystem::exists(parts));
  const auto set = train::read_features(out);
  ASSERT_TRUE(set.is_ok()) << set.message();
  EXPECT_EQ(set->rows, 6000);
}

}  // namespace
}  // namespace arbiter
