#include "data/parquet/file_reader.h"

#include <cstring>

namespace arbiter::data::parquet {
namespace {

using nlohmann::json;
using Node = ParquetRowReader::Node;

constexpr int kMaxSchemaDepth = 32;

// Builds nodes from the depth-first schema list, starting at element `index`.
Status build_nodes(const std::vector<SchemaElement>& schema, size_t& index, int parent, int depth,
                   std::vector<Node>& nodes, std::vector<LeafInfo>& leaves) {
  if (index >= schema.size()) return error("the schema lists fewer elements than its groups' children");
  if (depth > kMaxSchemaDepth) return error("the schema is nested deeper than " + std::to_string(kMaxSchemaDepth));
  const SchemaElement& e = schema[index++];
  const int id = int(nodes.size());
  nodes.emplace_back();
  {
    Node& node = nodes.back();
    node.element = &e;
    if (parent >= 0) {
      const Node& up = nodes[size_t(parent)];
      node.definition = up.definition + (e.repetition != Repetition::kRequired ? 1 : 0);
      node.repetition = up.repetition + (e.repetition == Repetition::kRepeated ? 1 : 0);
      node.path = up.path.empty() ? e.name : up.path + "." + e.name;
    }
    node.first_leaf = int(leaves.size());
  }
  if (e.num_children < 0) return error("schema element '" + e.name + "' has a negative child count");
  if (e.num_children == 0 && parent >= 0) {
    if (!e.type) return error("schema element '" + e.name + "' is an empty group");
    Node& node = nodes[size_t(id)];
    node.leaf = int(leaves.size());
    LeafInfo leaf;
    leaf.element = &e;
    leaf.path = node.path;
    leaf.max_definition = node.definition;
    leaf.max_repetition = node.repetition;
    leaves.push_back(leaf);
  }
  for (int c = 0; c < e.num_children; ++c) {
    const int child = int(nodes.size());
    nodes[size_t(id)].children.push_back(child);
    ARB_TRY(build_nodes(schema, index, id, depth + 1, nodes, leaves));
  }
  nodes[size_t(id)].end_leaf = int(leaves.size());
  return Status::ok();
}

bool is_list(const SchemaElement& e) {
  return e.logical == LogicalKind::kList || e.converted == ConvertedType::kList;
}
bool is_map(const SchemaElement& e) {
  return e.logical == LogicalKind::kMap || e.converted == ConvertedType::kMap ||
         e.converted == ConvertedType::kMapKeyValue;
}

// Record assembly: walks the schema for one row, taking each leaf's next entry (definition and
// repetition level, and a value when defined) as the structure calls for it. A null or empty node
// still holds one entry in every leaf below it, which is taken and dropped.
class Assembler {
 public:
  Assembler(const std::vector<Node>& nodes, const std::vector<LeafInfo>& leaves, std::vector<ColumnData>& columns,
            std::vector<size_t>& levels, std::vector<size_t>& values)
      : nodes_(nodes), leaves_(leaves), columns_(columns), level_(levels), value_(values) {}

  Result<json> row() {
    json out = json::object();
    for (const int child : nodes_[0].children) out[nodes_[size_t(child)].element->name] = field(child);
    if (!failure_.empty()) return error(failure_);
    return out;
  }

 private:
  bool has_entry(int leaf) const { return level_[size_t(leaf)] < columns_[size_t(leaf)].entries; }
  int definition_at(int leaf) const {
    const ColumnData& c = columns_[size_t(leaf)];
    return c.definition.empty() ? leaves_[size_t(leaf)].max_definition : c.definition[level_[size_t(leaf)]];
  }
  int repetition_at(int leaf) const {
    const ColumnData& c = columns_[size_t(leaf)];
    return c.repetition.empty() ? 0 : c.repetition[level_[size_t(leaf)]];
  }
  // The entry of leaf `leaf` about to be read, or a failure when the column has run out.
  bool check(int leaf) {
    if (has_entry(leaf)) return true;
    if (failure_.empty()) failure_ = "column '" + leaves_[size_t(leaf)].path + "' ends before its rows do";
    return false;
  }
  // Takes one entry of every leaf under the node (a null or empty node).
  void skip(const Node& node) {
    for (int leaf = node.first_leaf; leaf < node.end_leaf; ++leaf) {
      if (!check(leaf)) return;
      if (definition_at(leaf) == leaves_[size_t(leaf)].max_definition) ++value_[size_t(leaf)];
      ++level_[size_t(leaf)];
    }
  }

  json leaf_value(const Node& node) {
    const int leaf = node.leaf;
    if (!check(leaf)) return nullptr;
    const ColumnData& c = columns_[size_t(leaf)];
    json out;
    if (definition_at(leaf) == leaves_[size_t(leaf)].max_definition) {
      if (value_[size_t(leaf)] >= c.values.size()) {
        if (failure_.empty()) failure_ = "column '" + leaves_[size_t(leaf)].path + "' has fewer values than its levels";
        return nullptr;
      }
      out = c.values[value_[size_t(leaf)]++];
    }
    ++level_[size_t(leaf)];
    return out;
  }

  // A field of a group: repeated fields outside a LIST annotation are arrays of themselves.
  json field(int id) {
    const Node& node = nodes_[size_t(id)];
    if (node.element->repetition == Repetition::kRepeated) return repeated(node, id);
    return value(id);
  }

  // A node that is not repeated: null when undefined here, else its value.
  json value(int id) {
    const Node& node = nodes_[size_t(id)];
    if (node.first_leaf == node.end_leaf) return nullptr;
    if (!check(node.first_leaf)) return nullptr;
    if (node.element->repetition == Repetition::kOptional && definition_at(node.first_leaf) < node.definition) {
      skip(node);
      return nullptr;
    }
    return present(id);
  }

  // The value of a node known to be present.
  json present(int id) {
    const Node& node = nodes_[size_t(id)];
    if (node.leaf >= 0) return leaf_value(node);
    const SchemaElement& e = *node.element;
    if ((is_list(e) || is_map(e)) && node.children.size() == 1 &&
        nodes_[size_t(node.children[0])].element->repetition == Repetition::kRepeated) {
      const int inner = node.children[0];
      json items = repeated(nodes_[size_t(inner)], inner);
      return is_map(e) ? as_map(std::move(items)) : items;
    }
    json out = json::object();
    for (const int child : node.children) out[nodes_[size_t(child)].element->name] = field(child);
    return out;
  }

  // The elements of repeated node `id`: none when the first leaf is not defined to its level, else one
  // per entry until the first leaf's next repetition level is below this node's.
  json repeated(const Node& node, int id) {
    json items = json::array();
    if (!check(node.first_leaf)) return items;
    if (definition_at(node.first_leaf) < node.definition) {
      skip(node);
      return items;
    }
    while (failure_.empty()) {
      items.push_back(element(id));
      if (!has_entry(node.first_leaf) || repetition_at(node.first_leaf) != node.repetition) break;
    }
    return items;
  }

  // One element of repeated node `id`: in the three-level LIST layout (a repeated group holding one
  // field) that field's value; in the older layouts (a repeated primitive, a repeated group of several
  // fields, or one named "array" or "*_tuple") the repeated node itself.
  json element(int id) {
    const Node& node = nodes_[size_t(id)];
    const std::string& name = node.element->name;
    const bool legacy = node.leaf >= 0 || node.children.size() != 1 || name == "array" ||
                        (name.size() > 6 && name.compare(name.size() - 6, 6, "_tuple") == 0);
    if (legacy) return present(id);
    return field(node.children[0]);
  }

  // A MAP's key_value entries: an object when every key is a string, else the entries as they are.
  static json as_map(json entries) {
    json object = json::object();
    for (const json& entry : entries) {
      if (!entry.is_object() || entry.size() != 2) return entries;
      const auto key = entry.begin();
      if (!key->is_string()) return entries;
      object[key->get<std::string>()] = std::next(entry.begin()).value();
    }
    return object;
  }

  const std::vector<Node>& nodes_;
  const std::vector<LeafInfo>& leaves_;
  std::vector<ColumnData>& columns_;
  std::vector<size_t>& level_;
  std::vector<size_t>& value_;
  std::string failure_;
};

}  // namespace

bool has_parquet_magic(const uint8_t* data, size_t size) { return size >= 4 && std::memcmp(data, "PAR1", 4) == 0; }

Result<ParquetRowReader> ParquetRowReader::open(const std::string& path) {
  ParquetRowReader reader;
  reader.path_ = path;
  ARB_ASSIGN(reader.file_, MappedFile::open(path));
  reader.data_ = reader.file_->data();
  reader.size_ = reader.file_->size();
  return parse(std::move(reader));
}

Result<ParquetRowReader> ParquetRowReader::from_bytes(std::vector<uint8_t> bytes, const std::string& name) {
  ParquetRowReader reader;
  reader.path_ = name;
  reader.bytes_ = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  reader.data_ = reader.bytes_->data();
  reader.size_ = reader.bytes_->size();
  return parse(std::move(reader));
}

Result<ParquetRowReader> ParquetRowReader::parse(ParquetRowReader reader) {
  const std::string& path = reader.path_;
  const uint8_t* data = reader.data_;
  const size_t size = reader.size_;
  if (size < 12 || !has_parquet_magic(data, size))
    return error(path + ": not a Parquet file (it does not start with PAR1)");
  if (std::memcmp(data + size - 4, "PARE", 4) == 0) return error(path + ": an encrypted Parquet file is not supported");
  if (std::memcmp(data + size - 4, "PAR1", 4) != 0)
    return error(path + ": the Parquet file is truncated (it does not end with PAR1)");
  uint32_t footer_size = 0;
  std::memcpy(&footer_size, data + size - 8, 4);
  if (footer_size > size - 12) return error(path + ": the Parquet footer's length runs past the file (truncated?)");
  auto meta = parse_file_metadata(data + size - 8 - footer_size, footer_size);
  if (!meta) return meta.status().with_context(path + ": Parquet footer");
  reader.meta_ = std::move(meta).value();
  size_t index = 0;
  ARB_TRY(build_nodes(reader.meta_.schema, index, -1, 0, reader.nodes_, reader.leaves_).with_context(path + ": schema"));
  if (index != reader.meta_.schema.size()) return error(path + ": schema: elements left over after the root's children");
  int64_t rows = 0;
  for (size_t g = 0; g < reader.meta_.row_groups.size(); ++g) {
    const RowGroupMeta& group = reader.meta_.row_groups[g];
    const std::string where = path + ": row group " + std::to_string(g);
    if (group.num_rows < 0) return error(where + ": a negative row count");
    rows += group.num_rows;
    if (group.columns.size() != reader.leaves_.size())
      return error(where + " has " + std::to_string(group.columns.size()) + " columns, the schema " +
                   std::to_string(reader.leaves_.size()));
    for (size_t c = 0; c < group.columns.size(); ++c) {
      std::string joined;
      for (const std::string& part : group.columns[c].path) joined += (joined.empty() ? "" : ".") + part;
      if (joined != reader.leaves_[c].path)
        return error(where + ": column " + std::to_string(c) + " is '" + joined + "', the schema says '" +
                     reader.leaves_[c].path + "'");
    }
  }
  if (rows != reader.meta_.num_rows)
    return error(path + ": the row groups hold " + std::to_string(rows) + " rows, the footer says " +
                 std::to_string(reader.meta_.num_rows));
  return reader;
}

Status ParquetRowReader::load_row_group(size_t index) {
  const RowGroupMeta& group = meta_.row_groups[index];
  columns_.assign(leaves_.size(), ColumnData{});
  level_cursor_.assign(leaves_.size(), 0);
  value_cursor_.assign(leaves_.size(), 0);
  for (size_t c = 0; c < leaves_.size(); ++c) {
    ARB_TRY(read_column_chunk(data_, size_, group.columns[c], leaves_[c], columns_[c])
                .with_context(path_ + ": row group " + std::to_string(index)));
  }
  rows_left_in_group_ = group.num_rows;
  return Status::ok();
}

Result<bool> ParquetRowReader::next(nlohmann::json& row) {
  while (rows_left_in_group_ == 0) {
    if (group_loaded_) {
      // Every entry of the finished group must have been used by its rows.
      for (size_t c = 0; c < leaves_.size(); ++c) {
        if (level_cursor_[c] != columns_[c].entries || value_cursor_[c] != columns_[c].values.size())
          return error(path_ + ": row group " + std::to_string(row_group_ - 1) + ": column '" + leaves_[c].path +
                       "' holds more entries than the group's rows");
      }
      group_loaded_ = false;
    }
    if (row_group_ >= meta_.row_groups.size()) return false;
    ARB_TRY(load_row_group(row_group_));
    ++row_group_;
    group_loaded_ = true;
  }
  Assembler assembler(nodes_, leaves_, columns_, level_cursor_, value_cursor_);
  auto assembled = assembler.row();
  if (!assembled) return assembled.status().with_context(path_ + ": row group " + std::to_string(row_group_ - 1));
  row = std::move(assembled).value();
  --rows_left_in_group_;
  return true;
}

}  // namespace arbiter::data::parquet
