// safetensors: an 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}
// with optional "__metadata__" (string -> string), then the raw data. Read via a memory map.
// A model directory holds one model.safetensors or shards listed in model.safetensors.index.json.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"
#include "io/tensor.h"

namespace arbiter {

class SafetensorsFile {
 public:
  static Result<std::shared_ptr<SafetensorsFile>> open(const std::string& path);

  const std::string& path() const { return path_; }
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* tensor(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  std::string path_;
  std::shared_ptr<MappedFile> file_;
  std::vector<TensorView> tensors_;
  std::unordered_map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
  friend class SafetensorsParser;
};

// All tensors of a Hugging Face model directory, single-file or sharded.
class SafetensorsModel {
 public:
  static Result<std::shared_ptr<SafetensorsModel>> open_dir(const std::string& dir);

  const TensorView* tensor(const std::string& name) const;
  std::vector<const TensorView*> tensors() const;  // every tensor, shard by shard

 private:
  std::vector<std::shared_ptr<SafetensorsFile>> shards_;
  std::unordered_map<std::string, const TensorView*> index_;
};

// safetensors dtype string <-> DType ("F32", "F16", "BF16", "I32", "I64", "F64", "I8"); the name is
// nullptr for a DType safetensors cannot hold (block formats).
Result<DType> safetensors_dtype(const std::string& name);
const char* safetensors_dtype_name(DType type);

// The longest header readers accept (the format's limit).
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100000000;

struct OwnedTensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
  // Instead of `bytes`: spans of memory written one after the other (parts of mapped files joined into one
  // tensor, never held whole), which must outlive the write.
  std::vector<std::pair<const uint8_t*, size_t>> pieces;

  size_t byte_size() const {
    size_t n = bytes.size();
    for (const auto& [data, size] : pieces) n += size;
    return n;
  }
};
OwnedTensor make_f32_tensor(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values);
OwnedTensor make_i32_tensor(const std::string& name, std::vector<int64_t> shape, const std::vector<int32_t>& values);

// The file's bytes, for small files written together with others (write_files_atomically). `what`
// names the file in errors.
Result<std::string> safetensors_bytes(const std::string& what, const std::vector<OwnedTensor>& tensors,
                                      const std::map<std::string, std::string>& metadata = {});

// Writes tensors in the given order (to a temporary file beside path, then renamed).
Status write_safetensors(const std::string& path, const std::vector<OwnedTensor>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

}  // namespace arbiter
