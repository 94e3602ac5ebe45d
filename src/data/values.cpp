#include "data/values.h"

#include <unordered_map>

#include "data/json_rows.h"
#include "data/writer.h"

namespace arbiter::data {

Result<double> row_number(const JsonRowReader& rows, const JsonRow& row, const std::string& field) {
  const nlohmann::json* value = &row.value;
  if (row.value.is_object()) {
    const nlohmann::json* found = field.empty() ? nullptr : find_field(row.value, field);
    if (is_error_line(row.value) && found == nullptr)
      return error(rows.where(row) + ": an error line of the scoring run (" + row.value["error"].get<std::string>() +
                   "); pair the files by id (eval correlate --join id) to leave such rows out");
    if (field.empty()) return error(rows.where(row) + ": rows are objects; name the field that holds the number");
    if (found == nullptr) return error(rows.where(row) + ": missing field '" + field + "'");
    value = found;
  }
  if (!value->is_number())
    return error(rows.where(row) + ": " + (field.empty() ? std::string("value") : "field '" + field + "'") +
                 " is " + value->type_name() + ", expected a number");
  return value->get<double>();
}

Result<std::vector<double>> read_number_column(const std::string& path, const std::string& field) {
  ARB_ASSIGN(JsonRowReader rows, JsonRowReader::open(path));
  std::vector<double> values;
  JsonRow row;
  while (true) {
    ARB_ASSIGN(const bool got, rows.next(row));
    if (!got) break;
    ARB_ASSIGN(const double value, row_number(rows, row, field));
    values.push_back(value);
  }
  return values;
}

Result<KeyedColumn> read_keyed_number_column(const std::string& path, const std::string& field,
                                             const std::string& id_field) {
  ARB_ASSIGN(JsonRowReader rows, JsonRowReader::open(path));
  KeyedColumn column;
  JsonRow row;
  // A dataset without ids (its first row has none) is known by row index, as score and judge name its rows.
  enum class Keys { kUnknown, kField, kIndex } keys = Keys::kUnknown;
  // Where each id's row is, so that an id repeated (outputs joined twice) is named with both places.
  std::unordered_map<std::string, std::string> place_of;
  for (size_t index = 0;; ++index) {
    ARB_ASSIGN(const bool got, rows.next(row));
    if (!got) break;
    const nlohmann::json& r = row.value;
    if (!r.is_object()) return error(rows.where(row) + ": rows must be objects with an '" + id_field + "' to pair by id");
    if (is_error_line(r)) {
      ++column.error_rows;
      if (r.contains(id_field)) column.error_ids.push_back(row_id_string(r[id_field]));
      continue;
    }
    if (keys == Keys::kUnknown) {
      keys = r.contains(id_field) ? Keys::kField : Keys::kIndex;
      column.by_index = keys == Keys::kIndex;
    }
    if (keys == Keys::kIndex) {
      if (r.contains(id_field))
        return error(rows.where(row) + ": has '" + id_field + "', where the rows before it have none (they are known "
                     "by their index): give every row an id, or none");
      column.ids.push_back(std::to_string(index));
      ARB_ASSIGN(const double value, row_number(rows, row, field));
      column.values.push_back(value);
      continue;
    }
    if (!r.contains(id_field)) return error(rows.where(row) + ": missing field '" + id_field + "'");
    column.index_ids = column.index_ids && r.contains("row_digest");
    const nlohmann::json& id = r[id_field];
    if (id.is_string()) {
      column.ids.push_back(id.get<std::string>());
    } else if (id.is_number_integer()) {
      column.ids.push_back(id.dump());
    } else {
      return error(rows.where(row) + ": field '" + id_field + "' is " + id.type_name() + ", expected a string or an integer");
    }
    const auto [earlier, first] = place_of.emplace(column.ids.back(), rows.where(row));
    if (!first)
      return error(rows.where(row) + ": id '" + column.ids.back() + "' appears twice (first at " + earlier->second +
                   "): each row is counted once; were outputs joined twice?");
    ARB_ASSIGN(const double value, row_number(rows, row, field));
    column.values.push_back(value);
  }
  return column;
}

}  // namespace arbiter::data
