// The directory every test's scratch files live under: one per test process, under the system temp
// directory, removed with everything in it when the process exits, so that repeated test runs do not
// fill /tmp (the end-to-end tests write models of ~100 MB). A crashed run leaves its directory behind;
// the next process with the same pid starts from an empty one.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace arbiter::test {

inline const std::filesystem::path& scratch_root() {
  struct Root {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("arbiter-tests-" + std::to_string(::getpid()));
    Root() {
      std::filesystem::remove_all(path);
      std::filesystem::create_directories(path);
    }
    ~Root() {
      std::error_code ignored;  // nothing to report to at exit
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Root root;  // an inline function's static: one for the whole test binary
  return root.path;
}

// A file under the scratch root, in a folder of the running test's own, so that two tests of one binary
// run in one process never share a file of the same name.
inline std::string scratch_path(const std::string& name) {
  std::filesystem::path dir = scratch_root();
  if (const auto* test = ::testing::UnitTest::GetInstance()->current_test_info()) {
    dir /= std::string(test->test_suite_name()) + "." + test->name();
  }
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

}  // namespace arbiter::test
