// Reads Thrift's compact protocol, the encoding of Parquet's footer and page headers: a cursor over a
// byte range that decodes varints, field headers and strings, and skips any value it is not asked for
// (a newer writer's fields are skipped, never an error). Every read is bounds-checked: a truncated or
// corrupt structure is an error naming what was being read, never a read past the range.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace arbiter::data::parquet {

// The compact protocol's element types (the low nibble of a field header or list header).
enum class ThriftType : uint8_t {
  kStop = 0,
  kTrue = 1,  // a bool field's value is its type
  kFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

struct ThriftField {
  int16_t id = 0;
  ThriftType type = ThriftType::kStop;
};

struct ThriftList {
  ThriftType element = ThriftType::kStop;
  uint32_t size = 0;
};

class ThriftReader {
 public:
  ThriftReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t position() const { return pos_; }

  // Structs: begin, then next_field until kStop, then end. Field ids are deltas within one struct.
  Status begin_struct();
  Result<ThriftField> next_field();
  void end_struct();

  Result<int64_t> read_int();  // i16 / i32 / i64: a zigzag varint
  Result<bool> read_bool(const ThriftField& field);  // a bool field's value is in its header
  Result<std::string> read_binary();
  Result<ThriftList> read_list_header();
  Status skip(ThriftType type);

 private:
  Result<uint64_t> read_varint();
  Result<uint8_t> read_byte();

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  // The last field id of each open struct (ids are written as deltas from it).
  static constexpr int kMaxDepth = 64;
  int16_t last_id_[kMaxDepth] = {};
  int depth_ = 0;
};

}  // namespace arbiter::data::parquet
