#include "data/reader.h"

namespace arbiter::data {

Result<DatasetReader> DatasetReader::open(const std::string& path, const ReaderOptions& options) {
  ARB_ASSIGN(JsonRowReader rows, JsonRowReader::open(path, options.format));
  DatasetReader reader;
  reader.rows_ = std::move(rows);
  reader.options_ = options;
  reader.schema_ = options.schema;
  return reader;
}

Result<bool> DatasetReader::next(Example& example) {
  JsonRow row;
  ARB_ASSIGN(const bool got, rows_.next(row));
  if (!got) return false;
  // Every row is read with the first row's schema, so a row lacking a field is an error, not a silent
  // switch to another reading.
  if (schema_ == Schema::kAuto) schema_ = detect_schema(row.value);
  // Every output line is known by its row's id (resume skips the ids a file holds; select, pairs and eval
  // join by id), so two rows of one id would be one row to all of them.
  const std::string id = row_id(row.value, options_.mapping, row.row_index);
  if (const auto [first, fresh] = row_of_id_.emplace(id, row.row_index); !fresh) {
    dataset_error_ = true;
    return error(rows_.where(row) + ": id '" + id + "' is the id of row " + std::to_string(first->second + 1) +
                 " too: outputs know rows by id (a resumed run, select, pairs and eval would take the two for one); "
                 "give each row its own id, or take ids from another field with --field id=NAME");
  }
  auto parsed = to_example(row.value, schema_, options_.mapping, row.row_index);
  if (!parsed) {
    // The row is refused, but keeps its id: the error line a skipping run writes for it is known by it.
    example = Example{};
    example.id = row_id(row.value, options_.mapping, row.row_index);
    example.id_from_row = row_has_id(row.value, options_.mapping);
    example.row_index = row.row_index;
    example.line = row.line;
    return parsed.status().with_context(rows_.where(row) + " (" + schema_name(schema_) + " row)");
  }
  example = std::move(parsed).value();
  example.line = row.line;
  return true;
}

}  // namespace arbiter::data
