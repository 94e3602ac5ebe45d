#include "data/describe.h"

#include "data/json_rows.h"
#include "data/schema.h"

namespace arbiter::data {
namespace {

using nlohmann::ordered_json;

const char* physical_name(parquet::PhysicalType type) {
  switch (type) {
    case parquet::PhysicalType::kBoolean: return "BOOLEAN";
    case parquet::PhysicalType::kInt32: return "INT32";
    case parquet::PhysicalType::kInt64: return "INT64";
    case parquet::PhysicalType::kInt96: return "INT96";
    case parquet::PhysicalType::kFloat: return "FLOAT";
    case parquet::PhysicalType::kDouble: return "DOUBLE";
    case parquet::PhysicalType::kByteArray: return "BYTE_ARRAY";
    case parquet::PhysicalType::kFixedLenByteArray: return "FIXED_LEN_BYTE_ARRAY";
  }
  return "?";
}

// A JSON value's shape, one level deep: "string", "number", "list of string", "object", ...
std::string shape_of(const nlohmann::json& value) {
  if (value.is_array()) return value.empty() ? "list" : "list of " + std::string(value.front().type_name());
  return value.type_name();
}

ordered_json parquet_columns(const parquet::FileMetaData& meta) {
  ordered_json columns = ordered_json::array();
  if (meta.row_groups.empty()) return columns;
  for (const parquet::ColumnChunkMeta& chunk : meta.row_groups.front().columns) {
    std::string path;
    for (const std::string& part : chunk.path) path += (path.empty() ? "" : ".") + part;
    columns.push_back({{"path", path}, {"type", physical_name(chunk.type)}, {"codec", parquet::codec_name(chunk.codec)}});
  }
  return columns;
}

}  // namespace

Result<ordered_json> describe_dataset(const std::string& path) {
  ARB_ASSIGN(JsonRowReader reader, JsonRowReader::open(path));
  ordered_json out;
  out["path"] = path;
  out["format"] = reader.format() == FileFormat::kParquet ? "parquet"
                  : reader.one_object()                       ? "json object (one row)"
                  : reader.format() == FileFormat::kJsonArray ? "json array"
                                                              : "jsonl";
  JsonRow row;
  size_t rows = 0;
  nlohmann::json first;
  while (true) {
    ARB_ASSIGN(const bool got, reader.next(row));
    if (!got) break;
    if (rows == 0) {
      // Every reader takes rows as objects: a file of other values is no dataset.
      if (!row.value.is_object())
        return error(reader.where(row) + ": a row must be a JSON object, not " + std::string(row.value.type_name()) +
                     " (a dataset's rows are objects with fields)");
      first = row.value;
    }
    ++rows;
  }
  out["rows"] = rows;
  if (rows > 0) {
    out["schema"] = schema_name(detect_schema(first));
    ordered_json fields = ordered_json::object();
    if (first.is_object())
      for (const auto& [name, value] : first.items()) fields[name] = shape_of(value);
    out["first_row_fields"] = fields;
  }
  if (const parquet::FileMetaData* meta = reader.parquet_metadata()) {
    out["row_groups"] = meta->row_groups.size();
    out["created_by"] = meta->created_by;
    out["columns"] = parquet_columns(*meta);
  }
  return out;
}

}  // namespace arbiter::data
