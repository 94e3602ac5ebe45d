// safetensors writer: header JSON in the given tensor order (padded with spaces to 8 bytes, as the
// reference implementation does, so the data that follows stays 8-byte aligned), then the raw bytes.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "core/atomic_file.h"
#include "io/safetensors.h"

namespace arbiter {

namespace {

OwnedTensor make_tensor(const std::string& name, DType dtype, std::vector<int64_t> shape, const void* values,
                        size_t nbytes) {
  OwnedTensor t;
  t.name = name;
  t.dtype = dtype;
  t.shape = std::move(shape);
  const uint8_t* bytes = static_cast<const uint8_t*>(values);
  t.bytes.assign(bytes, bytes + nbytes);
  return t;
}

Result<std::string> build_header(const std::vector<OwnedTensor>& tensors,
                                 const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header["__metadata__"] = std::move(meta);
  }
  std::unordered_set<std::string> names;
  uint64_t offset = 0;
  for (const OwnedTensor& t : tensors) {
    if (t.name == "__metadata__" || !names.insert(t.name).second) {
      return error("tensor '" + t.name + "': duplicate or reserved name");
    }
    const char* dtype = safetensors_dtype_name(t.dtype);
    if (dtype == nullptr) {
      return error("tensor '" + t.name + "': dtype " + dtype_name(t.dtype) + " cannot be stored in safetensors");
    }
    uint64_t numel = 1;
    for (int64_t d : t.shape) {
      if (d < 0 || __builtin_mul_overflow(numel, uint64_t(d), &numel)) {
        return error("tensor '" + t.name + "': invalid shape");
      }
    }
    const size_t size = t.byte_size();
    if (numel * dtype_info(t.dtype).block_bytes != size) {
      return error("tensor '" + t.name + "': " + std::to_string(numel) + " " + dtype + " elements need " +
                   std::to_string(numel * dtype_info(t.dtype).block_bytes) + " bytes, got " + std::to_string(size));
    }
    header[t.name] = {{"dtype", dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  std::string text = header.dump();  // throws on invalid UTF-8 in a name: caught by the caller
  while (text.size() % 8 != 0) text += ' ';
  // Readers refuse a longer header (the format's own limit, and arbiter's reader): a file no one could
  // read back is not written.
  if (text.size() > kSafetensorsMaxHeaderBytes)
    return error("the header (tensor names, shapes and metadata) takes " + std::to_string(text.size()) +
                 " bytes, more than the format's limit of " + std::to_string(kSafetensorsMaxHeaderBytes));
  return text;
}

}  // namespace

OwnedTensor make_f32_tensor(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values) {
  return make_tensor(name, DType::F32, std::move(shape), values.data(), values.size() * sizeof(float));
}

OwnedTensor make_i32_tensor(const std::string& name, std::vector<int64_t> shape, const std::vector<int32_t>& values) {
  return make_tensor(name, DType::I32, std::move(shape), values.data(), values.size() * sizeof(int32_t));
}

namespace {

// The header, with errors (a JSON error, one past the format's size limit) naming `what`.
Result<std::string> header_for(const std::string& what, const std::vector<OwnedTensor>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  Result<std::string> header = error("");
  try {
    header = build_header(tensors, metadata);
  } catch (const std::exception& e) {
    return error(what + ": cannot build header: " + e.what());
  }
  if (!header.is_ok()) return error(what + ": " + header.message());
  return header;
}

}  // namespace

Result<std::string> safetensors_bytes(const std::string& what, const std::vector<OwnedTensor>& tensors,
                                      const std::map<std::string, std::string>& metadata) {
  ARB_ASSIGN(const std::string header, header_for(what, tensors, metadata));
  const uint64_t header_len = header.size();
  std::string bytes(reinterpret_cast<const char*>(&header_len), 8);
  bytes += header;
  for (const OwnedTensor& t : tensors) {
    bytes.append(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
    for (const auto& [data, size] : t.pieces) bytes.append(reinterpret_cast<const char*>(data), size);
  }
  return bytes;
}

Status write_safetensors(const std::string& path, const std::vector<OwnedTensor>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  Result<std::string> header = header_for(path, tensors, metadata);
  if (!header.is_ok()) return header.status();

  const std::string target = rename_target(path);
  if (target.empty()) return error(path + ": " + why_not_a_file(path) + ", not a file: write the tensors to a file");
  const std::string tmp_path = temp_path_for(target);
  std::FILE* f = open_temp_file(tmp_path);
  if (f == nullptr) return error(path + ": cannot write (" + tmp_path + ": " + std::strerror(errno) + ")");
  const uint64_t header_len = header->size();
  bool ok = std::fwrite(&header_len, 8, 1, f) == 1 && std::fwrite(header->data(), 1, header->size(), f) == header->size();
  for (const OwnedTensor& t : tensors) {
    if (ok && !t.bytes.empty()) ok = std::fwrite(t.bytes.data(), 1, t.bytes.size(), f) == t.bytes.size();
    for (const auto& [data, size] : t.pieces)
      if (ok && size > 0) ok = std::fwrite(data, 1, size, f) == size;
  }
  int write_errno = ok ? 0 : errno;
  if (std::fclose(f) != 0 && ok) {
    ok = false;
    write_errno = errno;
  }
  if (!ok) {
    std::remove(tmp_path.c_str());
    return error(path + ": write failed: " + std::strerror(write_errno));
  }
  if (std::rename(tmp_path.c_str(), target.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(tmp_path.c_str());
    return error(path + ": cannot rename from " + tmp_path + ": " + reason);
  }
  return Status::ok();
}

}  // namespace arbiter
