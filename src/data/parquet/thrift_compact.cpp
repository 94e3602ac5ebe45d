#include "data/parquet/thrift_compact.h"

#include "data/parquet/zigzag.h"

namespace arbiter::data::parquet {

Result<uint8_t> ThriftReader::read_byte() {
  if (pos_ >= size_) return error("thrift: structure ends early (at byte " + std::to_string(pos_) + ")");
  return data_[pos_++];
}

Result<uint64_t> ThriftReader::read_varint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    ARB_ASSIGN(const uint8_t byte, read_byte());
    value |= uint64_t(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  return error("thrift: varint longer than 10 bytes at byte " + std::to_string(pos_));
}

Status ThriftReader::begin_struct() {
  if (depth_ >= kMaxDepth) return error("thrift: structures nested deeper than " + std::to_string(kMaxDepth));
  last_id_[depth_++] = 0;
  return Status::ok();
}

void ThriftReader::end_struct() {
  if (depth_ > 0) --depth_;
}

Result<ThriftField> ThriftReader::next_field() {
  ARB_ASSIGN(const uint8_t header, read_byte());
  ThriftField field;
  field.type = ThriftType(header & 0x0f);
  if (field.type == ThriftType::kStop) return field;
  if (uint8_t(field.type) > uint8_t(ThriftType::kStruct)) {
    return error("thrift: unknown field type " + std::to_string(header & 0x0f) + " at byte " +
                 std::to_string(pos_ - 1));
  }
  const int delta = header >> 4;
  int16_t& last = last_id_[depth_ > 0 ? depth_ - 1 : 0];
  if (delta != 0) {
    field.id = int16_t(last + delta);
  } else {
    ARB_ASSIGN(const int64_t id, read_int());
    field.id = int16_t(id);
  }
  last = field.id;
  return field;
}

Result<int64_t> ThriftReader::read_int() {
  ARB_ASSIGN(const uint64_t v, read_varint());
  return unzigzag(v);
}

Result<bool> ThriftReader::read_bool(const ThriftField& field) {
  if (field.type == ThriftType::kTrue) return true;
  if (field.type == ThriftType::kFalse) return false;
  return error("thrift: field " + std::to_string(field.id) + " is not a bool");
}

Result<std::string> ThriftReader::read_binary() {
  ARB_ASSIGN(const uint64_t length, read_varint());
  if (length > size_ - pos_) {
    return error("thrift: a string of " + std::to_string(length) + " bytes runs past the end (byte " +
                 std::to_string(pos_) + " of " + std::to_string(size_) + ")");
  }
  std::string s(reinterpret_cast<const char*>(data_ + pos_), size_t(length));
  pos_ += size_t(length);
  return s;
}

Result<ThriftList> ThriftReader::read_list_header() {
  ARB_ASSIGN(const uint8_t header, read_byte());
  ThriftList list;
  list.element = ThriftType(header & 0x0f);
  uint64_t size = header >> 4;
  if (size == 15) {
    ARB_ASSIGN(size, read_varint());
  }
  // Every element takes at least one byte, so a size beyond the bytes left is corrupt (and must not
  // size an allocation).
  if (size > size_ - pos_) {
    return error("thrift: a list of " + std::to_string(size) + " elements cannot fit in the " +
                 std::to_string(size_ - pos_) + " bytes left");
  }
  list.size = uint32_t(size);
  return list;
}

Status ThriftReader::skip(ThriftType type) {
  switch (type) {
    case ThriftType::kTrue:
    case ThriftType::kFalse:
      return Status::ok();  // the value was in the field header
    case ThriftType::kByte:
      return read_byte().status();
    case ThriftType::kI16:
    case ThriftType::kI32:
    case ThriftType::kI64:
      return read_varint().status();
    case ThriftType::kDouble:
      if (size_ - pos_ < 8) return error("thrift: a double runs past the end");
      pos_ += 8;
      return Status::ok();
    case ThriftType::kBinary:
      return read_binary().status();
    case ThriftType::kList:
    case ThriftType::kSet: {
      ARB_ASSIGN(const ThriftList list, read_list_header());
      for (uint32_t i = 0; i < list.size; ++i) {
        // Bools inside a list are one byte each.
        if (list.element == ThriftType::kTrue || list.element == ThriftType::kFalse) {
          ARB_TRY(read_byte().status());
        } else {
          ARB_TRY(skip(list.element));
        }
      }
      return Status::ok();
    }
    case ThriftType::kMap: {
      ARB_ASSIGN(const uint64_t size, read_varint());
      if (size == 0) return Status::ok();
      if (size > size_ - pos_) return error("thrift: a map of " + std::to_string(size) + " entries runs past the end");
      ARB_ASSIGN(const uint8_t types, read_byte());
      for (uint64_t i = 0; i < size; ++i) {
        ARB_TRY(skip(ThriftType(types >> 4)));
        ARB_TRY(skip(ThriftType(types & 0x0f)));
      }
      return Status::ok();
    }
    case ThriftType::kStruct: {
      ARB_TRY(begin_struct());
      while (true) {
        ARB_ASSIGN(const ThriftField field, next_field());
        if (field.type == ThriftType::kStop) break;
        ARB_TRY(skip(field.type));
      }
      end_struct();
      return Status::ok();
    }
    case ThriftType::kStop:
      break;
  }
  return error("thrift: cannot skip a value of type " + std::to_string(int(type)));
}

}  // namespace arbiter::data::parquet
