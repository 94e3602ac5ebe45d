// Corrupt and hostile GGUF input: every case is a clear error (naming the file and, when known, the key
// or tensor) or a valid file whose views stay inside the bytes. Never a crash or an unchecked allocation.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "io/gguf.h"
#include "io/gguf_parse.h"
#include "io_test_util.h"

namespace arbiter {
namespace {

using test::shared_path;

// Little-endian GGUF bytes, written by hand so these tests do not depend on GgufWriter.
struct Bytes {
  std::vector<uint8_t> b;
  template <typename T>
  Bytes& put(T x) {
    uint8_t raw[sizeof(T)];
    std::memcpy(raw, &x, sizeof(T));
    b.insert(b.end(), raw, raw + sizeof(T));
    return *this;
  }
  Bytes& u32(uint32_t x) { return put(x); }
  Bytes& u64(uint64_t x) { return put(x); }
  Bytes& str(const std::string& s) {
    u64(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& pad(size_t alignment) {
    while (b.size() % alignment) b.push_back(0);
    return *this;
  }
  Bytes& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
};

Bytes header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
  Bytes out;
  out.b = {'G', 'G', 'U', 'F'};
  return out.u32(version).u64(n_tensors).u64(n_kv);
}

Bytes& kv_string(Bytes& out, const std::string& key, const std::string& value) {
  return out.str(key).u32(uint32_t(GgufType::STRING)).str(value);
}

Bytes& tensor_info(Bytes& out, const std::string& name, const std::vector<int64_t>& ne, uint32_t type,
                   uint64_t offset) {
  out.str(name).u32(uint32_t(ne.size()));
  for (int64_t n : ne) out.put<int64_t>(n);
  return out.u32(type).u64(offset);
}

// One 4 x 2 f32 tensor "w" and one key: the valid file the cases below break one field of.
Bytes valid_file() {
  Bytes out = header(3, 1, 1);
  kv_string(out, "general.architecture", "test");
  tensor_info(out, "w", {4, 2}, 0, 0);
  return out.pad(32).zeros(32);
}

Result<std::shared_ptr<GgufFile>> parse(const Bytes& bytes) {
  return parse_gguf(bytes.b.data(), bytes.b.size(), "crafted.gguf", nullptr);
}

void expect_error(const Bytes& bytes, const std::vector<std::string>& needles) {
  auto result = parse(bytes);
  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(result.message().find("crafted.gguf"), std::string::npos) << result.message();
  for (const std::string& needle : needles) {
    EXPECT_NE(result.message().find(needle), std::string::npos) << "'" << needle << "' not in: " << result.message();
  }
}

// Views of a file that parsed must lie inside its bytes and agree with their shapes.
void expect_views_inside(const GgufFile& file, const uint8_t* base, size_t size) {
  for (const TensorView& t : file.tensors()) {
    const uint8_t* p = static_cast<const uint8_t*>(t.data);
    ASSERT_GE(p, base) << t.name;
    ASSERT_LE(t.nbytes, size) << t.name;
    ASSERT_LE(size_t(p - base), size - t.nbytes) << t.name;
    for (int64_t d : t.shape) ASSERT_GT(d, 0) << t.name;
    auto row = row_bytes(t.dtype, t.cols());
    ASSERT_TRUE(row.is_ok()) << t.name;
    ASSERT_EQ(t.nbytes, *row * size_t(t.rows())) << t.name;
    ASSERT_EQ(file.tensor(t.name), &t);
  }
}

TEST(GgufCorrupt, CraftedBaselineIsValid) {
  auto result = parse(valid_file());
  ASSERT_TRUE(result.is_ok()) << result.message();
  EXPECT_EQ((*result)->tensor("w")->shape, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ((*result)->tensor("w")->nbytes, 32u);
}

TEST(GgufCorrupt, HeaderErrors) {
  Bytes magic = valid_file();
  magic.b[3] = 'X';
  expect_error(magic, {"magic"});
  expect_error(Bytes{{'G', 'G', 'U'}}, {"not a GGUF"});
  expect_error(Bytes{}, {"not a GGUF"});
  Bytes v1 = header(1, 0, 0);
  expect_error(v1, {"version 1"});
  expect_error(header(4, 0, 0), {"version 4"});
  expect_error(header(0x03000000, 0, 0), {"big-endian"});
  expect_error(header(3, 0, uint64_t(1) << 62), {"metadata count"});
  expect_error(header(3, uint64_t(1) << 40, 0), {"tensor count"});
  Bytes truncated = header(3, 0, 0);
  truncated.b.resize(20);
  expect_error(truncated, {"truncated", "metadata count"});
}

TEST(GgufCorrupt, MetadataErrorsNameTheKey) {
  Bytes long_value = header(3, 0, 1);
  long_value.str("general.name").u32(uint32_t(GgufType::STRING)).u64(uint64_t(1) << 60);
  expect_error(long_value, {"general.name", "string length 1152921504606846976"});

  Bytes long_key = header(3, 0, 1);
  long_key.u64(uint64_t(1) << 60).zeros(16);
  expect_error(long_key, {"metadata key #0", "string length"});

  Bytes bad_type = header(3, 0, 1);
  bad_type.str("k.type").u32(13).u32(0);
  expect_error(bad_type, {"k.type", "unknown value type 13"});

  Bytes huge_array = header(3, 0, 1);
  huge_array.str("k.array").u32(uint32_t(GgufType::ARRAY)).u32(uint32_t(GgufType::UINT8)).u64(uint64_t(1) << 62);
  expect_error(huge_array, {"k.array", "array of"});

  Bytes huge_string_array = header(3, 0, 1);
  huge_string_array.str("k.strings").u32(uint32_t(GgufType::ARRAY)).u32(uint32_t(GgufType::STRING)).u64(3).u64(5);
  expect_error(huge_string_array, {"k.strings"});

  Bytes bad_element = header(3, 0, 1);
  bad_element.str("k.elements").u32(uint32_t(GgufType::ARRAY)).u32(77).u64(1);
  expect_error(bad_element, {"k.elements", "element type 77"});

  Bytes deep = header(3, 0, 1);
  deep.str("k.deep").u32(uint32_t(GgufType::ARRAY));
  for (int level = 0; level < 100; ++level) deep.u32(uint32_t(GgufType::ARRAY)).u64(1);
  deep.u32(uint32_t(GgufType::UINT8)).u64(0);
  expect_error(deep, {"k.deep", "nested"});

  Bytes duplicate = header(3, 0, 2);
  kv_string(duplicate, "general.name", "a");
  kv_string(duplicate, "general.name", "b");
  expect_error(duplicate, {"duplicate", "general.name"});

  Bytes truncated_value = header(3, 0, 1);
  truncated_value.str("k.u64").u32(uint32_t(GgufType::UINT64)).u32(0);
  expect_error(truncated_value, {"k.u64", "truncated"});
}

TEST(GgufCorrupt, AlignmentMustBeAPowerOfTwo) {
  for (uint32_t bad : {0u, 3u, 48u}) {
    Bytes file = header(3, 0, 1);
    file.str("general.alignment").u32(uint32_t(GgufType::UINT32)).u32(bad);
    expect_error(file, {"general.alignment"});
  }
  Bytes as_string = header(3, 0, 1);
  kv_string(as_string, "general.alignment", "32");
  expect_error(as_string, {"general.alignment"});

  // A valid custom alignment moves the data section and is what offsets must respect.
  Bytes aligned = header(3, 2, 1);
  aligned.str("general.alignment").u32(uint32_t(GgufType::UINT32)).u32(64);
  tensor_info(aligned, "a", {4}, 0, 0);
  tensor_info(aligned, "b", {4}, 0, 64);
  aligned.pad(64).zeros(80);
  auto result = parse(aligned);
  ASSERT_TRUE(result.is_ok()) << result.message();
  EXPECT_EQ((*result)->alignment(), 64u);
  EXPECT_EQ(static_cast<const uint8_t*>((*result)->tensor("b")->data) - aligned.b.data(), 128 + 64);
  Bytes misaligned = header(3, 1, 1);
  misaligned.str("general.alignment").u32(uint32_t(GgufType::UINT32)).u32(64);
  tensor_info(misaligned, "a", {4}, 0, 32);
  misaligned.pad(64).zeros(64);
  expect_error(misaligned, {"'a'", "alignment 64"});
}

TEST(GgufCorrupt, TensorInfoErrorsNameTheTensor) {
  auto one_tensor = [](const std::vector<int64_t>& ne, uint32_t type, uint64_t offset, size_t data_bytes) {
    Bytes out = header(3, 1, 0);
    tensor_info(out, "blk.0.w", ne, type, offset);
    return out.pad(32).zeros(data_bytes);
  };
  expect_error(one_tensor({1, 1, 1, 1, 1}, 0, 0, 32), {"blk.0.w", "n_dims 5"});
  expect_error(one_tensor({4, 0}, 0, 0, 32), {"blk.0.w", "dimension 1 is 0"});
  expect_error(one_tensor({-3}, 0, 0, 32), {"blk.0.w", "dimension 0 is -3"});
  expect_error(one_tensor({int64_t(1) << 32, int64_t(1) << 32}, 0, 0, 32), {"blk.0.w", "overflows"});
  expect_error(one_tensor({int64_t(1) << 62}, 0, 0, 32), {"blk.0.w", "overflows"});
  expect_error(one_tensor({4}, 99, 0, 32), {"blk.0.w", "unknown tensor type number 99"});
  expect_error(one_tensor({4}, 4, 0, 32), {"blk.0.w", "unknown tensor type number 4"});
  expect_error(one_tensor({33}, uint32_t(DType::Q8_0), 0, 64), {"blk.0.w", "block size"});
  expect_error(one_tensor({4}, 0, 4, 64), {"blk.0.w", "not a multiple of the alignment"});
  expect_error(one_tensor({8}, 0, 0, 16), {"blk.0.w", "past the end"});
  expect_error(one_tensor({8}, 0, uint64_t(1) << 63, 32), {"blk.0.w", "past the end"});
  expect_error(one_tensor({int64_t(1) << 40}, 0, 0, 32), {"blk.0.w", "past the end"});
  ASSERT_TRUE(parse(one_tensor({8}, 0, 0, 32)).is_ok());

  Bytes no_data = header(3, 1, 0);
  tensor_info(no_data, "w", {8}, 0, 0);
  expect_error(no_data, {"data section"});

  Bytes duplicate = header(3, 2, 0);
  tensor_info(duplicate, "w", {8}, 0, 0);
  tensor_info(duplicate, "w", {8}, 0, 32);
  duplicate.pad(32).zeros(64);
  expect_error(duplicate, {"duplicate tensor 'w'"});

  // Tensors lie one after the other, padded to the alignment, as llama.cpp requires: one that overlaps the
  // tensor before it, or one after a gap (a type changed so that a tensor no longer fills its place), is
  // refused, naming it.
  Bytes overlap = header(3, 2, 0);
  tensor_info(overlap, "a", {8}, 0, 0);
  tensor_info(overlap, "b", {8}, 0, 0);
  overlap.pad(32).zeros(64);
  expect_error(overlap, {"tensor 'b': data at offset 0, where the tensors before it end at 32"});
  Bytes gap = header(3, 2, 0);
  tensor_info(gap, "a", {8}, uint32_t(DType::F16), 0);  // 16 bytes, padded to 32
  tensor_info(gap, "b", {8}, 0, 64);
  gap.pad(32).zeros(96);
  expect_error(gap, {"tensor 'b': data at offset 64, where the tensors before it end at 32"});
  Bytes tiled = header(3, 2, 0);
  tensor_info(tiled, "a", {8}, uint32_t(DType::F16), 0);
  tensor_info(tiled, "b", {8}, 0, 32);
  tiled.pad(32).zeros(64);
  ASSERT_TRUE(parse(tiled).is_ok()) << parse(tiled).message();

  // A tensor count above the tensors described reads the data's zeros as a nameless tensor.
  Bytes overcounted = header(3, 2, 0);
  tensor_info(overcounted, "w", {8}, 0, 0);
  overcounted.pad(32).zeros(256);
  expect_error(overcounted, {"tensor 1 of 2 has no name", "tensor count may exceed"});

  Bytes long_name = header(3, 1, 0);
  long_name.u64(uint64_t(1) << 60).zeros(32);
  expect_error(long_name, {"tensor #0", "string length"});
}

// A file with no tensors may end right after its metadata (as llama.cpp's vocab files do).
TEST(GgufCorrupt, VocabOnlyWithoutPaddingIsValid) {
  Bytes out = header(2, 0, 1);
  kv_string(out, "general.name", "abc");  // leaves the file at a length that is not a multiple of 32
  ASSERT_NE(out.b.size() % 32, 0u);
  auto result = parse(out);
  ASSERT_TRUE(result.is_ok()) << result.message();
  EXPECT_EQ((*result)->version(), 2u);
  EXPECT_EQ((*result)->get_string("general.name"), "abc");
}

TEST(GgufCorrupt, OpenErrorsNameThePath) {
  auto missing = GgufFile::open("/nonexistent/model.gguf");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.message().find("/nonexistent/model.gguf"), std::string::npos);
  auto directory = GgufFile::open(shared_path("fixtures/gguf"));
  ASSERT_FALSE(directory.is_ok());
  const auto dir = test::scratch_dir("gguf_empty");
  test::write_bytes((dir / "empty.gguf").string(), nullptr, 0);
  auto empty = GgufFile::open((dir / "empty.gguf").string());
  ASSERT_FALSE(empty.is_ok());
  EXPECT_NE(empty.message().find("empty.gguf"), std::string::npos);
}

// Where the header ends and the last tensor's data ends, computed from the parse of the intact file.
struct Layout {
  size_t header_end;    // first byte of the data section
  size_t data_end;      // one past the last tensor byte
};

Layout layout_of(const GgufFile& file, const uint8_t* base) {
  Layout layout{SIZE_MAX, 0};
  for (const TensorView& t : file.tensors()) {
    const size_t begin = size_t(static_cast<const uint8_t*>(t.data) - base);
    layout.header_end = std::min(layout.header_end, begin);
    layout.data_end = std::max(layout.data_end, begin + t.nbytes);
  }
  return layout;
}

// Truncating a real file anywhere before its last tensor byte is an error; at every byte of the header,
// and at samples through the data.
TEST(GgufCorrupt, TruncationAnywhereIsAnError) {
  const std::string path = shared_path("fixtures/gguf/llama.q8_0.gguf");
  const std::vector<uint8_t> bytes = test::read_bytes(path);
  auto intact = parse_gguf(bytes.data(), bytes.size(), path, nullptr);
  ASSERT_TRUE(intact.is_ok()) << intact.message();
  const Layout layout = layout_of(**intact, bytes.data());
  ASSERT_GT(layout.header_end, 10000u);
  ASSERT_EQ(layout.data_end, bytes.size());

  std::vector<size_t> lengths;
  for (size_t n = 0; n <= layout.header_end + 64; ++n) lengths.push_back(n);
  for (size_t n = layout.header_end + 64; n < bytes.size(); n += 499) lengths.push_back(n);
  lengths.push_back(bytes.size() - 1);
  for (size_t n : lengths) {
    // A copy of exactly n bytes, so a read past the end is caught by AddressSanitizer.
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + long(n));
    auto result = parse_gguf(prefix.data(), prefix.size(), "truncated.gguf", nullptr);
    ASSERT_FALSE(result.is_ok()) << "length " << n;
    ASSERT_NE(result.message().find("truncated.gguf"), std::string::npos) << result.message();
  }

  // The same through the file path, at a few lengths.
  const auto dir = test::scratch_dir("gguf_truncated");
  for (size_t n : {size_t(3), size_t(24), size_t(5000), layout.header_end - 1, layout.header_end + 100, bytes.size() - 1}) {
    const std::string cut = (dir / "cut.gguf").string();
    test::write_bytes(cut, bytes.data(), n);
    auto result = GgufFile::open(cut);
    ASSERT_FALSE(result.is_ok()) << "length " << n;
    EXPECT_NE(result.message().find("cut.gguf"), std::string::npos) << result.message();
  }
}

// The vocab-only files have no data section: a truncated one is an error unless nothing was cut.
TEST(GgufCorrupt, TruncatedVocabOnlyFile) {
  const std::vector<uint8_t> bytes = test::read_bytes(shared_path("models/vocab/ggml-vocab-llama-spm.gguf"));
  ASSERT_TRUE(parse_gguf(bytes.data(), bytes.size(), "vocab.gguf", nullptr).is_ok());
  for (size_t n = 0; n < bytes.size(); n += (n < 4096 ? 1 : 31991)) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + long(n));
    ASSERT_FALSE(parse_gguf(prefix.data(), prefix.size(), "vocab.gguf", nullptr).is_ok()) << "length " << n;
  }
}

// Header bytes of a real file flipped, then random multi-byte damage: error or valid, views inside.
TEST(GgufCorrupt, FlippedBytesNeverEscapeTheFile) {
  const std::vector<uint8_t> bytes = test::read_bytes(shared_path("fixtures/gguf/llama.q8_0.gguf"));
  auto intact = parse_gguf(bytes.data(), bytes.size(), "f.gguf", nullptr);
  ASSERT_TRUE(intact.is_ok());
  const size_t header_end = layout_of(**intact, bytes.data()).header_end;

  std::vector<uint8_t> damaged = bytes;
  size_t valid = 0;
  size_t invalid = 0;
  auto check = [&](const std::vector<uint8_t>& image) {
    auto result = parse_gguf(image.data(), image.size(), "f.gguf", nullptr);
    if (result.is_ok()) {
      ++valid;
      expect_views_inside(**result, image.data(), image.size());
    } else {
      ++invalid;
      ASSERT_NE(result.message().find("f.gguf"), std::string::npos);
    }
  };
  // Every byte of the fixed header, the first keys and the tensor infos; every 5th inside the vocabulary
  // arrays between them (their bytes are alike, and each parse costs the whole header).
  for (size_t pos = 0; pos < header_end; pos += (pos < 2048 || pos + 2048 >= header_end) ? 1 : 5) {
    damaged[pos] ^= 0xFF;
    check(damaged);
    damaged[pos] = bytes[pos];
  }
  std::mt19937 rng(1234);
  const uint8_t special[] = {0x00, 0xFF, 0x7F, 0x80, 0x01, 0x20};
  for (int round = 0; round < 2000; ++round) {
    const int edits = 1 + int(rng() % 4);
    size_t positions[4];
    for (int e = 0; e < edits; ++e) {
      positions[e] = rng() % header_end;
      damaged[positions[e]] = (rng() & 1) ? uint8_t(rng()) : special[rng() % sizeof(special)];
    }
    check(damaged);
    for (int e = 0; e < edits; ++e) damaged[positions[e]] = bytes[positions[e]];
  }
  // Both outcomes occur: flips inside string bytes leave the file valid, flips in lengths do not.
  EXPECT_GT(valid, 100u);
  EXPECT_GT(invalid, 100u);
}

}  // namespace
}  // namespace arbiter
