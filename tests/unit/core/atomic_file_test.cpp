// write_file_atomically: the file is whole or as it was, and no temporary is left behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "../../support/scratch_root.h"
#include "../../support/temp_files.h"

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
  EXPECT_FALSE(arbiter::test::temp_file_left_beside(path));
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
  EXPECT_FALSE(arbiter::test::temp_file_left_beside(folder));
  std::filesystem::remove_all(folder);
}

// A link stays a link (its target is replaced); a FIFO or device (--report-json /dev/stdout) is written in
// place, never renamed over.
TEST(AtomicFile, LinksAndFifosStayWhatTheyAre) {
  const std::string target = (arbiter::test::scratch_root() / "atomic_target.json").string();
  const std::string link = (arbiter::test::scratch_root() / "atomic_link.json").string();
  std::filesystem::remove(link);
  std::ofstream(target) << "old";
  std::filesystem::create_symlink(target, link);
  ASSERT_TRUE(write_file_atomically(link, "new").is_ok());
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(slurp(target), "new");
  EXPECT_FALSE(arbiter::test::temp_file_left_beside(target));

  const std::string fifo = (arbiter::test::scratch_root() / "atomic.fifo").string();
  std::filesystem::remove(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = slurp(fifo); });
  ASSERT_TRUE(write_file_atomically(fifo, "streamed").is_ok());
  reader.join();
  EXPECT_EQ(received, "streamed");
  EXPECT_EQ(std::filesystem::status(fifo).type(), std::filesystem::file_type::fifo);
  std::filesystem::remove(fifo);
  std::filesystem::remove(link);
  std::filesystem::remove(target);
}

// A process stopped by SIGTERM (or Ctrl-C) while it writes a temporary file removes it on its way out, and
// still ends by that signal.
TEST(AtomicFile, ATemporaryFileGoesWithTheSignalThatStopsTheProcess) {
  const std::string out = (arbiter::test::scratch_root() / "stopped-while-writing.gguf").string();
  for (const int signal : {SIGTERM, SIGINT}) {
    std::string temp;
    const pid_t pid = fork();
    if (pid == 0) {
      const std::string path = temp_path_for(out);
      std::ofstream(path) << "half a model";
      ::raise(signal);
      _exit(0);  // not reached
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == signal) << status;
    EXPECT_FALSE(arbiter::test::temp_file_left_beside(out)) << "signal " << signal;
  }
}

}  // namespace
}  // namespace arbiter
