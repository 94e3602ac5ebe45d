// The type table: names and block geometry of every GGUF type number arbiter knows.
#include <array>
#include <cctype>
#include <string>

#include "quant/dtype.h"

namespace arbiter {
namespace {

// Indexed by type number; gaps (4, 5: the removed Q4_2/Q4_3) and numbers past the end are unknown.
constexpr std::array<DTypeInfo, 31> kTypeTable = {{
    {"F32", 1, 4, true},        // 0
    {"F16", 1, 2, true},        // 1
    {"Q4_0", 32, 18, true},     // 2
    {"Q4_1", 32, 20, true},     // 3
    {"unknown", 0, 0, false},   // 4
    {"unknown", 0, 0, false},   // 5
    {"Q5_0", 32, 22, true},     // 6
    {"Q5_1", 32, 24, true},     // 7
    {"Q8_0", 32, 34, true},     // 8
    {"Q8_1", 32, 36, true},     // 9
    {"Q2_K", 256, 84, true},    // 10
    {"Q3_K", 256, 110, true},   // 11
    {"Q4_K", 256, 144, true},   // 12
    {"Q5_K", 256, 176, true},   // 13
    {"Q6_K", 256, 210, true},   // 14
    {"Q8_K", 256, 292, true},   // 15
    {"IQ2_XXS", 256, 66, true}, // 16
    {"IQ2_XS", 256, 74, true},  // 17
    {"IQ3_XXS", 256, 98, true}, // 18
    {"IQ1_S", 256, 50, true},   // 19
    {"IQ4_NL", 32, 18, true},   // 20
    {"IQ3_S", 256, 110, true},  // 21
    {"IQ2_S", 256, 82, true},   // 22
    {"IQ4_XS", 256, 136, true}, // 23
    {"I8", 1, 1, true},         // 24
    {"I16", 1, 2, true},        // 25
    {"I32", 1, 4, true},        // 26
    {"I64", 1, 8, true},        // 27
    {"F64", 1, 8, true},        // 28
    {"IQ1_M", 256, 56, true},   // 29
    {"BF16", 1, 2, true},       // 30
}};

bool equal_ignoring_case(const std::string& a, const char* b) {
  size_t i = 0;
  for (; i < a.size() && b[i] != '\0'; ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return i == a.size() && b[i] == '\0';
}

}  // namespace

DTypeInfo dtype_info(DType type) {
  const auto number = static_cast<uint32_t>(type);
  if (number >= kTypeTable.size()) return {"unknown", 0, 0, false};
  return kTypeTable[number];
}

Result<DType> dtype_from_name(const std::string& name) {
  for (size_t number = 0; number < kTypeTable.size(); ++number) {
    if (kTypeTable[number].known && equal_ignoring_case(name, kTypeTable[number].name)) {
      return static_cast<DType>(number);
    }
  }
  return error("unknown tensor type name '" + name + "'");
}

Result<size_t> row_bytes(DType type, int64_t n) {
  const DTypeInfo info = dtype_info(type);
  if (!info.known) return error("unknown tensor type number " + std::to_string(static_cast<uint32_t>(type)));
  if (n < 0 || n % info.block_elems != 0) {
    return error("row of " + std::to_string(n) + " elements is not a multiple of the " + info.name +
                 " block size " + std::to_string(info.block_elems));
  }
  return static_cast<size_t>(n / info.block_elems) * info.block_bytes;
}

}  // namespace arbiter
