#include "core/atomic_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <signal.h>
#include <filesystem>
#include <sys/file.h>
#include <unistd.h>

#include "core/log.h"
#include "core/temp_cleanup.h"

namespace arbiter {

std::string temp_path_for(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  std::string temp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  register_temp_file(temp);  // removed if a signal stops the process while it is written
  return temp;
}

namespace {

// Whether `name` is `stem` + ".tmp-" + digits + "-" + digits: a temporary file temp_path_for made.
bool is_temp_name_of(const std::string& name, const std::string& stem) {
  const std::string prefix = stem + ".tmp-";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return false;
  const std::string rest = name.substr(prefix.size());
  const size_t dash = rest.find('-');
  if (dash == 0 || dash == std::string::npos || dash + 1 == rest.size()) return false;
  for (size_t i = 0; i < rest.size(); ++i)
    if (i != dash && (rest[i] < '0' || rest[i] > '9')) return false;
  return true;
}

// A writer creates its file and then locks it: a file modified this recently may be one between the two.
constexpr auto kStaleAfter = std::chrono::seconds(10);

// Whether the process `pid` of this machine has ended: a writer that closed its finished file (and so let
// its lock go) but has not renamed it yet is alive. A number no process can have (a date in a name that
// only looks like ours) is not taken for an ended writer.
bool writer_has_ended(const std::string& pid_text) {
  long long pid = 0;
  for (char c : pid_text) {
    pid = pid * 10 + (c - '0');
    if (pid > 4194304) return false;  // above Linux's largest pid_max
  }
  return pid > 0 && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH;
}

// Removes the temporary files of `target` that no writer holds: the process named in them has ended, their
// lock is free (a writer's lock goes with its process, however it ends: on a shared file system, a writer
// on another machine still holds it) and they were last written a while ago.
void remove_abandoned_temp_files(const std::filesystem::path& target) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string stem = target.filename().string();
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!is_temp_name_of(name, stem) || !it->is_regular_file(ec)) continue;
    const std::string pid = name.substr(stem.size() + 5, name.find('-', stem.size() + 5) - (stem.size() + 5));
    if (!writer_has_ended(pid)) continue;
    const auto written = fs::last_write_time(it->path(), ec);
    if (ec || fs::file_time_type::clock::now() - written < kStaleAfter) continue;
    const int fd = ::open(it->path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::unlink(it->path().c_str()) == 0)
      log_info("removed " + it->path().string() + ", left by a run of this output that was stopped");
    ::close(fd);
  }
}

}  // namespace

std::FILE* open_temp_file(const std::string& temp) {
  const size_t mark = temp.rfind(".tmp-");
  if (mark != std::string::npos) remove_abandoned_temp_files(temp.substr(0, mark));
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (f == nullptr) return nullptr;
  // Held until the file is closed, or the process ends however it ends: a later run sees it in use.
  (void)::flock(fileno(f), LOCK_EX | LOCK_NB);
  // The file it will replace keeps its permissions (a private 0600 output stays private).
  struct stat replaced {};
  if (mark != std::string::npos && ::stat(temp.substr(0, mark).c_str(), &replaced) == 0 && S_ISREG(replaced.st_mode))
    (void)::fchmod(fileno(f), replaced.st_mode & 0777);  // not setuid / setgid, as cp and editors leave them
  return f;
}

bool is_stream_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string absolute = fs::absolute(path, ec).lexically_normal().string();
  if (absolute.rfind("/dev/", 0) == 0 || absolute.rfind("/proc/", 0) == 0) return true;
  const fs::file_status target = fs::status(path, ec);
  return fs::exists(target) && !fs::is_regular_file(target) && !fs::is_directory(target);
}

std::string why_not_a_file(const std::string& path) {
  std::error_code ec;
  if (path.empty()) return "is an empty name";
  if (std::filesystem::is_directory(path, ec)) return "is a directory";
  if (!std::filesystem::exists(path, ec)) return "is a name under /dev or /proc, which arbiter writes as a stream";
  return "is a device, FIFO or socket";
}

std::string rename_target(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (is_stream_path(path)) return "";
  const fs::file_status target = fs::status(path, ec);
  if (fs::exists(target) && !fs::is_regular_file(target)) return "";
  if (fs::exists(target) && fs::is_symlink(fs::symlink_status(path, ec))) {
    const fs::path resolved = fs::canonical(path, ec);
    if (!ec) return resolved.string();
  }
  return path;
}

namespace {

// One file written to its temporary name, not yet renamed into place. A device or FIFO (no target) is
// written in place when committed.
struct StagedFile {
  std::string path, target, temp;
  std::string_view bytes;
};

Result<StagedFile> stage_file(const std::string& path, std::string_view bytes) {
  StagedFile staged{path, rename_target(path), "", bytes};
  if (staged.target.empty()) return staged;
  staged.temp = temp_path_for(staged.target);
  std::FILE* f = open_temp_file(staged.temp);
  if (f == nullptr) return error(path + ": cannot write (" + staged.temp + ": " + std::strerror(errno) + ")");
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const int write_errno = errno;
  if (std::fclose(f) != 0 || !written) {
    std::remove(staged.temp.c_str());
    return error(path + ": write failed: " + std::strerror(written ? errno : write_errno));
  }
  return staged;
}

Status commit_file(const StagedFile& staged) {
  if (staged.target.empty()) {  // a device or FIFO: written in place
    std::FILE* f = std::fopen(staged.path.c_str(), "wb");
    if (f == nullptr) return error(staged.path + ": cannot write: " + std::strerror(errno));
    const bool written = std::fwrite(staged.bytes.data(), 1, staged.bytes.size(), f) == staged.bytes.size();
    if (std::fclose(f) != 0 || !written) return error(staged.path + ": write failed: " + std::strerror(errno));
    return Status::ok();
  }
  if (std::rename(staged.temp.c_str(), staged.target.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(staged.temp.c_str());
    return error(staged.path + ": cannot rename " + staged.temp + " into place: " + why);
  }
  return Status::ok();
}

}  // namespace

Status write_file_atomically(const std::string& path, std::string_view bytes) {
  ARB_ASSIGN(const StagedFile staged, stage_file(path, bytes));
  return commit_file(staged);
}

Status write_files_atomically(const std::vector<std::pair<std::string, std::string_view>>& files) {
  std::vector<StagedFile> staged;
  staged.reserve(files.size());
  for (const auto& [path, bytes] : files) {
    Result<StagedFile> one = stage_file(path, bytes);
    if (!one.is_ok()) {
      for (const StagedFile& done : staged)
        if (!done.temp.empty()) std::remove(done.temp.c_str());
      return one.status();
    }
    staged.push_back(std::move(*one));
  }
  // Streams (a device or FIFO, written in place) first: one that fails (/dev/full) leaves every file as it
  // was. Renames within a folder need no space, so past this point only a vanished folder or a changed
  // permission can stop a file; the rest are still renamed, and the error names the one that was not.
  for (const StagedFile& file : staged) {
    if (!file.target.empty()) continue;
    if (Status written = commit_file(file); !written.is_ok()) {
      for (const StagedFile& other : staged)
        if (!other.temp.empty()) std::remove(other.temp.c_str());
      return written;
    }
  }
  Status first_failure = Status::ok();
  for (const StagedFile& file : staged)
    if (!file.target.empty())
      if (Status committed = commit_file(file); !committed.is_ok() && first_failure.is_ok()) first_failure = committed;
  return first_failure;
}

}  // namespace arbiter
