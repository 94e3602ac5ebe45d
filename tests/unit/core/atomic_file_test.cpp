// write_file_atomically: the file is whole or as it was, and no temporary is left behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "../../support/scratch_root.h"

namespace arbiter {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(AtomicFile, WritesAndReplacesWhole) {
  const std::string path = (arbiter::test::scratch_root() / "atomic_file_test.json").string();
  ASSERT_TRUE(write_file_atomically(path, std::string("first\0bytes", 11)).is_ok());
  EXPECT_EQ(slurp(path), std::string("first\0bytes", 11));
  ASSERT_TRUE(write_file_atomically(path, "second").is_ok());
  EXPECT_EQ(slurp(path), "second");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove(path);
}

TEST(AtomicFile, AnUnwritablePlaceIsAnErrorNamingIt) {
  const Status status = write_file_atomically("/nonexistent/arbiter/out.json", "x");
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("/nonexistent/arbiter/out.json: cannot write"), std::string::npos) << status.message();
  // A folder in the way of the rename: the old folder stays, the temporary goes.
  const std::string folder = (arbiter::test::scratch_root() / "atomic_file_folder").string();
  std::filesystem::create_directories(folder + "/inside");
  const Status blocked = write_file_atomically(folder, "x");
  EXPECT_FALSE(blocked.is_ok());
  EXPECT_TRUE(std::filesystem::is_directory(folder + "/inside"));
  EXPECT_FALSE(std::filesystem::exists(folder + ".tmp"));
  std::filesystem::remove_all(folder);
}

}  // namespace
}  // namespace arbiter
