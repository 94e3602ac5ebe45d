#include "convert/gguf_stream_writer.h"

#include <cerrno>
#include <cstring>

#include "core/atomic_file.h"

namespace arbiter {

Result<size_t> tensor_bytes(const std::string& name, DType dtype, const std::vector<int64_t>& shape) {
  if (shape.empty()) return error("tensor '" + name + "' has no dimensions");
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < shape.size(); ++d) rows *= shape[d];
  Result<size_t> row = row_bytes(dtype, shape.back());
  if (!row.is_ok()) return error("tensor '" + name + "': " + row.message());
  return *row * size_t(rows);
}

Result<std::unique_ptr<GgufStreamWriter>> GgufStreamWriter::open(
    const std::string& path, const std::vector<std::pair<std::string, GgufValue>>& metadata,
    std::vector<GgufTensorInfo> tensors) {
  std::unique_ptr<GgufStreamWriter> w(new GgufStreamWriter());
  w->path_ = path;
  w->target_path_ = rename_target(path);
  if (w->target_path_.empty()) return error(path + ": " + why_not_a_file(path) + ", not a file: write the model to a file");
  w->tmp_path_ = temp_path_for(w->target_path_);
  for (const GgufTensorInfo& t : tensors) {
    ARB_ASSIGN(size_t n, tensor_bytes(t.name, t.dtype, t.shape));
    w->sizes_.push_back(n);
  }
  w->tensors_ = std::move(tensors);
  auto header = gguf_header_bytes(metadata, w->tensors_, &w->alignment_);
  if (!header.is_ok()) return header.status().with_context(path);
  w->file_ = open_temp_file(w->tmp_path_);
  if (w->file_ == nullptr) return error(w->path_ + " (written as " + w->tmp_path_ + "): cannot open for writing: " + std::strerror(errno));
  if (std::fwrite(header->data(), 1, header->size(), w->file_) != header->size()) {
    w->abandon();
    return error(w->path_ + " (written as " + w->tmp_path_ + "): write failed: " + std::strerror(errno));
  }
  return w;
}

GgufStreamWriter::~GgufStreamWriter() {
  if (!finished_) abandon();
}

void GgufStreamWriter::abandon() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  std::remove(tmp_path_.c_str());
}

Status GgufStreamWriter::write_next(const void* data, size_t nbytes) {
  if (file_ == nullptr) return error(path_ + " (written as " + tmp_path_ + "): writer is closed");
  if (next_ >= tensors_.size()) return error(path_ + " (written as " + tmp_path_ + "): more tensors written than declared");
  const GgufTensorInfo& t = tensors_[next_];
  if (nbytes != sizes_[next_]) {
    return error(path_ + " (written as " + tmp_path_ + "): tensor '" + t.name + "' has " + std::to_string(nbytes) + " bytes, declared " +
                 std::to_string(sizes_[next_]));
  }
  static const uint8_t kZeros[64] = {};
  const size_t padding = size_t((alignment_ - nbytes % alignment_) % alignment_);
  bool ok = std::fwrite(data, 1, nbytes, file_) == nbytes;
  for (size_t left = padding; ok && left > 0;) {
    const size_t n = left < sizeof(kZeros) ? left : sizeof(kZeros);
    ok = std::fwrite(kZeros, 1, n, file_) == n;
    left -= n;
  }
  if (!ok) return error(path_ + " (written as " + tmp_path_ + "): write of tensor '" + t.name + "' failed: " + std::strerror(errno));
  ++next_;
  return Status::ok();
}

Status GgufStreamWriter::finish() {
  ARB_TRY(close());
  return commit();
}

Status GgufStreamWriter::close() {
  if (file_ == nullptr) return error(path_ + " (written as " + tmp_path_ + "): writer is closed");
  if (next_ != tensors_.size()) {
    return error(path_ + " (written as " + tmp_path_ + "): " + std::to_string(tensors_.size() - next_) + " declared tensors were not written");
  }
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0) {
    std::remove(tmp_path_.c_str());
    return error(path_ + " (written as " + tmp_path_ + "): write failed on close: " + std::strerror(errno));
  }
  closed_ = true;
  return Status::ok();
}

Status GgufStreamWriter::commit() {
  if (!closed_) return error(path_ + " (written as " + tmp_path_ + "): commit before close");
  if (finished_) return Status::ok();
  if (std::rename(tmp_path_.c_str(), target_path_.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp_path_.c_str());
    return error(path_ + ": cannot rename from " + tmp_path_ + ": " + why);
  }
  finished_ = true;
  return Status::ok();
}

}  // namespace arbiter
