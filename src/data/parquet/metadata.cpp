#include "data/parquet/metadata.h"

#include <limits>

#include "data/parquet/thrift_compact.h"

namespace arbiter::data::parquet {
namespace {

// Reads one struct: on_field(field) returns true when it consumed the field's value; any other field
// is skipped.
template <class OnField>
Status read_struct(ThriftReader& r, OnField&& on_field) {
  ARB_TRY(r.begin_struct());
  while (true) {
    ARB_ASSIGN(const ThriftField field, r.next_field());
    if (field.type == ThriftType::kStop) break;
    ARB_ASSIGN(const bool consumed, on_field(field));
    if (!consumed) ARB_TRY(r.skip(field.type));
  }
  r.end_struct();
  return Status::ok();
}

bool is_int(const ThriftField& f) {
  return f.type == ThriftType::kI16 || f.type == ThriftType::kI32 || f.type == ThriftType::kI64;
}

Result<int32_t> read_i32(ThriftReader& r, const char* what) {
  ARB_ASSIGN(const int64_t v, r.read_int());
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
    return error(std::string(what) + " " + std::to_string(v) + " is out of range");
  return int32_t(v);
}

Status read_logical_type(ThriftReader& r, SchemaElement& e) {
  return read_struct(r, [&](const ThriftField& f) -> Result<bool> {
    if (f.type != ThriftType::kStruct) return false;
    e.logical = LogicalKind(f.id);
    if (f.id == int16_t(LogicalKind::kInteger)) {
      ARB_TRY(read_struct(r, [&](const ThriftField& g) -> Result<bool> {
        if (g.id == 2 && (g.type == ThriftType::kTrue || g.type == ThriftType::kFalse)) {
          ARB_ASSIGN(e.integer_signed, r.read_bool(g));
          return true;
        }
        return false;
      }));
      return true;
    }
    if (f.id == int16_t(LogicalKind::kDecimal)) {
      ARB_TRY(read_struct(r, [&](const ThriftField& g) -> Result<bool> {
        if (g.id == 1 && is_int(g)) {
          ARB_ASSIGN(e.scale, read_i32(r, "decimal scale"));
          return true;
        }
        return false;
      }));
      return true;
    }
    return false;  // the other members' structs carry nothing this reader needs
  });
}

Status read_schema_element(ThriftReader& r, SchemaElement& e) {
  return read_struct(r, [&](const ThriftField& f) -> Result<bool> {
    switch (f.id) {
      case 1: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(const int32_t t, read_i32(r, "physical type"));
        if (t < 0 || t > int32_t(PhysicalType::kFixedLenByteArray))
          return error("unknown physical type " + std::to_string(t));
        e.type = PhysicalType(t);
        return true;
      }
      case 2: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(e.type_length, read_i32(r, "type_length"));
        return true;
      }
      case 3: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(const int32_t rep, read_i32(r, "repetition_type"));
        if (rep < 0 || rep > 2) return error("unknown repetition type " + std::to_string(rep));
        e.repetition = Repetition(rep);
        return true;
      }
      case 4: {
        if (f.type != ThriftType::kBinary) return false;
        ARB_ASSIGN(e.name, r.read_binary());
        return true;
      }
      case 5: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(e.num_children, read_i32(r, "num_children"));
        return true;
      }
      case 6: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(const int32_t c, read_i32(r, "converted_type"));
        e.converted = ConvertedType(c);
        return true;
      }
      case 7: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(e.scale, read_i32(r, "scale"));
        return true;
      }
      case 10: {
        if (f.type != ThriftType::kStruct) return false;
        ARB_TRY(read_logical_type(r, e));
        return true;
      }
      default:
        return false;
    }
  });
}

Status read_column_meta(ThriftReader& r, ColumnChunkMeta& c) {
  return read_struct(r, [&](const ThriftField& f) -> Result<bool> {
    switch (f.id) {
      case 1: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(const int32_t t, read_i32(r, "column type"));
        if (t < 0 || t > int32_t(PhysicalType::kFixedLenByteArray))
          return error("unknown physical type " + std::to_string(t));
        c.type = PhysicalType(t);
        return true;
      }
      case 3: {
        if (f.type != ThriftType::kList) return false;
        ARB_ASSIGN(const ThriftList list, r.read_list_header());
        if (list.element != ThriftType::kBinary) return error("path_in_schema is not a list of strings");
        for (uint32_t i = 0; i < list.size; ++i) {
          ARB_ASSIGN(std::string part, r.read_binary());
          c.path.push_back(std::move(part));
        }
        return true;
      }
      case 4: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(const int32_t codec, read_i32(r, "codec"));
        c.codec = Codec(codec);
        return true;
      }
      case 5: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(c.num_values, r.read_int());
        return true;
      }
      case 7: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(c.total_compressed_size, r.read_int());
        return true;
      }
      case 9: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(c.data_page_offset, r.read_int());
        return true;
      }
      case 11: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(const int64_t offset, r.read_int());
        c.dictionary_page_offset = offset;
        return true;
      }
      default:
        return false;
    }
  });
}

Status read_column_chunk(ThriftReader& r, ColumnChunkMeta& c) {
  bool has_meta = false;
  ARB_TRY(read_struct(r, [&](const ThriftField& f) -> Result<bool> {
    if (f.id == 1 && f.type == ThriftType::kBinary) {
      ARB_ASSIGN(const std::string path, r.read_binary());
      c.external = !path.empty();
      return true;
    }
    if (f.id == 3 && f.type == ThriftType::kStruct) {
      has_meta = true;
      ARB_TRY(read_column_meta(r, c));
      return true;
    }
    return false;
  }));
  if (!has_meta) return error("a column chunk has no metadata (an encrypted file?)");
  return Status::ok();
}

Status read_row_group(ThriftReader& r, RowGroupMeta& g) {
  return read_struct(r, [&](const ThriftField& f) -> Result<bool> {
    if (f.id == 1 && f.type == ThriftType::kList) {
      ARB_ASSIGN(const ThriftList list, r.read_list_header());
      if (list.element != ThriftType::kStruct) return error("row group columns are not structs");
      g.columns.resize(list.size);
      for (uint32_t i = 0; i < list.size; ++i)
        ARB_TRY(read_column_chunk(r, g.columns[i]).with_context("column chunk " + std::to_string(i)));
      return true;
    }
    if (f.id == 3 && is_int(f)) {
      ARB_ASSIGN(g.num_rows, r.read_int());
      return true;
    }
    return false;
  });
}

Result<Encoding> read_encoding(ThriftReader& r) {
  ARB_ASSIGN(const int32_t e, read_i32(r, "encoding"));
  return Encoding(e);
}

}  // namespace

Result<FileMetaData> parse_file_metadata(const uint8_t* data, size_t size) {
  ThriftReader r(data, size);
  FileMetaData meta;
  ARB_TRY(read_struct(r, [&](const ThriftField& f) -> Result<bool> {
    switch (f.id) {
      case 2: {
        if (f.type != ThriftType::kList) return false;
        ARB_ASSIGN(const ThriftList list, r.read_list_header());
        if (list.element != ThriftType::kStruct) return error("schema is not a list of structs");
        meta.schema.resize(list.size);
        for (uint32_t i = 0; i < list.size; ++i)
          ARB_TRY(read_schema_element(r, meta.schema[i]).with_context("schema element " + std::to_string(i)));
        return true;
      }
      case 3: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(meta.num_rows, r.read_int());
        return true;
      }
      case 4: {
        if (f.type != ThriftType::kList) return false;
        ARB_ASSIGN(const ThriftList list, r.read_list_header());
        if (list.element != ThriftType::kStruct) return error("row_groups is not a list of structs");
        meta.row_groups.resize(list.size);
        for (uint32_t i = 0; i < list.size; ++i)
          ARB_TRY(read_row_group(r, meta.row_groups[i]).with_context("row group " + std::to_string(i)));
        return true;
      }
      case 6: {
        if (f.type != ThriftType::kBinary) return false;
        ARB_ASSIGN(meta.created_by, r.read_binary());
        return true;
      }
      default:
        return false;
    }
  }));
  if (meta.schema.empty()) return error("the footer has no schema");
  return meta;
}

Result<PageHeader> parse_page_header(const uint8_t* data, size_t size) {
  ThriftReader r(data, size);
  PageHeader page;
  ARB_TRY(read_struct(r, [&](const ThriftField& f) -> Result<bool> {
    switch (f.id) {
      case 1: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(const int32_t t, read_i32(r, "page type"));
        page.type = PageType(t);
        return true;
      }
      case 2: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(page.uncompressed_size, read_i32(r, "uncompressed_page_size"));
        return true;
      }
      case 3: {
        if (!is_int(f)) return false;
        ARB_ASSIGN(page.compressed_size, read_i32(r, "compressed_page_size"));
        return true;
      }
      case 5: {
        if (f.type != ThriftType::kStruct) return false;
        DataPageHeader h;
        ARB_TRY(read_struct(r, [&](const ThriftField& g) -> Result<bool> {
          if (!is_int(g)) return false;
          switch (g.id) {
            case 1: { ARB_ASSIGN(h.num_values, read_i32(r, "num_values")); return true; }
            case 2: { ARB_ASSIGN(h.encoding, read_encoding(r)); return true; }
            case 3: { ARB_ASSIGN(h.definition_encoding, read_encoding(r)); return true; }
            case 4: { ARB_ASSIGN(h.repetition_encoding, read_encoding(r)); return true; }
            default: return false;
          }
        }));
        page.data = h;
        return true;
      }
      case 7: {
        if (f.type != ThriftType::kStruct) return false;
        DictionaryPageHeader h;
        ARB_TRY(read_struct(r, [&](const ThriftField& g) -> Result<bool> {
          if (!is_int(g)) return false;
          switch (g.id) {
            case 1: { ARB_ASSIGN(h.num_values, read_i32(r, "num_values")); return true; }
            case 2: { ARB_ASSIGN(h.encoding, read_encoding(r)); return true; }
            default: return false;
          }
        }));
        page.dictionary = h;
        return true;
      }
      case 8: {
        if (f.type != ThriftType::kStruct) return false;
        DataPageHeaderV2 h;
        ARB_TRY(read_struct(r, [&](const ThriftField& g) -> Result<bool> {
          if (g.id == 7 && (g.type == ThriftType::kTrue || g.type == ThriftType::kFalse)) {
            ARB_ASSIGN(h.is_compressed, r.read_bool(g));
            return true;
          }
          if (!is_int(g)) return false;
          switch (g.id) {
            case 1: { ARB_ASSIGN(h.num_values, read_i32(r, "num_values")); return true; }
            case 4: { ARB_ASSIGN(h.encoding, read_encoding(r)); return true; }
            case 5: { ARB_ASSIGN(h.definition_levels_bytes, read_i32(r, "definition_levels_byte_length")); return true; }
            case 6: { ARB_ASSIGN(h.repetition_levels_bytes, read_i32(r, "repetition_levels_byte_length")); return true; }
            default: return false;
          }
        }));
        page.data_v2 = h;
        return true;
      }
      default:
        return false;
    }
  }));
  if (page.uncompressed_size < 0 || page.compressed_size < 0) return error("a page header gives a negative size");
  page.header_bytes = r.position();
  return page;
}

const char* codec_name(Codec codec) {
  switch (codec) {
    case Codec::kUncompressed: return "UNCOMPRESSED";
    case Codec::kSnappy: return "SNAPPY";
    case Codec::kGzip: return "GZIP";
    case Codec::kLzo: return "LZO";
    case Codec::kBrotli: return "BROTLI";
    case Codec::kLz4: return "LZ4";
    case Codec::kZstd: return "ZSTD";
    case Codec::kLz4Raw: return "LZ4_RAW";
  }
  return "an unknown codec";
}

const char* encoding_name(Encoding encoding) {
  switch (encoding) {
    case Encoding::kPlain: return "PLAIN";
    case Encoding::kPlainDictionary: return "PLAIN_DICTIONARY";
    case Encoding::kRle: return "RLE";
    case Encoding::kBitPacked: return "BIT_PACKED";
    case Encoding::kDeltaBinaryPacked: return "DELTA_BINARY_PACKED";
    case Encoding::kDeltaLengthByteArray: return "DELTA_LENGTH_BYTE_ARRAY";
    case Encoding::kDeltaByteArray: return "DELTA_BYTE_ARRAY";
    case Encoding::kRleDictionary: return "RLE_DICTIONARY";
    case Encoding::kByteStreamSplit: return "BYTE_STREAM_SPLIT";
  }
  return "an unknown encoding";
}

}  // namespace arbiter::data::parquet
