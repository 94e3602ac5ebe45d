// GGUF reader: parses the header of a mapped file with every count and length checked against the bytes
// that are actually there, so a corrupt or hostile file gives an error and never a crash or a huge
// allocation. Tensor data is not copied: TensorView::data points into the map.
#include <cstring>
#include <new>

#include "io/gguf.h"
#include "io/gguf_parse.h"

namespace arbiter {

namespace {

constexpr uint32_t kMaxDims = 4;
// Nested arrays are legal but rare; the limit keeps recursion (and the stack) bounded on hostile input.
constexpr int kMaxArrayDepth = 16;
// Beyond this an alignment is certainly corrupt; it also keeps align_up from overflowing.
constexpr uint64_t kMaxAlignment = uint64_t(1) << 30;
// Counts are checked against the bytes left, but an entry in memory is ~100x its smallest encoding:
// reserving more than this up front would let a file claim far more memory than it holds.
constexpr uint64_t kMaxReserve = 1 << 16;

size_t capped_reserve(uint64_t count) { return size_t(count < kMaxReserve ? count : kMaxReserve); }

// Smallest number of bytes a value of this type occupies in the file (strings and arrays: their header).
size_t min_value_bytes(GgufType type) {
  switch (type) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
    case GgufType::UINT16: case GgufType::INT16: return 2;
    case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
    case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: return 8;
    case GgufType::STRING: return 8;   // u64 length
    case GgufType::ARRAY: return 12;   // u32 element type + u64 count
  }
  return 1;
}

bool known_value_type(uint32_t t) { return t <= uint32_t(GgufType::FLOAT64); }

}  // namespace

// Friend of GgufFile: fills its private fields while walking the bytes once, front to back.
class GgufParser {
 public:
  GgufParser(const uint8_t* data, size_t size, const std::string& path) : data_(data), size_(size), path_(path) {}

  Result<std::shared_ptr<GgufFile>> run(std::shared_ptr<MappedFile> owner) {
    out_ = std::make_shared<GgufFile>();
    out_->path_ = path_;
    out_->file_ = std::move(owner);
    ARB_TRY(read_header());
    ARB_TRY(read_metadata());
    ARB_TRY(read_alignment());
    ARB_TRY(read_tensor_infos());
    ARB_TRY(place_tensor_data());
    return std::move(out_);
  }

 private:
  Status fail(const std::string& message) const { return error(path_ + ": " + message); }

  size_t remaining() const { return size_ - pos_; }

  Status read_bytes(void* dst, size_t n, const std::string& what) {
    if (n > remaining()) {
      return fail("truncated at byte " + std::to_string(pos_) + " reading " + what + " (" + std::to_string(n) +
                  " bytes needed, " + std::to_string(remaining()) + " left)");
    }
    std::memcpy(dst, data_ + pos_, n);
    pos_ += n;
    return Status::ok();
  }

  // GGUF is little-endian and so are the machines arbiter targets (x86-64), so a copy is a decode.
  template <typename T>
  Status read_le(T& out, const std::string& what) {
    return read_bytes(&out, sizeof(T), what);
  }

  Status read_string(std::string& out, const std::string& what) {
    uint64_t length = 0;
    ARB_TRY(read_le(length, what));
    if (length > remaining()) {
      return fail(what + ": string length " + std::to_string(length) + " at byte " + std::to_string(pos_ - 8) +
                  " exceeds the " + std::to_string(remaining()) + " bytes left in the file");
    }
    out.assign(reinterpret_cast<const char*>(data_ + pos_), size_t(length));
    pos_ += size_t(length);
    return Status::ok();
  }

  Status read_header() {
    char magic[4];
    if (size_ < 4) return fail("not a GGUF file (only " + std::to_string(size_) + " bytes)");
    ARB_TRY(read_bytes(magic, 4, "magic"));
    if (std::memcmp(magic, "GGUF", 4) != 0) return fail("not a GGUF file (bad magic)");
    uint32_t version = 0;
    ARB_TRY(read_le(version, "version"));
    if (version == 1) return fail("GGUF version 1 is not supported (only versions 2 and 3)");
    if (version != 2 && version != 3) {
      const uint32_t swapped = __builtin_bswap32(version);
      if (swapped == 2 || swapped == 3) return fail("big-endian GGUF files are not supported");
      return fail("unsupported GGUF version " + std::to_string(version) + " (only versions 2 and 3)");
    }
    out_->version_ = version;
    ARB_TRY(read_le(tensor_count_, "tensor count"));
    ARB_TRY(read_le(kv_count_, "metadata count"));
    return Status::ok();
  }

  Status read_metadata() {
    // The smallest pair is an empty key (8), a type (4) and a one-byte value: a larger count cannot fit.
    constexpr size_t kMinPairBytes = 8 + 4 + 1;
    if (kv_count_ > remaining() / kMinPairBytes) {
      return fail("metadata count " + std::to_string(kv_count_) + " cannot fit in the " +
                  std::to_string(remaining()) + " bytes left");
    }
    out_->metadata_.reserve(capped_reserve(kv_count_));
    for (uint64_t k = 0; k < kv_count_; ++k) {
      std::string key;
      ARB_TRY(read_string(key, "metadata key #" + std::to_string(k)));
      if (out_->metadata_index_.count(key)) return fail("duplicate metadata key '" + key + "'");
      uint32_t type = 0;
      ARB_TRY(read_le(type, "type of key '" + key + "'"));
      if (!known_value_type(type)) return fail("key '" + key + "': unknown value type " + std::to_string(type));
      GgufValue value;
      ARB_TRY(read_value(GgufType(type), value, 0, "key '" + key + "'"));
      out_->metadata_index_.emplace(key, out_->metadata_.size());
      out_->metadata_.emplace_back(std::move(key), std::move(value));
    }
    return Status::ok();
  }

  Status read_value(GgufType type, GgufValue& out, int depth, const std::string& what) {
    out.type = type;
    switch (type) {
      case GgufType::UINT8: { uint8_t x; ARB_TRY(read_le(x, what)); out.u = x; break; }
      case GgufType::UINT16: { uint16_t x; ARB_TRY(read_le(x, what)); out.u = x; break; }
      case GgufType::UINT32: { uint32_t x; ARB_TRY(read_le(x, what)); out.u = x; break; }
      case GgufType::UINT64: { uint64_t x; ARB_TRY(read_le(x, what)); out.u = x; break; }
      case GgufType::INT8: { int8_t x; ARB_TRY(read_le(x, what)); out.i = x; break; }
      case GgufType::INT16: { int16_t x; ARB_TRY(read_le(x, what)); out.i = x; break; }
      case GgufType::INT32: { int32_t x; ARB_TRY(read_le(x, what)); out.i = x; break; }
      case GgufType::INT64: { int64_t x; ARB_TRY(read_le(x, what)); out.i = x; break; }
      case GgufType::FLOAT32: { float x; ARB_TRY(read_le(x, what)); out.f = x; break; }
      case GgufType::FLOAT64: { double x; ARB_TRY(read_le(x, what)); out.f = x; break; }
      case GgufType::BOOL: { uint8_t x; ARB_TRY(read_le(x, what)); out.u = x != 0; break; }
      case GgufType::STRING: ARB_TRY(read_string(out.str, what)); break;
      case GgufType::ARRAY: ARB_TRY(read_array(out, depth, what)); break;
    }
    return Status::ok();
  }

  Status read_array(GgufValue& out, int depth, const std::string& what) {
    if (depth >= kMaxArrayDepth) return fail(what + ": arrays nested deeper than " + std::to_string(kMaxArrayDepth));
    uint32_t element_type = 0;
    uint64_t count = 0;
    ARB_TRY(read_le(element_type, what + " array type"));
    if (!known_value_type(element_type)) {
      return fail(what + ": unknown array element type " + std::to_string(element_type));
    }
    ARB_TRY(read_le(count, what + " array length"));
    const size_t min_bytes = min_value_bytes(GgufType(element_type));
    if (count > remaining() / min_bytes) {
      return fail(what + ": array of " + std::to_string(count) + " " + gguf_type_name(GgufType(element_type)) +
                  " cannot fit in the " + std::to_string(remaining()) + " bytes left");
    }
    out.array_type = GgufType(element_type);
    out.array.reserve(capped_reserve(count));
    for (uint64_t e = 0; e < count; ++e) {
      // The element's index joins the message only on failure: vocabularies have 10^5 elements.
      Status status = read_value(out.array_type, out.array.emplace_back(), depth + 1, what);
      if (!status.is_ok()) return error(status.message() + " (array element " + std::to_string(e) + ")");
    }
    return Status::ok();
  }

  Status read_alignment() {
    const GgufValue* value = out_->find("general.alignment");
    if (value == nullptr) return Status::ok();
    const std::optional<int64_t> alignment = value->as_int();
    if (!alignment || value->type == GgufType::BOOL) {
      return fail(std::string("key 'general.alignment' is ") + gguf_type_name(value->type) + ", expected an integer");
    }
    const int64_t a = *alignment;
    if (a <= 0 || uint64_t(a) > kMaxAlignment || (a & (a - 1)) != 0) {
      return fail("key 'general.alignment' is " + std::to_string(a) + ", expected a power of two");
    }
    out_->alignment_ = uint64_t(a);
    return Status::ok();
  }

  Status read_tensor_infos() {
    // The smallest info is an empty name (8), n_dims (4), type (4) and offset (8).
    constexpr size_t kMinInfoBytes = 8 + 4 + 4 + 8;
    if (tensor_count_ > remaining() / kMinInfoBytes) {
      return fail("tensor count " + std::to_string(tensor_count_) + " cannot fit in the " +
                  std::to_string(remaining()) + " bytes left");
    }
    out_->tensors_.reserve(capped_reserve(tensor_count_));
    offsets_.reserve(capped_reserve(tensor_count_));
    for (uint64_t t = 0; t < tensor_count_; ++t) {
      TensorView view;
      uint64_t offset = 0;
      ARB_TRY(read_tensor_info(t, view, offset));
      if (view.name.empty())
        return fail("tensor " + std::to_string(t) + " of " + std::to_string(tensor_count_) +
                    " has no name (the header's tensor count may exceed the tensors it describes)");
      if (out_->tensor_index_.count(view.name)) return fail("duplicate tensor '" + view.name + "'");
      out_->tensor_index_.emplace(view.name, out_->tensors_.size());
      out_->tensors_.push_back(std::move(view));
      offsets_.push_back(offset);
    }
    return Status::ok();
  }

  Status read_tensor_info(uint64_t index, TensorView& view, uint64_t& offset) {
    ARB_TRY(read_string(view.name, "name of tensor #" + std::to_string(index)));
    const std::string what = "tensor '" + view.name + "'";
    uint32_t n_dims = 0;
    ARB_TRY(read_le(n_dims, what + " n_dims"));
    if (n_dims > kMaxDims) return fail(what + ": n_dims " + std::to_string(n_dims) + " exceeds 4");
    int64_t ne[kMaxDims] = {1, 1, 1, 1};
    int64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      ARB_TRY(read_le(ne[d], what + " dimension " + std::to_string(d)));
      if (ne[d] <= 0) return fail(what + ": dimension " + std::to_string(d) + " is " + std::to_string(ne[d]));
      if (__builtin_mul_overflow(numel, ne[d], &numel)) return fail(what + ": element count overflows");
    }
    uint32_t type = 0;
    ARB_TRY(read_le(type, what + " type"));
    const DTypeInfo info = dtype_info(DType(type));
    if (!info.known) return fail(what + ": unknown tensor type number " + std::to_string(type));
    if (ne[0] % info.block_elems != 0) {
      return fail(what + ": row of " + std::to_string(ne[0]) + " elements is not a multiple of the " + info.name +
                  " block size " + std::to_string(info.block_elems));
    }
    ARB_TRY(read_le(offset, what + " offset"));
    if (offset % out_->alignment_ != 0) {
      return fail(what + ": data offset " + std::to_string(offset) + " is not a multiple of the alignment " +
                  std::to_string(out_->alignment_));
    }
    // Bytes = blocks * block_bytes; blocks <= numel fits int64, the product may not.
    uint64_t nbytes = 0;
    if (__builtin_mul_overflow(uint64_t(numel / info.block_elems), uint64_t(info.block_bytes), &nbytes)) {
      return fail(what + ": byte size overflows");
    }
    view.dtype = DType(type);
    view.nbytes = size_t(nbytes);
    // ne[] is innermost first; the row-major shape is its reverse.
    for (uint32_t d = n_dims; d-- > 0;) view.shape.push_back(ne[d]);
    return Status::ok();
  }

  Status place_tensor_data() {
    const uint64_t alignment = out_->alignment_;
    const uint64_t data_start = (uint64_t(pos_) + alignment - 1) / alignment * alignment;
    // A vocab-only file may end right after the metadata, without padding: fine when nothing follows.
    if (out_->tensors_.empty()) return Status::ok();
    if (data_start > size_) {
      return fail("tensor data section at byte " + std::to_string(data_start) + " starts past the end of the file (" +
                  std::to_string(size_) + " bytes)");
    }
    const uint64_t data_size = size_ - data_start;
    // Tensors lie one after the other in header order, each padded to the alignment (llama.cpp refuses any
    // other layout): two that overlap, or a type that no longer fills its tensor's place, would read other
    // bytes as weights.
    uint64_t expected = 0;
    for (size_t t = 0; t < out_->tensors_.size(); ++t) {
      TensorView& view = out_->tensors_[t];
      const uint64_t offset = offsets_[t];
      if (offset > data_size || view.nbytes > data_size - offset) {
        return fail("tensor '" + view.name + "': data [" + std::to_string(offset) + ", +" +
                    std::to_string(view.nbytes) + ") extends past the end of the data section (" +
                    std::to_string(data_size) + " bytes)");
      }
      if (offset != expected)
        return fail("tensor '" + view.name + "': data at offset " + std::to_string(offset) + ", where the tensors before it " +
                    "end at " + std::to_string(expected) + " (tensors lie one after the other, padded to " +
                    std::to_string(alignment) + " bytes): the file is damaged");
      expected += (uint64_t(view.nbytes) + alignment - 1) / alignment * alignment;
      view.data = data_ + data_start + offset;
    }
    return Status::ok();
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& path_;
  uint64_t tensor_count_ = 0;
  uint64_t kv_count_ = 0;
  std::vector<uint64_t> offsets_;  // per tensor, relative to the data section
  std::shared_ptr<GgufFile> out_;
};

Result<std::shared_ptr<GgufFile>> parse_gguf(const uint8_t* data, size_t size, const std::string& path,
                                             std::shared_ptr<MappedFile> owner) {
  GgufParser parser(data, size, path);
  // Only allocation can throw here; a header too large for memory is an error like any other.
  try {
    return parser.run(std::move(owner));
  } catch (const std::bad_alloc&) {
    return error(path + ": out of memory while reading the GGUF header");
  }
}

Result<std::shared_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  ARB_ASSIGN(std::shared_ptr<MappedFile> file, MappedFile::open(path));
  const uint8_t* data = file->data();
  const size_t size = file->size();
  ARB_ASSIGN(std::shared_ptr<GgufFile> gguf, parse_gguf(data, size, path, std::move(file)));
  if (gguf->find("split.count") == nullptr) return gguf;
  return join_shards(std::move(gguf));
}

std::vector<std::string> GgufFile::files() const {
  std::vector<std::string> paths{path_};
  for (const std::shared_ptr<GgufFile>& shard : shards_) paths.push_back(shard->path());
  return paths;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

std::optional<int64_t> GgufFile::get_int(const std::string& key) const {
  const GgufValue* v = find(key);
  return v ? v->as_int() : std::nullopt;
}

std::optional<double> GgufFile::get_double(const std::string& key) const {
  const GgufValue* v = find(key);
  return v ? v->as_double() : std::nullopt;
}

std::optional<bool> GgufFile::get_bool(const std::string& key) const {
  const GgufValue* v = find(key);
  return v ? v->as_bool() : std::nullopt;
}

std::optional<std::string> GgufFile::get_string(const std::string& key) const {
  const GgufValue* v = find(key);
  const std::string* s = v ? v->as_string() : nullptr;
  return s ? std::optional<std::string>(*s) : std::nullopt;
}

namespace {

// The array at `key`, or an error naming the file and key.
Result<const GgufValue*> find_array(const GgufFile& file, const std::string& key, const char* expected) {
  const GgufValue* v = file.find(key);
  if (v == nullptr) return error(file.path() + ": key '" + key + "' not found");
  if (v->type != GgufType::ARRAY) {
    return error(file.path() + ": key '" + key + "' is " + gguf_type_name(v->type) + ", expected an array of " +
                 expected);
  }
  return v;
}

Status wrong_element(const GgufFile& file, const std::string& key, const GgufValue& v, const char* expected) {
  return error(file.path() + ": key '" + key + "' is an array of " + gguf_type_name(v.array_type) +
               ", expected an array of " + expected);
}

}  // namespace

Result<std::vector<std::string>> GgufFile::get_string_array(const std::string& key) const {
  ARB_ASSIGN(const GgufValue* v, find_array(*this, key, "string"));
  if (v->array_type != GgufType::STRING) return wrong_element(*this, key, *v, "string");
  std::vector<std::string> out;
  out.reserve(v->array.size());
  for (const GgufValue& e : v->array) out.push_back(e.str);
  return out;
}

Result<std::vector<float>> GgufFile::get_float_array(const std::string& key) const {
  ARB_ASSIGN(const GgufValue* v, find_array(*this, key, "numbers"));
  std::vector<float> out;
  out.reserve(v->array.size());
  for (const GgufValue& e : v->array) {
    const std::optional<double> x = e.as_double();
    if (!x) return wrong_element(*this, key, *v, "numbers");
    out.push_back(float(*x));
  }
  return out;
}

Result<std::vector<int64_t>> GgufFile::get_int_array(const std::string& key) const {
  ARB_ASSIGN(const GgufValue* v, find_array(*this, key, "integers"));
  if (v->array_type == GgufType::BOOL) return wrong_element(*this, key, *v, "integers");
  std::vector<int64_t> out;
  out.reserve(v->array.size());
  for (size_t n = 0; n < v->array.size(); ++n) {
    const std::optional<int64_t> x = v->array[n].as_int();
    if (!x) {
      if (v->array_type == GgufType::UINT64) {
        return error(path_ + ": key '" + key + "' element " + std::to_string(n) + " exceeds the int64 range");
      }
      return wrong_element(*this, key, *v, "integers");
    }
    out.push_back(*x);
  }
  return out;
}

const TensorView* GgufFile::tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace arbiter
