// Page decompression for Parquet's codecs: SNAPPY and LZ4_RAW decoded here (both are small block
// formats), GZIP through zlib, ZSTD through libzstd. Every output is exactly the size the page header
// promises; anything else is corruption and an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "data/parquet/metadata.h"

namespace arbiter::data::parquet {

// src[0, size) decompressed into out, which is resized to expected_size.
Status decompress(Codec codec, const uint8_t* src, size_t size, size_t expected_size, std::vector<uint8_t>& out);

// The raw (unframed) formats, exposed for tests.
Status snappy_decompress(const uint8_t* src, size_t size, size_t expected_size, uint8_t* dst);
Status lz4_block_decompress(const uint8_t* src, size_t size, size_t expected_size, uint8_t* dst);

}  // namespace arbiter::data::parquet
