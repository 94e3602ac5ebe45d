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

std::optional<size_t> DatasetReader::earlier_row_of(const std::string& id, bool own_id, size_t row_index) {
  if (!own_id) {
    // Known by its index, which no other row without an id shares: only a row whose own id spells it can.
    if (const auto named = row_of_id_.find(id); named != row_of_id_.end()) return named->second;
    if (by_index_.size() <= row_index) by_index_.resize(row_index + 1, false);
    by_index_[row_index] = true;
    return std::nullopt;
  }
  // An id spelled as a row index ("12", not "012") may be an earlier row's known by its index.
  const bool index_like = !id.empty() && id.size() < 19 && id.find_first_not_of("0123456789") == std::string::npos &&
                          (id.size() == 1 || id[0] != '0');
  if (index_like) {
    const size_t k = size_t(std::stoull(id));
    if (k < by_index_.size() && by_index_[k]) return k;
  }
  const auto [first, fresh] = row_of_id_.emplace(id, row_index);
  if (!fresh) return first->second;
  return std::nullopt;
}

Status DatasetReader::unreadable(size_t index, Status status) {
  unreadable_rows_.insert(index);
  const std::string id = std::to_string(index);
  if (const std::optional<size_t> first = earlier_row_of(id, /*own_id=*/false, index)) {
    dataset_error_ = true;
    return error(status.message() + "; unread, the row is known by its index " + id + ", which is the id of row " +
                 std::to_string(*first) + " too: outputs know rows by id; give the rows ids of their own, or key "
                 "rows by their index with --field id= (nothing after '=')");
  }
  return status;
}

Result<bool> DatasetReader::next(Example& example) {
  JsonRow row;
  const size_t index = rows_read_;  // this row's, whether it can be read or not
  Result<bool> read = rows_.next(row);
  if (!read) {
    ++rows_read_;
    return unreadable(index, read.status());
  }
  if (!*read) return false;
  ++rows_read_;
  // Every row is read with the first row's schema, so a row lacking a field is an error, not a silent
  // switch to another reading.
  if (schema_ == Schema::kAuto) schema_ = detect_schema(row.value);
  // Every output line is known by its row's id (resume skips the ids a file holds; select, pairs and eval
  // join by id), so two rows of one id would be one row to all of them.
  // An id is a string or an integer written in decimal: a float or a boolean would be written as some
  // spelling of itself (1.5, true) that other tools do not share.
  const auto mapped = options_.mapping.fields.find("id");
  const std::string id_field = mapped == options_.mapping.fields.end() ? "id" : mapped->second;
  if (row.value.is_object()) {
    const auto given = row.value.find(id_field);
    if (given != row.value.end() && !given->is_null() && !given->is_string() && !given->is_number_integer())
      return unreadable(row.row_index,
                        error(rows_.where(row) + ": field '" + id_field + "' is " + std::string(given->type_name()) +
                              (given->is_number() ? " (not an integer)" : "") + ": an id is a string or an integer"));
  }
  const std::string id = row_id(row.value, options_.mapping, row.row_index);
  const bool own_id = row_has_id(row.value, options_.mapping);
  if (const std::optional<size_t> first = earlier_row_of(id, own_id, row.row_index)) {
    dataset_error_ = true;
    // Rows counted from 0, as error lines and row indices count them.
    const std::string row_number = row.line > 0 ? " (row " + std::to_string(row.row_index) + ")" : "";
    return error(rows_.where(row) + row_number + ": id '" + id + "'" +
                 (own_id ? "" : " (this row has no id: it is known by its index)") + " is the id of row " +
                 std::to_string(*first) +
                 (unreadable_rows_.count(*first) ? " (which could not be read, and is known by its index)" : "") +
                 " too: outputs know rows by id (a resumed run, select, pairs and eval would take the two for one); "
                 "give each row its own id, take ids from another field with --field id=NAME, or key rows by their "
                 "index with --field id= (nothing after '=')");
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
