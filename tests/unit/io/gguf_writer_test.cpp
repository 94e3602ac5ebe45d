// GgufWriter: round trips, and byte-for-byte agreement with files the canonical converter wrote.
#include <gtest/gtest.h>

#include <cstring>

#include "core/half.h"
#include "io/gguf.h"
#include "io_test_util.h"

namespace arbiter {
namespace {

using test::shared_path;

GgufValue scalar(GgufType type, uint64_t u, int64_t i, double f) {
  GgufValue v;
  v.type = type;
  v.u = u;
  v.i = i;
  v.f = f;
  return v;
}

GgufValue array_of(GgufType element_type, std::vector<GgufValue> items) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.array_type = element_type;
  v.array = std::move(items);
  return v;
}

// Compares the fields that the value's type uses (the others are unspecified after reading).
void expect_same_value(const GgufValue& a, const GgufValue& b, const std::string& key) {
  ASSERT_EQ(a.type, b.type) << key;
  switch (a.type) {
    case GgufType::UINT8: case GgufType::UINT16: case GgufType::UINT32: case GgufType::UINT64: case GgufType::BOOL:
      EXPECT_EQ(a.u, b.u) << key;
      break;
    case GgufType::INT8: case GgufType::INT16: case GgufType::INT32: case GgufType::INT64:
      EXPECT_EQ(a.i, b.i) << key;
      break;
    case GgufType::FLOAT32: case GgufType::FLOAT64:
      EXPECT_EQ(a.f, b.f) << key;
      break;
    case GgufType::STRING:
      EXPECT_EQ(a.str, b.str) << key;
      break;
    case GgufType::ARRAY:
      ASSERT_EQ(a.array_type, b.array_type) << key;
      ASSERT_EQ(a.array.size(), b.array.size()) << key;
      for (size_t e = 0; e < a.array.size(); ++e) expect_same_value(a.array[e], b.array[e], key + "[" + std::to_string(e) + "]");
      break;
  }
}

std::vector<std::pair<std::string, GgufValue>> every_value_type() {
  return {
      {"t.u8", scalar(GgufType::UINT8, 250, 0, 0)},
      {"t.i8", scalar(GgufType::INT8, 0, -120, 0)},
      {"t.u16", scalar(GgufType::UINT16, 65000, 0, 0)},
      {"t.i16", scalar(GgufType::INT16, 0, -32000, 0)},
      {"t.u32", GgufValue::from_u32(4000000000u)},
      {"t.i32", GgufValue::from_i32(-2000000000)},
      {"t.f32", GgufValue::from_f32(0.1f)},
      {"t.bool", GgufValue::from_bool(true)},
      {"t.string", GgufValue::from_string(std::string("h\xC3\xA9llo \0 world", 14))},
      {"t.empty_string", GgufValue::from_string("")},
      {"t.u64", GgufValue::from_u64(18000000000000000000ull)},
      {"t.i64", scalar(GgufType::INT64, 0, -9000000000000000000ll, 0)},
      {"t.f64", scalar(GgufType::FLOAT64, 0, 0, 3.141592653589793)},
      {"t.strings", GgufValue::from_strings({"a", "", "\xE2\x96\x81the"})},
      {"t.f32s", GgufValue::from_f32s({1.5f, -2.25f, 1e-30f})},
      {"t.i32s", GgufValue::from_i32s({1, -1, 2147483647})},
      {"t.u8s", array_of(GgufType::UINT8, {scalar(GgufType::UINT8, 1, 0, 0), scalar(GgufType::UINT8, 255, 0, 0)})},
      {"t.bools", array_of(GgufType::BOOL, {GgufValue::from_bool(false), GgufValue::from_bool(true)})},
      {"t.f64s", array_of(GgufType::FLOAT64, {scalar(GgufType::FLOAT64, 0, 0, -0.5)})},
      {"t.empty_array", array_of(GgufType::INT64, {})},
      {"t.nested", array_of(GgufType::ARRAY, {GgufValue::from_i32s({1, 2}), GgufValue::from_strings({"x"}),
                                              array_of(GgufType::ARRAY, {GgufValue::from_f32s({7.0f})})})},
  };
}

TEST(GgufWriter, RoundTripsEveryValueTypeAndTensors) {
  const auto dir = test::scratch_dir("gguf_roundtrip");
  for (uint32_t alignment : {0u, 64u}) {
    SCOPED_TRACE(alignment);
    GgufWriter writer;
    auto metadata = every_value_type();
    if (alignment != 0) metadata.insert(metadata.begin(), {"general.alignment", GgufValue::from_u32(alignment)});
    for (const auto& [key, value] : metadata) writer.set(key, value);
    writer.set("t.u32", GgufValue::from_u32(7));  // replaces in place, keeps the position
    metadata[alignment != 0 ? 5 : 4].second = GgufValue::from_u32(7);

    std::vector<float> f32(3 * 5);
    for (size_t k = 0; k < f32.size(); ++k) f32[k] = float(k) * 0.5f - 3.0f;
    std::vector<uint16_t> f16 = {f32_to_f16(1.0f), f32_to_f16(-2.0f), f32_to_f16(0.5f), 0, 1, 2, 3, 4};
    std::vector<uint8_t> q8(2 * 34);
    for (size_t k = 0; k < q8.size(); ++k) q8[k] = uint8_t(k * 7);
    std::vector<uint16_t> bf16(7);
    for (size_t k = 0; k < bf16.size(); ++k) bf16[k] = f32_to_bf16(float(k));
    ASSERT_TRUE(writer.add_tensor("a.f32", DType::F32, {3, 5}, f32.data(), f32.size() * 4).is_ok());
    ASSERT_TRUE(writer.add_tensor("b.f16", DType::F16, {2, 2, 2}, f16.data(), f16.size() * 2).is_ok());
    ASSERT_TRUE(writer.add_tensor("c.q8_0", DType::Q8_0, {2, 32}, q8.data(), q8.size()).is_ok());
    ASSERT_TRUE(writer.add_tensor("d.bf16", DType::BF16, {7}, bf16.data(), bf16.size() * 2).is_ok());
    const std::string path = (dir / ("rt" + std::to_string(alignment) + ".gguf")).string();
    Status written = writer.write(path);
    ASSERT_TRUE(written.is_ok()) << written.message();
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

    auto file = GgufFile::open(path);
    ASSERT_TRUE(file.is_ok()) << file.message();
    EXPECT_EQ((*file)->version(), 3u);
    EXPECT_EQ((*file)->alignment(), alignment != 0 ? alignment : 32u);
    const auto& read = (*file)->metadata();
    ASSERT_EQ(read.size(), metadata.size());
    for (size_t k = 0; k < read.size(); ++k) {
      EXPECT_EQ(read[k].first, metadata[k].first);
      expect_same_value(read[k].second, metadata[k].second, metadata[k].first);
    }
    EXPECT_EQ((*file)->get_string("t.string")->size(), 14u);  // the embedded NUL survives

    const auto& tensors = (*file)->tensors();
    ASSERT_EQ(tensors.size(), 4u);
    EXPECT_EQ(tensors[0].name, "a.f32");
    EXPECT_EQ(tensors[1].shape, (std::vector<int64_t>{2, 2, 2}));
    EXPECT_EQ(tensors[2].dtype, DType::Q8_0);
    EXPECT_EQ(tensors[3].shape, (std::vector<int64_t>{7}));
    EXPECT_EQ(std::memcmp(tensors[0].data, f32.data(), f32.size() * 4), 0);
    EXPECT_EQ(std::memcmp(tensors[1].data, f16.data(), f16.size() * 2), 0);
    EXPECT_EQ(std::memcmp(tensors[2].data, q8.data(), q8.size()), 0);
    EXPECT_EQ(std::memcmp(tensors[3].data, bf16.data(), bf16.size() * 2), 0);
    const uint64_t align = (*file)->alignment();
    for (const TensorView& t : tensors) EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % align, 0u) << t.name;
  }
}

// Re-writing a converter's file through our reader and writer gives back the very same bytes: our layout
// (order, padding, alignment, ne[] order, type numbers) is the canonical tools' layout.
TEST(GgufWriter, ReproducesCanonicalFilesByteForByte) {
  const auto dir = test::scratch_dir("gguf_rewrite");
  const std::vector<std::string> sources = {
      shared_path("fixtures/gguf/llama.q8_0.gguf"), shared_path("fixtures/gguf/gemma2.bf16.gguf"),
      shared_path("fixtures/gguf/qwen2.f32.gguf"), shared_path("fixtures/quants/random-blocks.gguf"),
      shared_path("models/stories260K/stories260K.gguf")};
  for (const std::string& source : sources) {
    SCOPED_TRACE(source);
    auto file = GgufFile::open(source);
    ASSERT_TRUE(file.is_ok()) << file.message();
    GgufWriter writer;
    for (const auto& [key, value] : (*file)->metadata()) writer.set(key, value);
    for (const TensorView& t : (*file)->tensors()) {
      Status added = writer.add_tensor(t.name, t.dtype, t.shape, t.data, t.nbytes);
      ASSERT_TRUE(added.is_ok()) << added.message();
    }
    const std::string out = (dir / "copy.gguf").string();
    ASSERT_TRUE(writer.write(out).is_ok());
    EXPECT_TRUE(test::read_bytes(out) == test::read_bytes(source));
  }
}

TEST(GgufWriter, RejectsInconsistentInput) {
  GgufWriter writer;
  std::vector<float> data(8);
  Status wrong_size = writer.add_tensor("w", DType::F32, {2, 4}, data.data(), 16);
  ASSERT_FALSE(wrong_size.is_ok());
  EXPECT_NE(wrong_size.message().find("'w'"), std::string::npos);
  EXPECT_FALSE(writer.add_tensor("q", DType::Q8_0, {1, 8}, data.data(), 32).is_ok());  // 8 is not a block multiple
  EXPECT_FALSE(writer.add_tensor("z", DType::F32, {0, 8}, data.data(), 0).is_ok());
  EXPECT_FALSE(writer.add_tensor("s", DType::F32, {}, data.data(), 4).is_ok());
  EXPECT_FALSE(writer.add_tensor("u", DType(99), {8}, data.data(), 32).is_ok());
  ASSERT_TRUE(writer.add_tensor("w", DType::F32, {2, 4}, data.data(), 32).is_ok());
  Status duplicate = writer.add_tensor("w", DType::F32, {8}, data.data(), 32);
  ASSERT_FALSE(duplicate.is_ok());
  EXPECT_NE(duplicate.message().find("duplicate"), std::string::npos);

  const auto dir = test::scratch_dir("gguf_writer_errors");
  GgufWriter mixed;
  GgufValue bad = GgufValue::from_i32s({1, 2});
  bad.array[1] = GgufValue::from_string("x");
  mixed.set("mixed", bad);
  Status mixed_status = mixed.write((dir / "mixed.gguf").string());
  ASSERT_FALSE(mixed_status.is_ok());
  EXPECT_NE(mixed_status.message().find("'mixed'"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "mixed.gguf"));
  EXPECT_FALSE(std::filesystem::exists(dir / "mixed.gguf.tmp"));

  GgufWriter unaligned;
  unaligned.set("general.alignment", GgufValue::from_u32(24));
  EXPECT_FALSE(unaligned.write((dir / "a.gguf").string()).is_ok());
  EXPECT_FALSE(writer.write((dir / "no/such/dir/x.gguf").string()).is_ok());
}

}  // namespace
}  // namespace arbiter
