#include "data/parquet/column_reader.h"

#include <cmath>
#include <cstring>

#include "core/half.h"
#include "core/utf8.h"
#include "data/parquet/codecs.h"
#include "data/parquet/encodings.h"

namespace arbiter::data::parquet {
namespace {

using nlohmann::json;

// At most this many entries in one page: real writers cut pages at about 20,000 rows; a corrupt count
// must not size an allocation.
constexpr int64_t kMaxPageEntries = int64_t(1) << 24;

template <class T>
T load_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

std::string base64(const uint8_t* data, size_t size) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (size_t i = 0; i < size; i += 3) {
    const uint32_t b0 = data[i], b1 = i + 1 < size ? data[i + 1] : 0, b2 = i + 2 < size ? data[i + 2] : 0;
    const uint32_t triple = b0 << 16 | b1 << 8 | b2;
    out += kAlphabet[(triple >> 18) & 63];
    out += kAlphabet[(triple >> 12) & 63];
    out += i + 1 < size ? kAlphabet[(triple >> 6) & 63] : '=';
    out += i + 2 < size ? kAlphabet[triple & 63] : '=';
  }
  return out;
}

// Turns a leaf's physical values into JSON by its annotations: strings (UTF-8 checked), signed and
// unsigned integers, decimals as numbers, float16, UUIDs as text; bytes without an annotation are text
// when they are valid UTF-8 and base64 otherwise. NaN and infinities (which JSON cannot hold) are null.
class ValueConverter {
 public:
  explicit ValueConverter(const LeafInfo& leaf) : leaf_(leaf), e_(*leaf.element) {
    const bool text_annotation = e_.logical == LogicalKind::kString || e_.logical == LogicalKind::kJson ||
                                 e_.logical == LogicalKind::kEnum || e_.converted == ConvertedType::kUtf8 ||
                                 e_.converted == ConvertedType::kJson || e_.converted == ConvertedType::kEnum;
    text_ = text_annotation;
    decimal_ = e_.logical == LogicalKind::kDecimal || e_.converted == ConvertedType::kDecimal;
    unsigned_ = (e_.logical == LogicalKind::kInteger && !e_.integer_signed) ||
                (e_.converted && *e_.converted >= ConvertedType::kUint8 && *e_.converted <= ConvertedType::kUint64);
  }

  json from_int32(int32_t v) const {
    if (decimal_) return scaled(double(v));
    if (unsigned_) return uint64_t(uint32_t(v));
    return int64_t(v);
  }
  json from_int64(int64_t v) const {
    if (decimal_) return scaled(double(v));
    if (unsigned_) return uint64_t(v);
    return v;
  }
  static json from_double(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

  // INT96: nanoseconds of the day (8 bytes) and the Julian day (4 bytes), as nanoseconds since 1970.
  static json from_int96(const uint8_t* p) {
    const int64_t nanos = load_le<int64_t>(p);
    const int64_t julian_day = load_le<int32_t>(p + 8);
    constexpr int64_t kUnixEpochJulianDay = 2440588;
    return (julian_day - kUnixEpochJulianDay) * int64_t(86400) * int64_t(1000000000) + nanos;
  }

  Result<json> from_bytes(const uint8_t* p, size_t n) const {
    if (leaf_.element->type == PhysicalType::kFixedLenByteArray) {
      if (decimal_) return scaled(big_endian_integer(p, n));
      if (e_.logical == LogicalKind::kFloat16 && n == 2) return from_double(double(f16_to_f32(load_le<uint16_t>(p))));
      if (e_.logical == LogicalKind::kUuid && n == 16) return uuid(p);
    } else if (decimal_) {
      return scaled(big_endian_integer(p, n));
    }
    std::string_view text(reinterpret_cast<const char*>(p), n);
    const std::optional<size_t> bad = utf8_first_invalid(text);
    if (!bad) return json(std::string(text));
    if (text_) {
      return error("column '" + leaf_.path + "': a string value is not valid UTF-8 (byte " + std::to_string(*bad) +
                   ")");
    }
    return json(base64(p, n));
  }

 private:
  json scaled(double unscaled) const { return from_double(unscaled / std::pow(10.0, e_.scale)); }

  static double big_endian_integer(const uint8_t* p, size_t n) {
    if (n == 0) return 0.0;
    double v = (p[0] & 0x80) ? -1.0 : 0.0;  // two's complement: the sign bit's weight is negative
    for (size_t i = 0; i < n; ++i) v = v * 256.0 + double(p[i]);
    return v;
  }

  static json uuid(const uint8_t* p) {
    static const char* kHex = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
      s += kHex[p[i] >> 4];
      s += kHex[p[i] & 15];
    }
    return s;
  }

  const LeafInfo& leaf_;
  const SchemaElement& e_;
  bool text_ = false, decimal_ = false, unsigned_ = false;
};

size_t physical_size(const LeafInfo& leaf) {
  switch (*leaf.element->type) {
    case PhysicalType::kInt32:
    case PhysicalType::kFloat: return 4;
    case PhysicalType::kInt64:
    case PhysicalType::kDouble: return 8;
    case PhysicalType::kInt96: return 12;
    case PhysicalType::kFixedLenByteArray: return size_t(leaf.element->type_length);
    default: return 0;  // BOOLEAN (bits) and BYTE_ARRAY (length-prefixed) are not fixed-width
  }
}

// `count` PLAIN values from data[0, size); returns the bytes used.
Result<size_t> decode_plain(const LeafInfo& leaf, const ValueConverter& convert, const uint8_t* data, size_t size,
                            size_t count, std::vector<json>& out) {
  const PhysicalType type = *leaf.element->type;
  if (type == PhysicalType::kBoolean) {
    if ((count + 7) / 8 > size) return error("PLAIN booleans run past the page");
    for (size_t i = 0; i < count; ++i) out.emplace_back(bool((data[i / 8] >> (i % 8)) & 1));
    return (count + 7) / 8;
  }
  if (type == PhysicalType::kByteArray) {
    size_t pos = 0;
    for (size_t i = 0; i < count; ++i) {
      if (size - pos < 4) return error("a PLAIN string's length runs past the page");
      const uint32_t n = load_le<uint32_t>(data + pos);
      pos += 4;
      if (n > size - pos) return error("a PLAIN string of " + std::to_string(n) + " bytes runs past the page");
      ARB_ASSIGN(json v, convert.from_bytes(data + pos, n));
      out.push_back(std::move(v));
      pos += n;
    }
    return pos;
  }
  const size_t width = physical_size(leaf);
  if (width == 0 && type == PhysicalType::kFixedLenByteArray) return error("FIXED_LEN_BYTE_ARRAY of length 0");
  if (count > size / width) return error("PLAIN values run past the page");
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* p = data + i * width;
    switch (type) {
      case PhysicalType::kInt32: out.push_back(convert.from_int32(load_le<int32_t>(p))); break;
      case PhysicalType::kInt64: out.push_back(convert.from_int64(load_le<int64_t>(p))); break;
      case PhysicalType::kFloat: out.push_back(ValueConverter::from_double(double(load_le<float>(p)))); break;
      case PhysicalType::kDouble: out.push_back(ValueConverter::from_double(load_le<double>(p))); break;
      case PhysicalType::kInt96: out.push_back(ValueConverter::from_int96(p)); break;
      default: {
        ARB_ASSIGN(json v, convert.from_bytes(p, width));
        out.push_back(std::move(v));
      }
    }
  }
  return count * width;
}

// DELTA_LENGTH_BYTE_ARRAY: the lengths (DELTA_BINARY_PACKED), then the bytes back to back.
Result<size_t> decode_delta_length(const ValueConverter& convert, const uint8_t* data, size_t size, size_t count,
                                   std::vector<std::string>* raw, std::vector<json>* out) {
  std::vector<int64_t> lengths;
  ARB_ASSIGN(size_t pos, decode_delta_binary_packed(data, size, count, lengths));
  if (lengths.size() != count)
    return error("DELTA_LENGTH_BYTE_ARRAY: " + std::to_string(lengths.size()) + " lengths for " +
                 std::to_string(count) + " values");
  for (const int64_t n : lengths) {
    if (n < 0 || uint64_t(n) > size - pos) return error("DELTA_LENGTH_BYTE_ARRAY: a value runs past the page");
    if (raw) raw->emplace_back(reinterpret_cast<const char*>(data + pos), size_t(n));
    if (out) {
      ARB_ASSIGN(json v, convert.from_bytes(data + pos, size_t(n)));
      out->push_back(std::move(v));
    }
    pos += size_t(n);
  }
  return pos;
}

// DELTA_BYTE_ARRAY: prefix lengths shared with the previous value (DELTA_BINARY_PACKED), then the
// suffixes as DELTA_LENGTH_BYTE_ARRAY.
Result<size_t> decode_delta_byte_array(const ValueConverter& convert, const uint8_t* data, size_t size, size_t count,
                                       std::vector<json>& out) {
  std::vector<int64_t> prefixes;
  ARB_ASSIGN(const size_t used, decode_delta_binary_packed(data, size, count, prefixes));
  if (prefixes.size() != count) return error("DELTA_BYTE_ARRAY: prefix lengths do not match the values");
  std::vector<std::string> suffixes;
  ARB_ASSIGN(const size_t used_suffixes,
             decode_delta_length(convert, data + used, size - used, count, &suffixes, nullptr));
  std::string previous;
  for (size_t i = 0; i < count; ++i) {
    if (prefixes[i] < 0 || uint64_t(prefixes[i]) > previous.size())
      return error("DELTA_BYTE_ARRAY: a prefix longer than the previous value");
    std::string value = previous.substr(0, size_t(prefixes[i])) + suffixes[i];
    ARB_ASSIGN(json v, convert.from_bytes(reinterpret_cast<const uint8_t*>(value.data()), value.size()));
    out.push_back(std::move(v));
    previous = std::move(value);
  }
  return used + used_suffixes;
}

// The chunk's decoding state across pages.
struct ChunkState {
  const LeafInfo& leaf;
  ValueConverter convert;
  std::vector<json> dictionary;
  bool has_dictionary = false;
};

// `count` values encoded as `encoding` in data[0, size), appended to out.
Status decode_values(ChunkState& state, Encoding encoding, const uint8_t* data, size_t size, size_t count,
                     std::vector<json>& out) {
  const LeafInfo& leaf = state.leaf;
  const PhysicalType type = *leaf.element->type;
  switch (encoding) {
    case Encoding::kPlain:
      return decode_plain(leaf, state.convert, data, size, count, out).status();
    case Encoding::kPlainDictionary:
    case Encoding::kRleDictionary: {
      if (!state.has_dictionary) return error("dictionary-encoded values without a dictionary page");
      if (count == 0) return Status::ok();
      if (size < 1) return error("dictionary indices have no bit width");
      std::vector<uint32_t> indices(count);
      ARB_TRY(decode_hybrid(data + 1, size - 1, data[0], count, indices.data()));
      for (const uint32_t i : indices) {
        if (i >= state.dictionary.size())
          return error("dictionary index " + std::to_string(i) + " of a dictionary of " +
                       std::to_string(state.dictionary.size()));
        out.push_back(state.dictionary[i]);
      }
      return Status::ok();
    }
    case Encoding::kRle: {
      if (type != PhysicalType::kBoolean) return error("RLE values in a column that is not boolean");
      if (size < 4) return error("RLE booleans have no length");
      const uint32_t length = load_le<uint32_t>(data);
      if (length > size - 4) return error("RLE booleans run past the page");
      std::vector<uint32_t> bits(count);
      ARB_TRY(decode_hybrid(data + 4, length, 1, count, bits.data()));
      for (const uint32_t b : bits) out.emplace_back(b != 0);
      return Status::ok();
    }
    case Encoding::kDeltaBinaryPacked: {
      if (type != PhysicalType::kInt32 && type != PhysicalType::kInt64)
        return error("DELTA_BINARY_PACKED values in a column that is not an integer");
      std::vector<int64_t> values;
      ARB_TRY(decode_delta_binary_packed(data, size, count, values).status());
      if (values.size() != count)
        return error("DELTA_BINARY_PACKED: " + std::to_string(values.size()) + " values where the page has " +
                     std::to_string(count));
      for (const int64_t v : values)
        out.push_back(type == PhysicalType::kInt32 ? state.convert.from_int32(int32_t(v)) : state.convert.from_int64(v));
      return Status::ok();
    }
    case Encoding::kDeltaLengthByteArray:
      if (type != PhysicalType::kByteArray) return error("DELTA_LENGTH_BYTE_ARRAY in a column that is not BYTE_ARRAY");
      return decode_delta_length(state.convert, data, size, count, nullptr, &out).status();
    case Encoding::kDeltaByteArray:
      if (type != PhysicalType::kByteArray && type != PhysicalType::kFixedLenByteArray)
        return error("DELTA_BYTE_ARRAY in a column of fixed-width values");
      return decode_delta_byte_array(state.convert, data, size, count, out).status();
    case Encoding::kByteStreamSplit: {
      // Byte k of value i is at k * count + i: gather each value's bytes, then read it as PLAIN.
      const size_t width = physical_size(leaf);
      if (width == 0) return error("BYTE_STREAM_SPLIT in a column of variable-width values");
      if (count > size / width) return error("BYTE_STREAM_SPLIT values run past the page");
      std::vector<uint8_t> plain(count * width);
      for (size_t i = 0; i < count; ++i)
        for (size_t k = 0; k < width; ++k) plain[i * width + k] = data[k * count + i];
      return decode_plain(leaf, state.convert, plain.data(), plain.size(), count, out).status();
    }
    default:
      return error(std::string("values encoded as ") + encoding_name(encoding) + " are not supported");
  }
}

// Levels as the hybrid encoding, each checked against the column's maximum (a DATA_PAGE_V2 stores them
// so, with their length in the page header).
Status decode_levels(const uint8_t* data, size_t size, int max_level, size_t count, uint16_t* out) {
  std::vector<uint32_t> levels(count);
  ARB_TRY(decode_hybrid(data, size, bit_width_of(uint32_t(max_level)), count, levels.data()));
  for (size_t i = 0; i < count; ++i) {
    if (levels[i] > uint32_t(max_level))
      return error("a level of " + std::to_string(levels[i]) + " above the column's maximum " + std::to_string(max_level));
    out[i] = uint16_t(levels[i]);
  }
  return Status::ok();
}

// Levels of a DATA_PAGE (v1): a 4-byte length, then the hybrid encoding. Returns the bytes used.
Result<size_t> decode_levels_v1(Encoding encoding, const uint8_t* data, size_t size, int max_level, size_t count,
                                uint16_t* out) {
  if (encoding != Encoding::kRle)
    return error(std::string("levels encoded as ") + encoding_name(encoding) + " are not supported (RLE is)");
  if (size < 4) return error("levels have no length");
  const uint32_t length = load_le<uint32_t>(data);
  if (length > size - 4) return error("levels run past the page");
  ARB_TRY(decode_levels(data + 4, length, max_level, count, out));
  return size_t(4) + length;
}

// The values a page holds after its levels: entries at the maximum definition level.
size_t defined_entries(const ColumnData& out, size_t first, size_t count, int max_definition) {
  if (max_definition == 0) return count;
  size_t n = 0;
  for (size_t i = first; i < first + count; ++i) n += out.definition[i] == max_definition;
  return n;
}

Status read_data_page(ChunkState& state, Codec codec, const PageHeader& page, const uint8_t* body,
                      std::vector<uint8_t>& buffer, ColumnData& out) {
  const LeafInfo& leaf = state.leaf;
  const int64_t entries = page.data ? page.data->num_values : page.data_v2->num_values;
  if (entries < 0 || entries > kMaxPageEntries) return error("a page of " + std::to_string(entries) + " values");
  const size_t count = size_t(entries), first = out.entries;
  if (leaf.max_repetition > 0) out.repetition.resize(first + count);
  if (leaf.max_definition > 0) out.definition.resize(first + count);
  const uint8_t* values = nullptr;
  size_t values_size = 0;
  Encoding encoding = Encoding::kPlain;
  if (page.data) {
    ARB_TRY(decompress(codec, body, size_t(page.compressed_size), size_t(page.uncompressed_size), buffer));
    const uint8_t* p = buffer.data();
    size_t left = buffer.size();
    if (leaf.max_repetition > 0) {
      ARB_ASSIGN(const size_t used, decode_levels_v1(page.data->repetition_encoding, p, left, leaf.max_repetition,
                                                     count, out.repetition.data() + first));
      p += used;
      left -= used;
    }
    if (leaf.max_definition > 0) {
      ARB_ASSIGN(const size_t used, decode_levels_v1(page.data->definition_encoding, p, left, leaf.max_definition,
                                                     count, out.definition.data() + first));
      p += used;
      left -= used;
    }
    values = p;
    values_size = left;
    encoding = page.data->encoding;
  } else {
    const DataPageHeaderV2& h = *page.data_v2;
    // Levels are never compressed in a v2 page; the values are unless is_compressed says otherwise.
    const int64_t level_bytes = int64_t(h.repetition_levels_bytes) + h.definition_levels_bytes;
    if (h.repetition_levels_bytes < 0 || h.definition_levels_bytes < 0 || level_bytes > page.compressed_size ||
        level_bytes > page.uncompressed_size)
      return error("the page's level lengths do not fit in it");
    if (leaf.max_repetition > 0)
      ARB_TRY(decode_levels(body, size_t(h.repetition_levels_bytes), leaf.max_repetition, count,
                               out.repetition.data() + first));
    if (leaf.max_definition > 0)
      ARB_TRY(decode_levels(body + h.repetition_levels_bytes, size_t(h.definition_levels_bytes),
                               leaf.max_definition, count, out.definition.data() + first));
    const uint8_t* compressed = body + level_bytes;
    const size_t compressed_size = size_t(page.compressed_size - level_bytes);
    const size_t plain_size = size_t(page.uncompressed_size - level_bytes);
    ARB_TRY(decompress(h.is_compressed ? codec : Codec::kUncompressed, compressed, compressed_size, plain_size, buffer));
    values = buffer.data();
    values_size = buffer.size();
    encoding = h.encoding;
  }
  out.entries += count;
  // A column's first entry starts a row.
  if (leaf.max_repetition > 0 && first == 0 && count > 0 && out.repetition[0] != 0)
    return error("the column's first repetition level is not 0");
  const size_t defined = defined_entries(out, first, count, leaf.max_definition);
  return decode_values(state, encoding, values, values_size, defined, out.values);
}

Status read_dictionary_page(ChunkState& state, Codec codec, const PageHeader& page, const uint8_t* body,
                            std::vector<uint8_t>& buffer) {
  const DictionaryPageHeader& h = *page.dictionary;
  if (state.has_dictionary) return error("a second dictionary page");
  if (h.encoding != Encoding::kPlain && h.encoding != Encoding::kPlainDictionary)
    return error(std::string("a dictionary encoded as ") + encoding_name(h.encoding));
  if (h.num_values < 0 || h.num_values > kMaxPageEntries)
    return error("a dictionary of " + std::to_string(h.num_values) + " values");
  ARB_TRY(decompress(codec, body, size_t(page.compressed_size), size_t(page.uncompressed_size), buffer));
  ARB_TRY(decode_plain(state.leaf, state.convert, buffer.data(), buffer.size(), size_t(h.num_values), state.dictionary)
              .status());
  state.has_dictionary = true;
  return Status::ok();
}

}  // namespace

Status read_column_chunk(const uint8_t* file, size_t file_size, const ColumnChunkMeta& chunk, const LeafInfo& leaf,
                         ColumnData& out) {
  if (chunk.external) return error("column '" + leaf.path + "' is stored in another file, which is not supported");
  if (!leaf.element->type) return error("column '" + leaf.path + "' has no physical type");
  if (*leaf.element->type != chunk.type)
    return error("column '" + leaf.path + "': the chunk's type differs from the schema's");
  // The chunk starts at its dictionary page when it has one (some writers put the offset at 0 when
  // there is none, hence the comparison).
  int64_t start = chunk.data_page_offset;
  if (chunk.dictionary_page_offset && *chunk.dictionary_page_offset > 0 && *chunk.dictionary_page_offset < start)
    start = *chunk.dictionary_page_offset;
  if (start < 4 || chunk.total_compressed_size < 0 || uint64_t(start) > file_size ||
      uint64_t(chunk.total_compressed_size) > file_size - uint64_t(start))
    return error("column '" + leaf.path + "': its bytes [" + std::to_string(start) + ", +" +
                 std::to_string(chunk.total_compressed_size) + ") are not inside the file");
  if (chunk.num_values < 0) return error("column '" + leaf.path + "': a negative value count");
  const uint8_t* const begin = file + start;
  const size_t size = size_t(chunk.total_compressed_size);
  ChunkState state{leaf, ValueConverter(leaf), {}, false};
  std::vector<uint8_t> buffer;
  size_t pos = 0;
  int page_index = 0;
  while (out.entries < uint64_t(chunk.num_values)) {
    const std::string where = "column '" + leaf.path + "', page " + std::to_string(page_index) + " (byte " +
                              std::to_string(start + int64_t(pos)) + ")";
    if (pos >= size) {
      return error("column '" + leaf.path + "': its pages hold " + std::to_string(out.entries) + " values, the footer says " +
                   std::to_string(chunk.num_values));
    }
    auto header = parse_page_header(begin + pos, size - pos);
    if (!header) return header.status().with_context(where);
    const PageHeader& page = *header;
    pos += page.header_bytes;
    if (uint64_t(page.compressed_size) > size - pos) return error(where + ": the page runs past its column chunk");
    const uint8_t* body = begin + pos;
    Status status = Status::ok();
    if (page.type == PageType::kDictionary && page.dictionary) {
      status = read_dictionary_page(state, chunk.codec, page, body, buffer);
    } else if ((page.type == PageType::kData && page.data) || (page.type == PageType::kDataV2 && page.data_v2)) {
      status = read_data_page(state, chunk.codec, page, body, buffer, out);
    } else if (page.type != PageType::kIndex) {
      status = error("a page of unknown type " + std::to_string(int(page.type)) + " or without its header");
    }
    if (!status) return status.with_context(where);
    pos += size_t(page.compressed_size);
    ++page_index;
  }
  if (out.entries != uint64_t(chunk.num_values)) {
    return error("column '" + leaf.path + "': its pages hold " + std::to_string(out.entries) +
                 " values, the footer says " + std::to_string(chunk.num_values));
  }
  return Status::ok();
}

}  // namespace arbiter::data::parquet
