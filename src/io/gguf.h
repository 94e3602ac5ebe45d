// GGUF files (versions 2 and 3): metadata of every value type, tensor infos, and tensor data used in
// place from a memory map. Also a writer, for conversion and for tests that build small files.
//
// Layout: magic "GGUF", u32 version, u64 tensor_count, u64 kv_count (u32 counts in version 1, which is
// rejected), kv pairs, tensor infos (name, n_dims, ne[n_dims], type, offset), padding to `alignment`
// (general.alignment, default 32), then tensor data; offsets are relative to the data section.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"
#include "io/tensor.h"

namespace arbiter {

enum class GgufType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* gguf_type_name(GgufType type);

// One metadata value. Scalars keep their exact type so a file reads back and writes out unchanged.
struct GgufValue {
  GgufType type = GgufType::UINT32;
  uint64_t u = 0;                  // unsigned integers and bool
  int64_t i = 0;                   // signed integers
  double f = 0;                    // FLOAT32 / FLOAT64
  std::string str;                 // STRING
  GgufType array_type = GgufType::UINT8;  // ARRAY: element type
  std::vector<GgufValue> array;    // ARRAY: elements

  // Conversions that accept any type of the same kind; nullopt when the kind differs.
  std::optional<int64_t> as_int() const;      // any integer type or bool
  std::optional<double> as_double() const;    // any number
  std::optional<bool> as_bool() const;        // BOOL or an integer
  const std::string* as_string() const;       // STRING only

  static GgufValue from_string(std::string s);
  static GgufValue from_u32(uint32_t v);
  static GgufValue from_i32(int32_t v);
  static GgufValue from_u64(uint64_t v);
  static GgufValue from_f32(float v);
  static GgufValue from_bool(bool v);
  static GgufValue from_strings(const std::vector<std::string>& items);
  static GgufValue from_f32s(const std::vector<float>& items);
  static GgufValue from_i32s(const std::vector<int32_t>& items);
};

class GgufFile {
 public:
  // A model split across files by llama.cpp's gguf-split (NAME-00001-of-00003.gguf, ...) opens as one
  // from its first file: that file's metadata (less the split.* keys), every file's tensors.
  static Result<std::shared_ptr<GgufFile>> open(const std::string& path);

  const std::string& path() const { return path_; }
  // The files the tensors come from, first to last: path() alone unless the model is split.
  std::vector<std::string> files() const;
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* find(const std::string& key) const;
  std::optional<int64_t> get_int(const std::string& key) const;
  std::optional<double> get_double(const std::string& key) const;
  std::optional<bool> get_bool(const std::string& key) const;
  std::optional<std::string> get_string(const std::string& key) const;
  // Arrays; an error names the key when it is missing or of the wrong type.
  Result<std::vector<std::string>> get_string_array(const std::string& key) const;
  Result<std::vector<float>> get_float_array(const std::string& key) const;
  Result<std::vector<int64_t>> get_int_array(const std::string& key) const;

  // Tensors in file order; shape is row-major (ggml's ne[] reversed).
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* tensor(const std::string& name) const;

 private:
  std::string path_;
  std::shared_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::unordered_map<std::string, size_t> metadata_index_;
  std::vector<TensorView> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
  std::vector<std::shared_ptr<GgufFile>> shards_;  // a split model's later files, kept mapped
  friend class GgufParser;
  // Opens a split model's later files beside `first` and takes their tensors into it (io/gguf_split.cpp).
  static Result<std::shared_ptr<GgufFile>> join_shards(std::shared_ptr<GgufFile> first);
};

// Builds a GGUF v3 file. Metadata keeps insertion order (set() on an existing key replaces it in place).
class GgufWriter {
 public:
  void set(const std::string& key, GgufValue value);
  // shape row-major; data must hold row_bytes(dtype, shape.back()) * rows bytes and is copied.
  Status add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape, const void* data,
                    size_t nbytes);
  // Writes to a temporary file beside path (temp_path_for) and renames, so a failed write never leaves a partial file at path.
  Status write(const std::string& path) const;

 private:
  struct PendingTensor {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<PendingTensor> tensors_;
};

// A tensor's entry in a GGUF header, for writers that stream tensor data after the header instead of
// holding every tensor in memory as GgufWriter does.
struct GgufTensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // row-major
};

// The bytes from the magic to the start of the data section of a GGUF v3 file with this metadata and
// these tensors, laid out as GgufWriter lays them out (each tensor at a multiple of the alignment, which
// is returned through `alignment`). The data section follows: tensor i's row_bytes * rows bytes, each
// padded with zeros to the alignment.
Result<std::vector<uint8_t>> gguf_header_bytes(const std::vector<std::pair<std::string, GgufValue>>& metadata,
                                               const std::vector<GgufTensorInfo>& tensors, uint64_t* alignment);

}  // namespace arbiter
