// Parquet's integer encodings: the RLE / bit-packed hybrid (levels, dictionary indices, booleans) and
// DELTA_BINARY_PACKED (integers, and the lengths inside the DELTA_*_BYTE_ARRAY encodings). Decoders
// read exactly the values asked for and report the bytes they used; running out of input is an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"

namespace arbiter::data::parquet {

// `count` values of `bit_width` bits (0-32) from the hybrid encoding in data[0, size) (no length prefix).
Status decode_hybrid(const uint8_t* data, size_t size, int bit_width, size_t count, uint32_t* out);

// DELTA_BINARY_PACKED: all the values its header announces (at most `max_count`, which bounds the
// allocation), appended to out; returns the bytes read.
Result<size_t> decode_delta_binary_packed(const uint8_t* data, size_t size, size_t max_count,
                                          std::vector<int64_t>& out);

// The bits needed for values up to max_value (0 for 0).
int bit_width_of(uint32_t max_value);

}  // namespace arbiter::data::parquet
