// write_file_atomically: the file is whole or as it was, and no temporary is left behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

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

// Sets a file's modification time `seconds` into the past.
void age(const std::string& path, int seconds) {
  namespace fs = std::filesystem;
  fs::last_write_time(path, fs::file_time_type::clock::now() - std::chrono::seconds(seconds));
}

TEST(AtomicFile, TheNextWriterRemovesWhatAKilledOneLeft) {
  namespace fs = std::filesystem;
  const fs::path folder = arbiter::test::scratch_root() / "killed-writer";
  fs::remove_all(folder);
  fs::create_directories(folder);
  const std::string out = (folder / "head.json").string();

  // A writer killed with SIGKILL cannot remove its temporary file; its lock went with it.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string temp = temp_path_for(out);
    std::FILE* f = open_temp_file(temp);
    std::fputs("half a head", f);
    std::fflush(f);
    (void)!::write(ready[1], "x", 1);
    for (;;) ::pause();
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  // While its writer lives (however old the file), the file is in use: it stays.
  const auto left = [&] {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(folder)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  };
  std::vector<std::string> names = left();
  ASSERT_EQ(names.size(), 1u);
  const std::string killed = (folder / names[0]).string();
  age(killed, 3600);
  ASSERT_TRUE(write_file_atomically(out, "one").is_ok());
  EXPECT_TRUE(fs::exists(killed)) << "a live writer's file was removed";
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ::close(ready[0]);
  ::close(ready[1]);

  // Beside it, all of which stay: a file just written (it may be a writer's between creating and locking
  // it), another output's temporary file, names that only look like one (a date where the pid would be),
  // and a file of a writer that lives but has closed it (a split model's finished files, not yet renamed).
  const std::string ended = std::to_string(pid);  // the killed writer's pid: ended
  const std::string fresh = out + ".tmp-" + ended + "-7", other = out + "2.tmp-" + ended + "-2",
                    lookalike = out + ".tmp-1-x", dated = out + ".tmp-20241201-1",
                    closed = out + ".tmp-" + std::to_string(::getpid()) + "-99";
  for (const std::string& path : {fresh, other, lookalike, dated, closed}) std::ofstream(path) << "x";
  for (const std::string& path : {other, lookalike, dated, closed}) age(path, 3600);
  ASSERT_TRUE(write_file_atomically(out, "two").is_ok());
  EXPECT_FALSE(fs::exists(killed)) << "the killed writer's file is still there";
  EXPECT_EQ(slurp(out), "two");
  for (const std::string& path : {fresh, other, lookalike, dated, closed}) EXPECT_TRUE(fs::exists(path)) << path;
  fs::remove_all(folder);
}

}  // namespace
}  // namespace arbiter
