// ZigZag decoding, shared by Thrift's compact protocol and Parquet's DELTA_BINARY_PACKED encoding: signed
// integers are stored as unsigned ones with the sign in the lowest bit (0, -1, 1, -2 -> 0, 1, 2, 3).
#pragma once

#include <cstdint>

namespace arbiter::data::parquet {

inline int64_t unzigzag(uint64_t v) { return int64_t(v >> 1) ^ -int64_t(v & 1); }

}  // namespace arbiter::data::parquet
