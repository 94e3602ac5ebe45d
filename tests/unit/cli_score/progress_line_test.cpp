// The progress line of a dataset run: shown as the run starts (before its first batch, which on a large
// model takes minutes), and on a terminal a warning clears the bar's line rather than being glued to it.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;

const std::string kModel = kShared + "/fixtures/hf/llama-seqcls1";

// What a command prints on a terminal (`script` gives it one): stdout and stderr as the terminal shows them.
std::string run_on_terminal(const std::string& arbiter_args) {
  std::string out;
  if (FILE* pipe = popen(("script -qc '" + kBinary + " " + arbiter_args + "' /dev/null").c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    pclose(pipe);
  }
  return out;
}

TEST(ProgressLine, PipedTheRunsSizeIsShownAtItsStart) {
  const std::string dir = temp_dir("progress-piped");
  std::ofstream(dir + "/rows.jsonl") << R"({"prompt": "a", "response": "b"})" "\n" R"({"prompt": "c", "response": "d"})" "\n";
  const RunResult r = run_arbiter("score -m " + kModel + " -i " + dir + "/rows.jsonl -o " + dir + "/out.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("score: 0/2 rows | ", 0), 0u) << r.out;
}

TEST(ProgressLine, OnATerminalAWarningGetsALineOfItsOwn) {
  if (std::system("command -v script > /dev/null 2>&1") != 0) GTEST_SKIP() << "no `script` to give the run a terminal";
  const std::string dir = temp_dir("progress-tty");
  std::ofstream(dir + "/rows.jsonl") << R"({"prompt": "a", "response": "b"})" "\n[1,\n" R"({"prompt": "c", "response": "d"})" "\n";
  const std::string out =
      run_on_terminal("score -m " + kModel + " -i " + dir + "/rows.jsonl -o " + dir + "/out.jsonl --on-error skip");
  const size_t warning = out.find("warning: ");
  ASSERT_NE(warning, std::string::npos) << out;
  ASSERT_GE(warning, 4u);
  // The bar ("... ETA --:--") stood on the line: it is cleared (carriage return, erase line) first.
  EXPECT_EQ(out.substr(warning - 4, 4), "\r\033[K") << out;
  EXPECT_NE(out.find("0/3 rows"), std::string::npos) << out;
}

// Data lines written to the terminal the bar is drawn on (-o /dev/stdout): the bar would be redrawn over
// them and glued to them, so progress prints whole lines instead; every data line starts a line.
TEST(ProgressLine, DataLinesOnTheTerminalGetNoBar) {
  if (std::system("command -v script > /dev/null 2>&1") != 0) GTEST_SKIP() << "no `script` to give the run a terminal";
  const std::string dir = temp_dir("progress-tty-stdout");
  std::ofstream(dir + "/rows.jsonl") << R"({"prompt": "a", "response": "b"})" "\n" R"({"prompt": "c", "response": "d"})" "\n";
  const std::string out = run_on_terminal("score -m " + kModel + " -i " + dir + "/rows.jsonl -o /dev/stdout");
  EXPECT_EQ(out.find("\033[K"), std::string::npos) << out;
  size_t data_lines = 0;
  for (size_t at = out.find("{\""); at != std::string::npos; at = out.find("{\"", at + 1)) {
    ++data_lines;
    EXPECT_TRUE(at == 0 || out[at - 1] == '\n') << out;
  }
  EXPECT_EQ(data_lines, 2u) << out;
  EXPECT_NE(out.find("score: 0/2 rows | "), std::string::npos) << out;
}

// Many unreadable rows with --on-error skip: the first 20 are named, then one line says the rest are not;
// every one is still an error line and counted.
TEST(ProgressLine, SkippedRowsPastTwentyAreCountedNotEachShown) {
  const std::string dir = temp_dir("many-skipped");
  {
    std::ofstream rows(dir + "/rows.jsonl");
    for (int i = 0; i < 50; ++i) rows << (i % 2 ? R"({"prompt": "a", "response": "b"})" : "[1,") << "\n";
  }
  const RunResult r = run_arbiter("score -m " + kModel + " -i " + dir + "/rows.jsonl -o " + dir + "/out.jsonl --on-error skip");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  size_t warnings = 0;
  for (size_t at = r.out.find("warning: "); at != std::string::npos; at = r.out.find("warning: ", at + 1)) ++warnings;
  EXPECT_EQ(warnings, 21u) << r.out;
  EXPECT_NE(r.out.find("further rows skipped are not shown"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("50 rows written"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("25 failed"), std::string::npos) << r.out;
  EXPECT_EQ(read_jsonl(dir + "/out.jsonl").size(), 50u);
}

}  // namespace
}  // namespace arbiter
