// A column of numbers from a file: a JSON array of numbers, a JSON array of objects, or JSONL of
// objects (or bare numbers). Used for score and label files.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace arbiter::data {

class JsonRowReader;
struct JsonRow;

// The number one row holds: the row itself (a bare number), or its `field`. Errors name the row; an error
// line of a scoring run is refused with the hint to pair files by id.
Result<double> row_number(const JsonRowReader& rows, const JsonRow& row, const std::string& field);

// `field` picks the number out of object rows; it may be empty when rows are bare numbers.
// Errors name the file and the row (line) that is not a number or lacks the field.
Result<std::vector<double>> read_number_column(const std::string& path, const std::string& field);

// The same column with each row's id (`id_field`: a string, or an integer written in decimal), for
// pairing two files by id. Error lines of a scoring run (objects with a string `error` field) are left
// out and counted. A file whose first row has no id is a dataset without ids: each row's id is its
// 0-based index, as score and judge name such rows; otherwise a row without an id is an error naming it.
struct KeyedColumn {
  std::vector<std::string> ids;
  std::vector<double> values;
  size_t error_rows = 0;
  std::vector<std::string> error_ids;  // the ids of the error lines (those that carry the id field)
  bool by_index = false;  // the rows have no ids: `ids` are their indices in the file
  // Every row carries a row_digest: a scoring run's lines of dataset rows without ids, whose ids are the
  // rows' indices (so they pair with files known by position).
  bool index_ids = true;
};
Result<KeyedColumn> read_keyed_number_column(const std::string& path, const std::string& field,
                                             const std::string& id_field);

}  // namespace arbiter::data
