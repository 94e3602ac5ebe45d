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
