// Parquet's footer (FileMetaData) and page headers, decoded from Thrift's compact protocol: only the
// fields a reader of whole rows needs; everything else (statistics, indexes, sort orders, encryption)
// is skipped. Field numbers are those of the format's parquet.thrift.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace arbiter::data::parquet {

enum class PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };

// The legacy ConvertedType values this reader acts on.
enum class ConvertedType : int32_t {
  kUtf8 = 0,
  kMap = 1,
  kMapKeyValue = 2,
  kList = 3,
  kEnum = 4,
  kDecimal = 5,
  kUint8 = 11,
  kUint16 = 12,
  kUint32 = 13,
  kUint64 = 14,
  kJson = 19,
};

// The LogicalType union's member this reader acts on (the union's field number).
enum class LogicalKind : int16_t {
  kNone = 0,
  kString = 1,
  kMap = 2,
  kList = 3,
  kEnum = 4,
  kDecimal = 5,
  kInteger = 10,
  kJson = 12,
  kUuid = 14,
  kFloat16 = 15,
};

enum class Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};

enum class Codec : int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kLzo = 3,
  kBrotli = 4,
  kLz4 = 5,
  kZstd = 6,
  kLz4Raw = 7,
};

enum class PageType : int32_t { kData = 0, kIndex = 1, kDictionary = 2, kDataV2 = 3 };

struct SchemaElement {
  std::string name;
  std::optional<PhysicalType> type;  // absent for groups
  int32_t type_length = 0;            // FIXED_LEN_BYTE_ARRAY width
  Repetition repetition = Repetition::kRequired;
  int32_t num_children = 0;
  std::optional<ConvertedType> converted;
  int32_t scale = 0;  // DECIMAL
  LogicalKind logical = LogicalKind::kNone;
  bool integer_signed = true;  // LogicalType INTEGER
};

struct ColumnChunkMeta {
  PhysicalType type = PhysicalType::kBoolean;
  std::vector<std::string> path;
  Codec codec = Codec::kUncompressed;
  int64_t num_values = 0;
  int64_t total_compressed_size = 0;
  int64_t data_page_offset = 0;
  std::optional<int64_t> dictionary_page_offset;
  bool external = false;  // stored in another file (ColumnChunk.file_path)
};

struct RowGroupMeta {
  int64_t num_rows = 0;
  std::vector<ColumnChunkMeta> columns;
};

struct FileMetaData {
  std::vector<SchemaElement> schema;  // depth-first, the root first
  int64_t num_rows = 0;
  std::vector<RowGroupMeta> row_groups;
  std::string created_by;
};

struct DataPageHeader {
  int32_t num_values = 0;
  Encoding encoding = Encoding::kPlain;
  Encoding definition_encoding = Encoding::kRle;
  Encoding repetition_encoding = Encoding::kRle;
};

struct DictionaryPageHeader {
  int32_t num_values = 0;
  Encoding encoding = Encoding::kPlain;
};

struct DataPageHeaderV2 {
  int32_t num_values = 0;
  Encoding encoding = Encoding::kPlain;
  int32_t definition_levels_bytes = 0;
  int32_t repetition_levels_bytes = 0;
  bool is_compressed = true;
};

struct PageHeader {
  PageType type = PageType::kData;
  int32_t uncompressed_size = 0;
  int32_t compressed_size = 0;
  std::optional<DataPageHeader> data;
  std::optional<DictionaryPageHeader> dictionary;
  std::optional<DataPageHeaderV2> data_v2;
  size_t header_bytes = 0;  // the encoded header's own length
};

// The footer's Thrift bytes.
Result<FileMetaData> parse_file_metadata(const uint8_t* data, size_t size);

// The page header at the start of data[0, size).
Result<PageHeader> parse_page_header(const uint8_t* data, size_t size);

const char* codec_name(Codec codec);
const char* encoding_name(Encoding encoding);

}  // namespace arbiter::data::parquet
