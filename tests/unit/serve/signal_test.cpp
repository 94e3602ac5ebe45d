// `arbiter serve` stops on SIGTERM / SIGINT by finishing what is in flight and exiting 0, however many
// compute threads it runs: a signal delivered to a compute thread would end the process at once.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

struct Finished {
  int exit_code = -1;
  bool signalled = false;
  std::string log;
};

// Starts `arbiter ARGS`, waits for it to say it serves, sends `signal`, and collects how it ended.
Finished serve_then_signal(const std::vector<std::string>& args, int signal) {
  Finished f;
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return f;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    dup2(pipe_fds[1], STDERR_FILENO);
    close(pipe_fds[0]);
    std::vector<char*> argv = {const_cast<char*>(ARBITER_BINARY)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(ARBITER_BINARY, argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool signalled = false;
  char buf[4096];
  for (;;) {
    pollfd p{pipe_fds[0], POLLIN, 0};
    if (poll(&p, 1, 200) > 0) {
      const ssize_t n = read(pipe_fds[0], buf, sizeof buf);
      if (n <= 0) break;
      f.log.append(buf, size_t(n));
    }
    if (!signalled && f.log.find("serving ") != std::string::npos) {
      kill(pid, signal);
      signalled = true;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      break;
    }
  }
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  f.signalled = WIFSIGNALED(status);
  f.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return f;
}

TEST(ServeSignals, StopsCleanlyWithSeveralComputeThreads) {
  if (!std::filesystem::exists(ARBITER_BINARY)) GTEST_SKIP() << "arbiter binary not built: " << ARBITER_BINARY;
  const std::vector<std::string> common = {"serve", "--random-weights", "--shape", "tiny", "--host", "127.0.0.1",
                                           "--port", "0"};
  for (const auto& [prefix, signal] : {std::pair<std::vector<std::string>, int>{{"-t", "3"}, SIGTERM},
                                       {{"-t", "3"}, SIGINT},
                                       {{}, SIGTERM}}) {
    std::vector<std::string> args = prefix;
    args.insert(args.end(), common.begin(), common.end());
    if (prefix.empty()) {
      args.push_back("--threads");
      args.push_back("3");
    }
    const Finished f = serve_then_signal(args, signal);
    EXPECT_FALSE(f.signalled) << "killed by the signal instead of stopping\n" << f.log;
    EXPECT_EQ(f.exit_code, 0) << f.log;
    EXPECT_NE(f.log.find("server stopped"), std::string::npos) << f.log;
  }
}

}  // namespace
