// Streams a dataset file (JSONL, JSON array, either gzipped) as Examples of one schema.
#pragma once

#include <string>
#include <unordered_map>

#include "core/status.h"
#include "data/example.h"
#include "data/json_rows.h"
#include "data/schema.h"

namespace arbiter::data {

struct ReaderOptions {
  Schema schema = Schema::kAuto;  // kAuto: decided by the first row's fields
  FieldMapping mapping;
  FileFormat format = FileFormat::kAuto;
};

class DatasetReader {
 public:
  static Result<DatasetReader> open(const std::string& path, const ReaderOptions& options = {});

  // Returns false at the end of the file. Errors name the file and line (or element) of the bad row; a
  // row read but refused (a missing field) leaves `example` holding only its id, index and line.
  Result<bool> next(Example& example);

  // Whether the last error is the dataset's, not one row's (an id two rows share): a run that skips bad
  // rows must stop at it, as skipping either row would not make the ids tell rows apart.
  bool dataset_error() const { return dataset_error_; }

  // The number of rows when the file says it up front (Parquet), else -1.
  int64_t known_row_count() const { return rows_.known_row_count(); }

  // The schema in use: the one asked for, or after the first row, the one detected.
  Schema schema() const { return schema_; }

 private:
  JsonRowReader rows_;
  ReaderOptions options_;
  Schema schema_ = Schema::kAuto;
  std::unordered_map<std::string, size_t> row_of_id_;
  bool dataset_error_ = false;  // id -> row index, to refuse an id given twice
};

}  // namespace arbiter::data
