#include "core/atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <atomic>
#include <unistd.h>

namespace arbiter {

std::string temp_path_for(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

Status write_file_atomically(const std::string& path, std::string_view bytes) {
  const std::string tmp = temp_path_for(path);
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return error(path + ": cannot write (" + tmp + ": " + std::strerror(errno) + ")");
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const int write_errno = errno;
  if (std::fclose(f) != 0 || !written) {
    std::remove(tmp.c_str());
    return error(path + ": write failed: " + std::strerror(written ? errno : write_errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return error(path + ": cannot rename " + tmp + " into place: " + why);
  }
  return Status::ok();
}

}  // namespace arbiter
