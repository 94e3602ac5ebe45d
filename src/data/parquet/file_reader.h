// Rows of a Parquet file as JSON objects, one row group decoded at a time: column name -> value, with
// nested groups as objects, LIST columns as arrays, MAP columns as objects (string keys) or arrays of
// {"key", "value"}, and nulls as null. The dataset readers take these rows exactly as they take JSONL
// rows, so every schema and field mapping works on Parquet files too (Hugging Face publishes most
// datasets, RewardBench's among them, as Parquet).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"
#include "data/parquet/column_reader.h"
#include "data/parquet/metadata.h"

namespace arbiter::data::parquet {

// Whether the bytes start with Parquet's magic ("PAR1").
bool has_parquet_magic(const uint8_t* data, size_t size);

class ParquetRowReader {
 public:
  // Move-only: the nodes point into the footer's schema, which moves with its vector.
  ParquetRowReader(ParquetRowReader&&) = default;
  ParquetRowReader& operator=(ParquetRowReader&&) = default;
  ParquetRowReader(const ParquetRowReader&) = delete;
  ParquetRowReader& operator=(const ParquetRowReader&) = delete;

  static Result<ParquetRowReader> open(const std::string& path);
  // The same from bytes in memory; `name` stands for the file in messages.
  static Result<ParquetRowReader> from_bytes(std::vector<uint8_t> bytes, const std::string& name);

  // Returns false after the last row. Errors name the file, row group and column.
  Result<bool> next(nlohmann::json& row);

  int64_t num_rows() const { return meta_.num_rows; }
  const FileMetaData& metadata() const { return meta_; }

  struct Node {
    const SchemaElement* element = nullptr;
    std::vector<int> children;
    int definition = 0;  // optional and repeated nodes from the root to here, this one included
    int repetition = 0;  // repeated nodes from the root to here, this one included
    int leaf = -1;       // the leaf column's index, for primitives
    int first_leaf = 0, end_leaf = 0;  // the leaves under this node: [first_leaf, end_leaf)
    std::string path;
  };

 private:
  ParquetRowReader() = default;
  static Result<ParquetRowReader> parse(ParquetRowReader reader);
  Status load_row_group(size_t index);

  std::string path_;
  std::shared_ptr<MappedFile> file_;                // the mapped file, or
  std::shared_ptr<std::vector<uint8_t>> bytes_;     // the bytes given
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  FileMetaData meta_;
  std::vector<Node> nodes_;  // nodes_[0] is the root
  std::vector<LeafInfo> leaves_;
  std::vector<ColumnData> columns_;  // the current row group's, one per leaf
  std::vector<size_t> level_cursor_, value_cursor_;
  size_t row_group_ = 0;
  int64_t rows_left_in_group_ = 0;
  bool group_loaded_ = false;
};

}  // namespace arbiter::data::parquet
