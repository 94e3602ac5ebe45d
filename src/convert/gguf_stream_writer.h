// A GGUF writer that streams: the header (metadata and every tensor's name, type and shape) is written
// first, then each tensor's data in order as the caller produces it, so converting a model holds one
// tensor in memory at a time. Output goes to a temporary file beside PATH (temp_path_for) and is renamed
// to PATH (or the file a link at PATH points to) only by finish(); a writer destroyed before finish()
// removes the temporary file, so a failed run leaves nothing behind.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/gguf.h"

namespace arbiter {

class GgufStreamWriter {
 public:
  static Result<std::unique_ptr<GgufStreamWriter>> open(const std::string& path,
                                                        const std::vector<std::pair<std::string, GgufValue>>& metadata,
                                                        std::vector<GgufTensorInfo> tensors);
  ~GgufStreamWriter();
  GgufStreamWriter(const GgufStreamWriter&) = delete;
  GgufStreamWriter& operator=(const GgufStreamWriter&) = delete;

  // The next tensor's bytes, in the order given to open(); nbytes must be its exact size.
  Status write_next(const void* data, size_t nbytes);
  // Checks every tensor was written, closes and renames the file into place: close() then commit().
  Status finish();
  // The two halves of finish(), for several files that should all land or none (a split model): close()
  // every one, then commit() each. A writer destroyed closed but not committed still removes its file.
  Status close();
  Status commit();
  const std::string& path() const { return path_; }

 private:
  GgufStreamWriter() = default;
  void abandon();

  std::string path_, tmp_path_;
  std::string target_path_;  // renamed over: path_, or the file a link at path_ points to
  std::FILE* file_ = nullptr;
  uint64_t alignment_ = 32;
  std::vector<GgufTensorInfo> tensors_;
  std::vector<size_t> sizes_;
  size_t next_ = 0;
  bool closed_ = false, finished_ = false;
};

// Bytes of a tensor with this type and row-major shape; an error names the tensor.
Result<size_t> tensor_bytes(const std::string& name, DType dtype, const std::vector<int64_t>& shape);

}  // namespace arbiter
