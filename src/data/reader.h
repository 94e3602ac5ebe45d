// Streams a dataset file (JSONL, JSON array, either gzipped) as Examples of one schema.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

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
  // The row before this one known by `id`, if any; records this one. Rows without an id of their own
  // (most datasets) cost a bit each, not their id.
  std::optional<size_t> earlier_row_of(const std::string& id, bool own_id, size_t row_index);
  // `status`, the error of row `index`, which could not be read (its id with it): the row is known by its
  // index, as its error line is, so an earlier row whose own id spells that index clashes with it, and so
  // does a later one.
  Status unreadable(size_t index, Status status);

  std::unordered_map<std::string, size_t> row_of_id_;  // own ids -> row index, to refuse an id given twice
  std::vector<bool> by_index_;                          // [row index]: the row has no id of its own
  bool dataset_error_ = false;
  size_t rows_read_ = 0;  // rows returned or refused so far: the index of the next
  std::set<size_t> unreadable_rows_;  // rows that could not be read (known by their index), for messages
};

}  // namespace arbiter::data
