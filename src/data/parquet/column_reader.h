// One column chunk of a row group decoded whole: its definition and repetition levels and its non-null
// values as JSON values, ready for record assembly (file_reader.cpp). Pages may be DATA_PAGE or
// DATA_PAGE_V2, with a dictionary page first; values PLAIN, dictionary (RLE_DICTIONARY,
// PLAIN_DICTIONARY), RLE (booleans), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY or
// BYTE_STREAM_SPLIT; pages compressed with any codec codecs.h reads.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/parquet/metadata.h"

namespace arbiter::data::parquet {

// What the reader needs to know of a leaf column.
struct LeafInfo {
  const SchemaElement* element = nullptr;  // the primitive's schema element (type and annotations)
  std::string path;                        // "a.list.element", for messages
  int max_definition = 0;
  int max_repetition = 0;
};

struct ColumnData {
  std::vector<uint16_t> definition;  // one per entry (empty when max_definition is 0: all defined)
  std::vector<uint16_t> repetition;  // one per entry (empty when max_repetition is 0)
  std::vector<nlohmann::json> values;  // the entries at max_definition, in order
  size_t entries = 0;
};

// Reads the chunk's pages from the file's bytes. Errors name the page.
Status read_column_chunk(const uint8_t* file, size_t file_size, const ColumnChunkMeta& chunk, const LeafInfo& leaf,
                         ColumnData& out);

}  // namespace arbiter::data::parquet
