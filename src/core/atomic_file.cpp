#include "core/atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <atomic>
#include <filesystem>
#include <unistd.h>

#include "core/temp_cleanup.h"

namespace arbiter {

std::string temp_path_for(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  std::string temp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  register_temp_file(temp);  // removed if a signal stops the process while it is written
  return temp;
}

bool is_stream_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string absolute = fs::absolute(path, ec).lexically_normal().string();
  if (absolute.rfind("/dev/", 0) == 0 || absolute.rfind("/proc/", 0) == 0) return true;
  const fs::file_status target = fs::status(path, ec);
  return fs::exists(target) && !fs::is_regular_file(target) && !fs::is_directory(target);
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

Status write_file_atomically(const std::string& path, std::string_view bytes) {
  const std::string target = rename_target(path);
  if (target.empty()) {  // a device or FIFO: written in place
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return error(path + ": cannot write: " + std::strerror(errno));
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    if (std::fclose(f) != 0 || !written) return error(path + ": write failed: " + std::strerror(errno));
    return Status::ok();
  }
  const std::string tmp = temp_path_for(target);
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return error(path + ": cannot write (" + tmp + ": " + std::strerror(errno) + ")");
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const int write_errno = errno;
  if (std::fclose(f) != 0 || !written) {
    std::remove(tmp.c_str());
    return error(path + ": write failed: " + std::strerror(written ? errno : write_errno));
  }
  if (std::rename(tmp.c_str(), target.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return error(path + ": cannot rename " + tmp + " into place: " + why);
  }
  return Status::ok();
}

}  // namespace arbiter
