// GGUF v3 writer: metadata in insertion order, tensor infos, then tensor data, each tensor starting at a
// multiple of the alignment (general.alignment when set, else 32) and padded after, as gguf-py does.
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/atomic_file.h"
#include "io/gguf.h"

namespace arbiter {

namespace {

constexpr uint64_t kDefaultAlignment = 32;

// Appends little-endian bytes to a buffer; the header is small enough to build in memory.
struct ByteSink {
  std::vector<uint8_t> bytes;

  template <typename T>
  void put(T x) {
    uint8_t raw[sizeof(T)];
    std::memcpy(raw, &x, sizeof(T));
    bytes.insert(bytes.end(), raw, raw + sizeof(T));
  }
  void put_string_bytes(const std::string& s) { bytes.insert(bytes.end(), s.begin(), s.end()); }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    put_string_bytes(s);
  }
  void pad_to(uint64_t alignment) {
    while (bytes.size() % alignment != 0) bytes.push_back(0);
  }
};

Status put_value(ByteSink& sink, const GgufValue& v, const std::string& key) {
  switch (v.type) {
    case GgufType::UINT8: sink.put<uint8_t>(uint8_t(v.u)); break;
    case GgufType::UINT16: sink.put<uint16_t>(uint16_t(v.u)); break;
    case GgufType::UINT32: sink.put<uint32_t>(uint32_t(v.u)); break;
    case GgufType::UINT64: sink.put<uint64_t>(v.u); break;
    case GgufType::INT8: sink.put<int8_t>(int8_t(v.i)); break;
    case GgufType::INT16: sink.put<int16_t>(int16_t(v.i)); break;
    case GgufType::INT32: sink.put<int32_t>(int32_t(v.i)); break;
    case GgufType::INT64: sink.put<int64_t>(v.i); break;
    case GgufType::FLOAT32: sink.put<float>(float(v.f)); break;
    case GgufType::FLOAT64: sink.put<double>(v.f); break;
    case GgufType::BOOL: sink.put<uint8_t>(v.u != 0 ? 1 : 0); break;
    case GgufType::STRING: sink.put_string(v.str); break;
    case GgufType::ARRAY:
      if (uint32_t(v.array_type) > uint32_t(GgufType::FLOAT64)) {
        return error("key '" + key + "': unknown array element type " + std::to_string(uint32_t(v.array_type)));
      }
      sink.put<uint32_t>(uint32_t(v.array_type));
      sink.put<uint64_t>(v.array.size());
      for (size_t e = 0; e < v.array.size(); ++e) {
        // A GGUF array has one element type; a mixed one would write bytes no reader can parse.
        if (v.array[e].type != v.array_type) {
          return error("key '" + key + "': array element " + std::to_string(e) + " is " +
                       gguf_type_name(v.array[e].type) + " in an array of " + gguf_type_name(v.array_type));
        }
        ARB_TRY(put_value(sink, v.array[e], key));
      }
      break;
    default:
      return error("key '" + key + "': unknown value type " + std::to_string(uint32_t(v.type)));
  }
  return Status::ok();
}

Result<uint64_t> writer_alignment(const std::vector<std::pair<std::string, GgufValue>>& metadata) {
  for (const auto& [key, value] : metadata) {
    if (key != "general.alignment") continue;
    const std::optional<int64_t> a = value.as_int();
    if (!a || *a <= 0 || (*a & (*a - 1)) != 0) return error("general.alignment must be a power of two");
    return uint64_t(*a);
  }
  return kDefaultAlignment;
}

uint64_t align_up(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

Status write_all(std::FILE* f, const void* data, size_t n, const std::string& path) {
  if (n != 0 && std::fwrite(data, 1, n, f) != n) return error(path + ": write failed");
  return Status::ok();
}

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(key, std::move(value));
}

Status GgufWriter::add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
                              const void* data, size_t nbytes) {
  for (const PendingTensor& t : tensors_) {
    if (t.name == name) return error("GGUF writer: duplicate tensor '" + name + "'");
  }
  if (shape.empty() || shape.size() > 4) {
    return error("GGUF writer: tensor '" + name + "' has " + std::to_string(shape.size()) + " dimensions (1..4)");
  }
  int64_t rows = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] <= 0) return error("GGUF writer: tensor '" + name + "' has a non-positive dimension");
    if (d + 1 < shape.size() && __builtin_mul_overflow(rows, shape[d], &rows)) {
      return error("GGUF writer: tensor '" + name + "' element count overflows");
    }
  }
  Result<size_t> row = row_bytes(dtype, shape.back());
  if (!row.is_ok()) return error("GGUF writer: tensor '" + name + "': " + row.message());
  size_t expected = 0;
  if (__builtin_mul_overflow(*row, size_t(rows), &expected)) {
    return error("GGUF writer: tensor '" + name + "' byte size overflows");
  }
  if (expected != nbytes) {
    return error("GGUF writer: tensor '" + name + "' " + dtype_name(dtype) + " " + TensorView{name, dtype, shape}.shape_string() +
                 " needs " + std::to_string(expected) + " bytes, got " + std::to_string(nbytes));
  }
  const uint8_t* bytes = static_cast<const uint8_t*>(data);
  tensors_.push_back(PendingTensor{name, dtype, shape, std::vector<uint8_t>(bytes, bytes + nbytes)});
  return Status::ok();
}

Status GgufWriter::write(const std::string& path) const {
  Result<uint64_t> alignment_result = writer_alignment(metadata_);
  if (!alignment_result.is_ok()) return error(path + ": " + alignment_result.message());
  const uint64_t alignment = *alignment_result;

  ByteSink header;
  header.bytes.reserve(4096);  // also spares GCC 12 a false -Wstringop-overflow on the first insert
  header.put_string_bytes("GGUF");
  header.put<uint32_t>(3);
  header.put<uint64_t>(tensors_.size());
  header.put<uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    header.put_string(key);
    header.put<uint32_t>(uint32_t(value.type));
    Status status = put_value(header, value, key);
    if (!status.is_ok()) return status.with_context(path);
  }
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    header.put_string(t.name);
    header.put<uint32_t>(uint32_t(t.shape.size()));
    for (size_t d = t.shape.size(); d-- > 0;) header.put<int64_t>(t.shape[d]);  // ne[]: innermost first
    header.put<uint32_t>(uint32_t(t.dtype));
    header.put<uint64_t>(offset);
    offset = align_up(offset + t.bytes.size(), alignment);
  }
  if (!tensors_.empty()) header.pad_to(alignment);

  const std::string target = rename_target(path);
  if (target.empty()) return error(path + ": " + why_not_a_file(path) + ", not a file: write the model to a file");
  const std::string tmp_path = temp_path_for(target);
  std::FILE* f = open_temp_file(tmp_path);
  // Errors name the file asked for, and the temporary one being written in its place.
  const std::string writing = path + " (written as " + tmp_path + ")";
  if (f == nullptr) return error(writing + ": cannot open for writing: " + std::strerror(errno));
  Status status = write_all(f, header.bytes.data(), header.bytes.size(), writing);
  const std::vector<uint8_t> zeros(alignment, 0);
  for (size_t t = 0; t < tensors_.size() && status.is_ok(); ++t) {
    const std::vector<uint8_t>& bytes = tensors_[t].bytes;
    status = write_all(f, bytes.data(), bytes.size(), writing);
    const size_t padding = size_t(align_up(bytes.size(), alignment) - bytes.size());
    if (status.is_ok()) status = write_all(f, zeros.data(), padding, writing);
  }
  if (std::fclose(f) != 0 && status.is_ok()) status = error(writing + ": write failed on close");
  if (status.is_ok() && std::rename(tmp_path.c_str(), target.c_str()) != 0) {
    status = error(path + ": cannot rename from " + tmp_path + ": " + std::strerror(errno));
  }
  if (!status.is_ok()) std::remove(tmp_path.c_str());
  return status;
}

Result<std::vector<uint8_t>> gguf_header_bytes(const std::vector<std::pair<std::string, GgufValue>>& metadata,
                                               const std::vector<GgufTensorInfo>& tensors, uint64_t* alignment) {
  ARB_ASSIGN(const uint64_t align, writer_alignment(metadata));
  ByteSink header;
  header.bytes.reserve(4096);
  header.put_string_bytes("GGUF");
  header.put<uint32_t>(3);
  header.put<uint64_t>(tensors.size());
  header.put<uint64_t>(metadata.size());
  for (const auto& [key, value] : metadata) {
    header.put_string(key);
    header.put<uint32_t>(uint32_t(value.type));
    ARB_TRY(put_value(header, value, key));
  }
  uint64_t offset = 0;
  for (const GgufTensorInfo& t : tensors) {
    if (t.shape.empty() || t.shape.size() > 4) {
      return error("tensor '" + t.name + "' has " + std::to_string(t.shape.size()) + " dimensions (1..4)");
    }
    int64_t rows = 1;
    for (size_t d = 0; d + 1 < t.shape.size(); ++d) rows *= t.shape[d];
    Result<size_t> row = row_bytes(t.dtype, t.shape.back());
    if (!row.is_ok()) return error("tensor '" + t.name + "': " + row.message());
    header.put_string(t.name);
    header.put<uint32_t>(uint32_t(t.shape.size()));
    for (size_t d = t.shape.size(); d-- > 0;) header.put<int64_t>(t.shape[d]);  // ne[]: innermost first
    header.put<uint32_t>(uint32_t(t.dtype));
    header.put<uint64_t>(offset);
    offset = align_up(offset + *row * uint64_t(rows), align);
  }
  if (!tensors.empty()) header.pad_to(align);
  if (alignment != nullptr) *alignment = align;
  return std::move(header.bytes);
}

}  // namespace arbiter
