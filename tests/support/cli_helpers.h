// Helpers for the end-to-end tests that run the arbiter binary (tests/unit/cli_*).
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>
#include "scratch_root.h"
#include "shared_dir.h"

namespace arbiter::testing {

inline const std::string kBinary = ARBITER_BINARY;

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

inline RunResult run_arbiter(const std::string& args) {
  RunResult r;
  const std::string cmd = kBinary + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

inline std::string temp_dir(const std::string& name) {
  const auto dir = arbiter::test::scratch_root() / ("arbiter-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// `arbiter tokenize --json` of `text` with `flags` (--special, ...): its "ids", or null when it fails.
inline nlohmann::json tokenize_ids(const std::string& model, const std::string& text, const std::string& flags = "") {
  const std::string path = temp_dir("tokenize-text") + "/text.txt";
  write_text(path, text);
  RunResult r = run_arbiter("tokenize -m " + model + " --json " + flags + " --text-file " + path);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  return j.is_object() && j.contains("ids") ? j["ids"] : nlohmann::json();
}

// What a test suite's shared setup (SetUpTestSuite) found wrong. A fatal failure there only marks the
// suite's tests skipped, which ctest does not count as a failure; so the setup records it here, and each
// test's SetUp fails with it.
class SuiteSetup {
 public:
  // Records the first failure: `ok` false, with what to say.
  void expect(bool ok, const std::string& what) {
    if (!ok && failure_.empty()) failure_ = what;
  }
  void check() const { ASSERT_TRUE(failure_.empty()) << "the suite's setup failed: " << failure_; }

 private:
  std::string failure_;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace arbiter::testing
