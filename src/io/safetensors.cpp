// safetensors reader: the JSON header is parsed with nlohmann::json (no exceptions escape), every entry's
// dtype, shape and offsets are checked against the data that is there, and views point into the map.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "io/safetensors_parse.h"

namespace arbiter {

namespace {

struct SafetensorsDType {
  const char* name;
  DType dtype;
};
constexpr SafetensorsDType kDTypes[] = {
    {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"I32", DType::I32},
    {"I64", DType::I64}, {"F64", DType::F64}, {"I8", DType::I8},
};

// A JSON value that is a non-negative integer, as shapes and offsets must be.
bool as_count(const nlohmann::json& j, uint64_t& out) {
  if (j.is_number_unsigned()) {
    out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer() && j.get<int64_t>() >= 0) {
    out = uint64_t(j.get<int64_t>());
    return true;
  }
  return false;
}

}  // namespace

Result<DType> safetensors_dtype(const std::string& name) {
  for (const SafetensorsDType& d : kDTypes) {
    if (name == d.name) return d.dtype;
  }
  return error("unsupported safetensors dtype '" + name + "' (supported: F32 F16 BF16 I32 I64 F64 I8)");
}

const char* safetensors_dtype_name(DType type) {
  for (const SafetensorsDType& d : kDTypes) {
    if (type == d.dtype) return d.name;
  }
  return nullptr;
}

class SafetensorsParser {
 public:
  SafetensorsParser(const uint8_t* data, size_t size, const std::string& path) : data_(data), size_(size), path_(path) {}

  Result<std::shared_ptr<SafetensorsFile>> run(std::shared_ptr<MappedFile> owner) {
    out_ = std::make_shared<SafetensorsFile>();
    out_->path_ = path_;
    out_->file_ = std::move(owner);
    // nlohmann::json throws on type mismatches and allocation failures; none may escape.
    try {
      ARB_TRY(parse());
    } catch (const std::exception& e) {
      return fail(std::string("invalid header: ") + e.what());
    }
    return std::move(out_);
  }

 private:
  Status fail(const std::string& message) const { return error(path_ + ": " + message); }

  Status parse() {
    uint64_t header_len = 0;
    if (size_ < 8) return fail("too small to be safetensors (" + std::to_string(size_) + " bytes)");
    std::memcpy(&header_len, data_, 8);  // little-endian, as is the host
    // The reference implementation refuses headers over 100 MB; a larger one is corrupt or hostile.
    if (header_len > kSafetensorsMaxHeaderBytes) {
      return fail("header length " + std::to_string(header_len) + " exceeds the format's limit of 100000000");
    }
    if (header_len > size_ - 8) {
      return fail("header length " + std::to_string(header_len) + " exceeds the file size " + std::to_string(size_));
    }
    const char* begin = reinterpret_cast<const char*>(data_ + 8);
    nlohmann::json header = nlohmann::json::parse(begin, begin + header_len, nullptr, /*allow_exceptions=*/false);
    if (header.is_discarded()) return fail("header is not valid JSON");
    if (!header.is_object()) return fail("header is not a JSON object");
    data_start_ = 8 + size_t(header_len);
    for (const auto& [key, entry] : header.items()) {
      if (key == "__metadata__") {
        ARB_TRY(read_metadata(entry));
      } else {
        ARB_TRY(read_tensor(key, entry));
      }
    }
    // JSON objects have no order; storage order is the natural one to list tensors in.
    std::stable_sort(out_->tensors_.begin(), out_->tensors_.end(), [&](const TensorView& a, const TensorView& b) {
      return a.data < b.data;
    });
    // The tensors fill the data section one after the other, as the format's own reader requires: two that
    // overlap would read each other's bytes, and a gap or bytes left over mean a header that does not
    // describe the file (a tensor lost, or a key given twice).
    const uint8_t* expected = data_ + data_start_;
    for (const TensorView& t : out_->tensors_) {
      const auto* at = static_cast<const uint8_t*>(t.data);
      if (at != expected)
        return fail("tensor '" + t.name + "': data begins at byte " + std::to_string(at - (data_ + data_start_)) +
                    " of the data section, where the tensors before it end at " +
                    std::to_string(expected - (data_ + data_start_)) + " (" + (at < expected ? "they overlap" : "a gap") +
                    "): the file is damaged");
      expected = at + t.nbytes;
    }
    if (expected != data_ + size_)
      return fail("the tensors end at byte " + std::to_string(expected - data_) + " of " + std::to_string(size_) +
                  ": the file holds bytes its header does not describe");
    for (size_t t = 0; t < out_->tensors_.size(); ++t) {
      if (!out_->index_.emplace(out_->tensors_[t].name, t).second) {
        return fail("duplicate tensor '" + out_->tensors_[t].name + "'");
      }
    }
    return Status::ok();
  }

  Status read_metadata(const nlohmann::json& entry) {
    if (!entry.is_object()) return fail("__metadata__ is not an object");
    for (const auto& [key, value] : entry.items()) {
      if (!value.is_string()) return fail("__metadata__ value of '" + key + "' is not a string");
      out_->metadata_[key] = value.get<std::string>();
    }
    return Status::ok();
  }

  Status read_tensor(const std::string& name, const nlohmann::json& entry) {
    const std::string what = "tensor '" + name + "'";
    if (!entry.is_object()) return fail(what + ": entry is not an object");
    const auto dtype_it = entry.find("dtype");
    const auto shape_it = entry.find("shape");
    const auto offsets_it = entry.find("data_offsets");
    if (dtype_it == entry.end() || !dtype_it->is_string()) return fail(what + ": missing or non-string dtype");
    if (shape_it == entry.end() || !shape_it->is_array()) return fail(what + ": missing or non-array shape");
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
      return fail(what + ": data_offsets must be an array of two integers");
    }
    const std::string dtype_name = dtype_it->get<std::string>();
    Result<DType> dtype = safetensors_dtype(dtype_name);
    if (!dtype.is_ok()) return fail(what + ": " + dtype.message());

    TensorView view;
    view.name = name;
    view.dtype = *dtype;
    uint64_t numel = 1;
    for (const nlohmann::json& dim : *shape_it) {
      uint64_t d = 0;
      if (!as_count(dim, d) || d > uint64_t(INT64_MAX)) return fail(what + ": shape holds a non-count " + dim.dump());
      if (__builtin_mul_overflow(numel, d, &numel) || numel > uint64_t(INT64_MAX)) {
        return fail(what + ": element count overflows");
      }
      view.shape.push_back(int64_t(d));
    }
    uint64_t begin = 0;
    uint64_t end = 0;
    if (!as_count((*offsets_it)[0], begin) || !as_count((*offsets_it)[1], end)) {
      return fail(what + ": data_offsets must be non-negative integers");
    }
    const uint64_t data_size = size_ - data_start_;
    if (begin > end || end > data_size) {
      return fail(what + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                  "] are outside the data section (" + std::to_string(data_size) + " bytes)");
    }
    uint64_t expected = 0;
    if (__builtin_mul_overflow(numel, uint64_t(dtype_info(view.dtype).block_bytes), &expected) ||
        end - begin != expected) {
      return fail(what + ": " + dtype_name + " " + view.shape_string() + " needs " + std::to_string(expected) +
                  " bytes but data_offsets span " + std::to_string(end - begin));
    }
    view.data = data_ + data_start_ + begin;
    view.nbytes = size_t(end - begin);
    out_->tensors_.push_back(std::move(view));
    return Status::ok();
  }

  const uint8_t* data_;
  size_t size_;
  const std::string& path_;
  size_t data_start_ = 0;
  std::shared_ptr<SafetensorsFile> out_;
};

Result<std::shared_ptr<SafetensorsFile>> parse_safetensors(const uint8_t* data, size_t size, const std::string& path,
                                                           std::shared_ptr<MappedFile> owner) {
  SafetensorsParser parser(data, size, path);
  return parser.run(std::move(owner));
}

Result<std::shared_ptr<SafetensorsFile>> SafetensorsFile::open(const std::string& path) {
  ARB_ASSIGN(std::shared_ptr<MappedFile> file, MappedFile::open(path));
  const uint8_t* data = file->data();
  const size_t size = file->size();
  return parse_safetensors(data, size, path, std::move(file));
}

const TensorView* SafetensorsFile::tensor(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace arbiter
