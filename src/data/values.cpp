#include "data/values.h"

#include "data/json_rows.h"

namespace arbiter::data {

Result<std::vector<double>> read_number_column(const std::string& path, const std::string& field) {
  ARB_ASSIGN(JsonRowReader rows, JsonRowReader::open(path));
  std::vector<double> values;
  JsonRow row;
  while (true) {
    ARB_ASSIGN(const bool got, rows.next(row));
    if (!got) break;
    const nlohmann::json* value = &row.value;
    if (row.value.is_object()) {
      if (field.empty()) return error(rows.where(row) + ": rows are objects; name the field that holds the number");
      if (!row.value.contains(field)) return error(rows.where(row) + ": missing field '" + field + "'");
      value = &row.value.at(field);
    }
    if (!value->is_number())
      return error(rows.where(row) + ": " + (field.empty() ? std::string("value") : "field '" + field + "'") +
                   " is " + value->type_name() + ", expected a number");
    values.push_back(value->get<double>());
  }
  return values;
}

}  // namespace arbiter::data
