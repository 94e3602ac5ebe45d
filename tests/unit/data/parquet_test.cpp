// The Parquet reader against files written by independent writers (arrow-rs through parquet-wasm, and
// hyparquet-writer; tests/data/parquet/make_fixtures.mjs made them, with each file's rows as JSONL beside
// it): every row must come back equal to what the writer was given. Then the decoders on hand-made
// inputs whose bytes follow the format specifications, and damaged files, which must fail cleanly.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "data/describe.h"
#include "data/json_rows.h"
#include "data/parquet/codecs.h"
#include "data/parquet/encodings.h"
#include "data/parquet/file_reader.h"
#include "data/reader.h"
#include "../../support/scratch_root.h"

namespace arbiter::data {
namespace {

using nlohmann::json;

const std::string kDir = std::string(ARBITER_TEST_DATA_DIR) + "/parquet/";

std::vector<json> read_rows(const std::string& path, Status* status = nullptr) {
  std::vector<json> rows;
  auto reader = JsonRowReader::open(path);
  if (!reader) {
    if (status) *status = reader.status();
    return rows;
  }
  JsonRow row;
  while (true) {
    auto got = reader->next(row);
    if (!got) {
      if (status) *status = got.status();
      return rows;
    }
    if (!*got) break;
    rows.push_back(row.value);
  }
  if (status) *status = Status::ok();
  return rows;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string write_bytes(const std::string& name, const std::vector<uint8_t>& bytes) {
  const auto path = arbiter::test::scratch_root() / name;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  return path.string();
}

std::string hex_to_bytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += char(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

std::string base64_of(const std::string& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 2]));
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// The rows of NAME.parquet equal the JSON rows of NAME.expected.jsonl, field by field. Binary columns
// (the writer's JSON spells them in hex) come back as text when they are valid UTF-8, else base64.
void expect_same_rows(const std::string& name, const std::vector<std::string>& binary_columns = {}) {
  SCOPED_TRACE(name);
  Status status;
  const std::vector<json> got = read_rows(kDir + name + ".parquet", &status);
  ASSERT_TRUE(status) << status.message();
  const std::vector<json> want = read_rows(kDir + name + ".expected.jsonl", &status);
  ASSERT_TRUE(status) << status.message();
  ASSERT_EQ(got.size(), want.size());
  for (size_t r = 0; r < want.size(); ++r) {
    ASSERT_TRUE(got[r].is_object());
    EXPECT_EQ(got[r].size(), want[r].size()) << "row " << r << ": " << got[r].dump();
    for (const auto& [key, expected] : want[r].items()) {
      ASSERT_TRUE(got[r].contains(key)) << "row " << r << " lacks " << key;
      const json& actual = got[r][key];
      if (std::find(binary_columns.begin(), binary_columns.end(), key) != binary_columns.end() && expected.is_string()) {
        const std::string bytes = hex_to_bytes(expected.get<std::string>());
        EXPECT_TRUE(actual == json(bytes) || actual == json(base64_of(bytes)))
            << "row " << r << " column " << key << ": " << actual.dump();
        continue;
      }
      EXPECT_EQ(actual, expected) << "row " << r << " column " << key;
    }
  }
}

TEST(ParquetFiles, RewardBenchSnappyDictionaryWithPlainFallbackPages) { expect_same_rows("rewardbench_snappy"); }
TEST(ParquetFiles, RewardBench2ZstdListsWithNullsAndEmptyLists) { expect_same_rows("rewardbench2_zstd"); }
TEST(ParquetFiles, HelpSteer2GzipDataPageV2Plain) { expect_same_rows("helpsteer2_gzip"); }
TEST(ParquetFiles, EveryPhysicalTypeUncompressed) { expect_same_rows("types_uncompressed", {"bin"}); }
TEST(ParquetFiles, NestedStructsAndLists) { expect_same_rows("nested_struct"); }
TEST(ParquetFiles, AnotherWritersFile) { expect_same_rows("other_writer"); }
TEST(ParquetFiles, DeltaEncodingsInV2PagesOneStoredUncompressed) { expect_same_rows("delta_v2"); }
TEST(ParquetFiles, ByteStreamSplitFloats) { expect_same_rows("byte_stream_split"); }
TEST(ParquetFiles, Lz4RawPages) { expect_same_rows("lz4_raw"); }
TEST(ParquetFiles, ListsLedByNullsAndListsOfLists) { expect_same_rows("list_edges"); }
TEST(ParquetFiles, MapColumnsBecomeObjects) { expect_same_rows("map_column"); }

TEST(ParquetFiles, RecognizedByMagicWithoutExtension) {
  const std::string path = write_bytes("rows-without-extension", read_bytes(kDir + "rewardbench_snappy.parquet"));
  Status status;
  const std::vector<json> rows = read_rows(path, &status);
  ASSERT_TRUE(status) << status.message();
  EXPECT_EQ(rows.size(), 50u);
}

// Parquet rows go through the same schema detection and field reading as JSONL rows.
TEST(ParquetFiles, DatasetReaderGivesTheSameExamplesAsJsonl) {
  for (const std::string name : {"rewardbench_snappy", "rewardbench2_zstd", "helpsteer2_gzip"}) {
    SCOPED_TRACE(name);
    auto from_parquet = DatasetReader::open(kDir + name + ".parquet");
    auto from_jsonl = DatasetReader::open(kDir + name + ".expected.jsonl");
    ASSERT_TRUE(from_parquet) << from_parquet.message();
    ASSERT_TRUE(from_jsonl) << from_jsonl.message();
    size_t rows = 0;
    while (true) {
      Example a, b;
      auto got_a = from_parquet->next(a);
      auto got_b = from_jsonl->next(b);
      // A row the schema refuses (RewardBench 2's row 9 has a null among its responses) is refused
      // alike, with the same reason.
      ASSERT_EQ(bool(got_a), bool(got_b)) << got_a.message() << " / " << got_b.message();
      if (!got_a) {
        const std::string why_a = got_a.message().substr(got_a.message().find("field"));
        EXPECT_EQ(why_a, got_b.message().substr(got_b.message().find("field")));
        ++rows;
        break;
      }
      ASSERT_EQ(*got_a, *got_b);
      if (!*got_a) break;
      ++rows;
      EXPECT_EQ(a.id, b.id);
      EXPECT_EQ(a.responses, b.responses);
      EXPECT_EQ(a.labels, b.labels);
      ASSERT_EQ(a.prompt_turns.size(), b.prompt_turns.size());
      for (size_t t = 0; t < a.prompt_turns.size(); ++t) {
        EXPECT_EQ(a.prompt_turns[t].role, b.prompt_turns[t].role);
        EXPECT_EQ(a.prompt_turns[t].content, b.prompt_turns[t].content);
      }
    }
    EXPECT_GT(rows, 0u);
    EXPECT_EQ(from_parquet->schema(), from_jsonl->schema());
  }
  auto rb = DatasetReader::open(kDir + "rewardbench_snappy.parquet");
  EXPECT_EQ(rb->known_row_count(), 50);  // from the footer: the progress bar's total
  EXPECT_EQ(DatasetReader::open(kDir + "rewardbench_snappy.expected.jsonl")->known_row_count(), -1);
  Example first;
  ASSERT_TRUE(rb->next(first));
  EXPECT_EQ(rb->schema(), Schema::kRewardBench);
}

// A pattern reads its files in name order as one sequence of rows (a dataset's shards), each row's
// place named in its own file.
TEST(DatasetPatterns, ShardsReadInNameOrder) {
  auto reader = JsonRowReader::open(kDir + "helpsteer2_gzip.*");
  ASSERT_TRUE(reader) << reader.message();
  const std::vector<json> jsonl = read_rows(kDir + "helpsteer2_gzip.expected.jsonl");
  JsonRow row;
  size_t n = 0;
  std::string last_place;
  while (true) {
    auto got = reader->next(row);
    ASSERT_TRUE(got) << got.message();
    if (!*got) break;
    EXPECT_EQ(row.row_index, n);
    EXPECT_EQ(row.value, jsonl[n % jsonl.size()]);  // .expected.jsonl sorts before .parquet
    last_place = reader->where(row);
    ++n;
  }
  EXPECT_EQ(n, 2 * jsonl.size());
  EXPECT_EQ(reader->known_row_count(), -1);  // one shard is JSONL: no total up front
  auto parquet_shards = JsonRowReader::open(kDir + "*_gzip.parquet");  // one match: read as that file
  ASSERT_TRUE(parquet_shards) << parquet_shards.message();
  EXPECT_EQ(parquet_shards->known_row_count(), 40);
  const auto parquet_dir = arbiter::test::scratch_root() / "parquet-shards";
  std::filesystem::create_directories(parquet_dir);
  for (const char* shard : {"train-0.parquet", "train-1.parquet"})
    std::filesystem::copy_file(kDir + "helpsteer2_gzip.parquet", parquet_dir / shard);
  auto all_parquet = JsonRowReader::open((parquet_dir / "train-*.parquet").string());
  ASSERT_TRUE(all_parquet) << all_parquet.message();
  EXPECT_EQ(all_parquet->known_row_count(), 80);  // both footers
  EXPECT_EQ(last_place, kDir + "helpsteer2_gzip.parquet: row 39");

  const auto dir = arbiter::test::scratch_root() / "shards";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "part-0.jsonl") << "{\"id\": 1}\n";
  std::ofstream(dir / "part-1.jsonl") << "{\"id\": 2}\n{\"id\": \n";
  Status status;
  const std::vector<json> rows = read_rows((dir / "part-*.jsonl").string(), &status);
  EXPECT_EQ(rows.size(), 2u);
  ASSERT_FALSE(status);
  EXPECT_NE(status.message().find("part-1.jsonl:2"), std::string::npos) << status.message();
  read_rows((dir / "nothing-*.jsonl").string(), &status);
  ASSERT_FALSE(status);
  EXPECT_NE(status.message().find("no file matches"), std::string::npos) << status.message();
}

// `arbiter info --data`: the rows, the detected schema and the footer's columns in file order.
TEST(ParquetFiles, DescribedWithItsColumns) {
  auto described = describe_dataset(kDir + "rewardbench2_zstd.parquet");
  ASSERT_TRUE(described) << described.message();
  const nlohmann::ordered_json& d = *described;
  EXPECT_EQ(d["format"], "parquet");
  EXPECT_EQ(d["rows"], 30);
  EXPECT_EQ(d["row_groups"], 3);
  EXPECT_EQ(d["schema"], "rewardbench");
  EXPECT_EQ(d["first_row_fields"]["chosen"], "list of string");
  ASSERT_EQ(d["columns"].size(), 6u);
  EXPECT_EQ(d["columns"][2]["path"], "chosen.list.item");
  EXPECT_EQ(d["columns"][2]["codec"], "ZSTD");
  EXPECT_EQ(d["columns"][4]["type"], "INT64");
  auto jsonl = describe_dataset(kDir + "helpsteer2_gzip.expected.jsonl");
  ASSERT_TRUE(jsonl) << jsonl.message();
  EXPECT_EQ((*jsonl)["format"], "jsonl");
  EXPECT_EQ((*jsonl)["rows"], 40);
  EXPECT_EQ((*jsonl)["schema"], "helpsteer2");
  EXPECT_FALSE(jsonl->contains("columns"));
}

// A JSON document that is one object is one row, and described as such, not as an array.
TEST(JsonDocuments, OneObjectIsDescribedAsOneRow) {
  const std::string text = R"({"prompt": "p", "response": "r"})";
  const std::string path = write_bytes("one-object.json", std::vector<uint8_t>(text.begin(), text.end()));
  auto described = describe_dataset(path);
  ASSERT_TRUE(described) << described.message();
  EXPECT_EQ((*described)["format"], "json object (one row)");
  EXPECT_EQ((*described)["rows"], 1);
  const std::string array_text = "[" + text + ", " + text + "]";
  const std::string array_path =
      write_bytes("two-objects.json", std::vector<uint8_t>(array_text.begin(), array_text.end()));
  auto array = describe_dataset(array_path);
  ASSERT_TRUE(array) << array.message();
  EXPECT_EQ((*array)["format"], "json array");
  EXPECT_EQ((*array)["rows"], 2);
}

// A file cut anywhere has lost its footer: the error says so and names the file.
TEST(ParquetDamage, TruncatedFilesAreRefusedByName) {
  const std::vector<uint8_t> whole = read_bytes(kDir + "rewardbench2_zstd.parquet");
  for (size_t cut : {size_t(0), size_t(3), size_t(100), whole.size() / 2, whole.size() - 9, whole.size() - 1}) {
    SCOPED_TRACE(cut);
    const std::string path =
        write_bytes("cut.parquet", std::vector<uint8_t>(whole.begin(), whole.begin() + std::ptrdiff_t(cut)));
    Status status;
    read_rows(path, &status);
    ASSERT_FALSE(status);
    EXPECT_NE(status.message().find("cut.parquet"), std::string::npos) << status.message();
  }
}

// Bytes changed at random in the pages or the footer: each read ends, with rows or with an error that
// names the file; never a crash or a hang. Changes inside compressed pages must be caught.
TEST(ParquetDamage, CorruptedBytesNeverCrash) {
  std::mt19937 rng(11);
  int failures = 0;
  for (const std::string name : {"rewardbench_snappy", "rewardbench2_zstd", "helpsteer2_gzip", "types_uncompressed"}) {
    const std::vector<uint8_t> whole = read_bytes(kDir + name + ".parquet");
    for (int trial = 0; trial < 150; ++trial) {
      std::vector<uint8_t> bytes = whole;
      const int changes = 1 + int(rng() % 4);
      for (int c = 0; c < changes; ++c) bytes[4 + rng() % (bytes.size() - 12)] ^= uint8_t(1 + rng() % 255);
      const std::string path = write_bytes("damaged.parquet", bytes);
      Status status;
      read_rows(path, &status);
      if (!status) {
        ++failures;
        EXPECT_NE(status.message().find("damaged.parquet"), std::string::npos) << status.message();
      }
    }
  }
  EXPECT_GT(failures, 100);  // most damage is detected (some lands in text, which stays valid)
}

TEST(ParquetDamage, InvalidUtf8InAStringColumnIsAnError) {
  // The uncompressed file's dictionary page holds "naïve ..." as it is: break the second byte of "ï".
  std::vector<uint8_t> broken = read_bytes(kDir + "types_uncompressed.parquet");
  const std::string text = "naïve";
  const std::vector<uint8_t> needle(text.begin(), text.end());
  auto at = std::search(broken.begin(), broken.end(), needle.begin(), needle.end());
  ASSERT_NE(at, broken.end());
  at[3] = 0xff;
  Status status;
  read_rows(write_bytes("bad-utf8.parquet", broken), &status);
  ASSERT_FALSE(status);
  EXPECT_NE(status.message().find("UTF-8"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("column 's'"), std::string::npos) << status.message();
}

// The hybrid encoding's example from the format's documentation: 0..7 bit-packed in 3 bits, then a
// run of five 4s.
TEST(ParquetEncodings, HybridBitPackedThenRepeated) {
  const uint8_t data[] = {0x03, 0x88, 0xC6, 0xFA, 0x0A, 0x04};
  uint32_t out[13] = {};
  ASSERT_TRUE(parquet::decode_hybrid(data, sizeof data, 3, 13, out));
  const uint32_t want[13] = {0, 1, 2, 3, 4, 5, 6, 7, 4, 4, 4, 4, 4};
  for (int i = 0; i < 13; ++i) EXPECT_EQ(out[i], want[i]) << i;
  EXPECT_FALSE(parquet::decode_hybrid(data, sizeof data, 3, 14, out));  // runs out
  const uint8_t too_wide[] = {0x02, 0x09};  // a repeated 9 in 3 bits
  EXPECT_FALSE(parquet::decode_hybrid(too_wide, sizeof too_wide, 3, 1, out));
}

// DELTA_BINARY_PACKED, the specification's two examples: 1..5 (every delta the minimum: zero-width
// miniblocks) and 7 5 3 1 2 3 4 5 (minimum delta -2, the rest 2-bit offsets above it).
TEST(ParquetEncodings, DeltaBinaryPacked) {
  const uint8_t ramp[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0};
  std::vector<int64_t> out;
  auto used = parquet::decode_delta_binary_packed(ramp, sizeof ramp, 100, out);
  ASSERT_TRUE(used) << used.message();
  EXPECT_EQ(*used, sizeof ramp);
  EXPECT_EQ(out, (std::vector<int64_t>{1, 2, 3, 4, 5}));

  std::vector<uint8_t> mixed = {0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 2, 0, 0, 0, 0xC0, 0x3F, 0, 0, 0, 0, 0, 0};
  out.clear();
  used = parquet::decode_delta_binary_packed(mixed.data(), mixed.size(), 100, out);
  ASSERT_TRUE(used) << used.message();
  EXPECT_EQ(*used, mixed.size());
  EXPECT_EQ(out, (std::vector<int64_t>{7, 5, 3, 1, 2, 3, 4, 5}));
  out.clear();
  EXPECT_FALSE(parquet::decode_delta_binary_packed(mixed.data(), mixed.size() - 1, 100, out));  // miniblock cut
  out.clear();
  EXPECT_FALSE(parquet::decode_delta_binary_packed(mixed.data(), mixed.size(), 7, out));  // more than expected
}

// Snappy: a literal "abc", a copy of 9 bytes from 3 back (overlapping what it writes), a literal "X".
TEST(ParquetCodecs, SnappyLiteralAndOverlappingCopy) {
  const uint8_t data[] = {13, 0x08, 'a', 'b', 'c', 0x15, 0x03, 0x00, 'X'};
  std::vector<uint8_t> out;
  ASSERT_TRUE(parquet::decompress(parquet::Codec::kSnappy, data, sizeof data, 13, out));
  EXPECT_EQ(std::string(out.begin(), out.end()), "abcabcabcabcX");
  EXPECT_FALSE(parquet::decompress(parquet::Codec::kSnappy, data, sizeof data, 12, out));  // length differs
  const uint8_t before_start[] = {13, 0x08, 'a', 'b', 'c', 0x15, 0x04, 0x00, 'X'};
  EXPECT_FALSE(parquet::decompress(parquet::Codec::kSnappy, before_start, sizeof before_start, 13, out));
  EXPECT_FALSE(parquet::decompress(parquet::Codec::kSnappy, data, sizeof data - 1, 13, out));  // cut short
}

// LZ4 blocks: three literals and a 9-byte match 3 back, then a last literal.
TEST(ParquetCodecs, Lz4BlockLiteralAndOverlappingMatch) {
  const uint8_t data[] = {0x35, 'a', 'b', 'c', 0x03, 0x00, 0x10, 'X'};
  std::vector<uint8_t> out;
  ASSERT_TRUE(parquet::decompress(parquet::Codec::kLz4Raw, data, sizeof data, 13, out));
  EXPECT_EQ(std::string(out.begin(), out.end()), "abcabcabcabcX");
  const uint8_t zero_offset[] = {0x35, 'a', 'b', 'c', 0x00, 0x00, 0x10, 'X'};
  EXPECT_FALSE(parquet::decompress(parquet::Codec::kLz4Raw, zero_offset, sizeof zero_offset, 13, out));
  EXPECT_FALSE(parquet::decompress(parquet::Codec::kBrotli, data, sizeof data, 13, out));
}

}  // namespace
}  // namespace arbiter::data
