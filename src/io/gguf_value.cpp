// GgufValue: typed metadata values, their conversions and constructors.
#include <limits>

#include "io/gguf.h"

namespace arbiter {

const char* gguf_type_name(GgufType type) {
  switch (type) {
    case GgufType::UINT8: return "uint8";
    case GgufType::INT8: return "int8";
    case GgufType::UINT16: return "uint16";
    case GgufType::INT16: return "int16";
    case GgufType::UINT32: return "uint32";
    case GgufType::INT32: return "int32";
    case GgufType::FLOAT32: return "float32";
    case GgufType::BOOL: return "bool";
    case GgufType::STRING: return "string";
    case GgufType::ARRAY: return "array";
    case GgufType::UINT64: return "uint64";
    case GgufType::INT64: return "int64";
    case GgufType::FLOAT64: return "float64";
  }
  return "unknown";
}

namespace {

bool is_unsigned(GgufType t) {
  return t == GgufType::UINT8 || t == GgufType::UINT16 || t == GgufType::UINT32 || t == GgufType::UINT64;
}
bool is_signed(GgufType t) {
  return t == GgufType::INT8 || t == GgufType::INT16 || t == GgufType::INT32 || t == GgufType::INT64;
}
bool is_float(GgufType t) { return t == GgufType::FLOAT32 || t == GgufType::FLOAT64; }

}  // namespace

std::optional<int64_t> GgufValue::as_int() const {
  if (is_signed(type)) return i;
  if (is_unsigned(type) || type == GgufType::BOOL) {
    // A uint64 above int64's range has no int64 value; saying so beats wrapping to a negative number.
    if (u > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return int64_t(u);
  }
  return std::nullopt;
}

std::optional<double> GgufValue::as_double() const {
  if (is_float(type)) return f;
  if (is_signed(type)) return double(i);
  if (is_unsigned(type)) return double(u);
  return std::nullopt;
}

std::optional<bool> GgufValue::as_bool() const {
  if (type == GgufType::BOOL || is_unsigned(type)) return u != 0;
  if (is_signed(type)) return i != 0;
  return std::nullopt;
}

const std::string* GgufValue::as_string() const { return type == GgufType::STRING ? &str : nullptr; }

GgufValue GgufValue::from_string(std::string s) {
  GgufValue v;
  v.type = GgufType::STRING;
  v.str = std::move(s);
  return v;
}

GgufValue GgufValue::from_u32(uint32_t x) {
  GgufValue v;
  v.type = GgufType::UINT32;
  v.u = x;
  return v;
}

GgufValue GgufValue::from_i32(int32_t x) {
  GgufValue v;
  v.type = GgufType::INT32;
  v.i = x;
  return v;
}

GgufValue GgufValue::from_u64(uint64_t x) {
  GgufValue v;
  v.type = GgufType::UINT64;
  v.u = x;
  return v;
}

GgufValue GgufValue::from_f32(float x) {
  GgufValue v;
  v.type = GgufType::FLOAT32;
  v.f = x;
  return v;
}

GgufValue GgufValue::from_bool(bool x) {
  GgufValue v;
  v.type = GgufType::BOOL;
  v.u = x ? 1 : 0;
  return v;
}

GgufValue GgufValue::from_strings(const std::vector<std::string>& items) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.array_type = GgufType::STRING;
  v.array.reserve(items.size());
  for (const std::string& s : items) v.array.push_back(from_string(s));
  return v;
}

GgufValue GgufValue::from_f32s(const std::vector<float>& items) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.array_type = GgufType::FLOAT32;
  v.array.reserve(items.size());
  for (float x : items) v.array.push_back(from_f32(x));
  return v;
}

GgufValue GgufValue::from_i32s(const std::vector<int32_t>& items) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.array_type = GgufType::INT32;
  v.array.reserve(items.size());
  for (int32_t x : items) v.array.push_back(from_i32(x));
  return v;
}

}  // namespace arbiter
