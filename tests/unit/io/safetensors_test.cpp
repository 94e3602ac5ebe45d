// safetensors reader, model directories and writer, against the transformers-made fixtures (../shared).
#include "io/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>

#include "core/half.h"
#include "io/safetensors_parse.h"
#include "io_test_util.h"
#include "../../support/scratch_root.h"
#include "../../support/temp_files.h"

namespace arbiter {
namespace {

using test::shared_path;

const char* kModels[] = {"gemma2", "gemma2-seqcls1", "llama", "llama-bf16", "llama-seqcls1", "llama-seqcls5",
                         "mistral", "qwen2", "qwen2-seqcls1", "qwen3", "qwen3-seqcls1"};

std::shared_ptr<SafetensorsFile> open_safetensors_ok(const std::string& path) {
  auto file = SafetensorsFile::open(path);
  EXPECT_TRUE(file.is_ok()) << file.message();
  return file.is_ok() ? *file : nullptr;
}

TEST(Safetensors, ReadsEveryFixtureModel) {
  for (const char* model : kModels) {
    SCOPED_TRACE(model);
    auto file = open_safetensors_ok(shared_path(std::string("fixtures/hf/") + model + "/model.safetensors"));
    ASSERT_NE(file, nullptr);
    const TensorView* embed = file->tensor("model.embed_tokens.weight");
    ASSERT_NE(embed, nullptr);
    EXPECT_EQ(embed->shape, (std::vector<int64_t>{512, 64}));
    EXPECT_EQ(embed->dtype, std::string(model) == "llama-bf16" ? DType::BF16 : DType::F32);
    const TensorView* down = file->tensor("model.layers.2.mlp.down_proj.weight");
    ASSERT_NE(down, nullptr);
    EXPECT_EQ(down->shape, (std::vector<int64_t>{64, 192}));
    EXPECT_NE(file->tensor("model.norm.weight"), nullptr);
    for (const TensorView& t : file->tensors()) {
      EXPECT_EQ(t.nbytes, size_t(t.numel()) * dtype_info(t.dtype).block_bytes) << t.name;
      EXPECT_EQ(file->tensor(t.name), &t);
    }
    const std::string name = model;
    if (name.find("seqcls") != std::string::npos) {
      const int64_t labels = name == "llama-seqcls5" ? 5 : 1;
      ASSERT_NE(file->tensor("score.weight"), nullptr);
      EXPECT_EQ(file->tensor("score.weight")->shape, (std::vector<int64_t>{labels, 64}));
    }
    if (name == "qwen3") {
      ASSERT_NE(file->tensor("model.layers.0.self_attn.q_norm.weight"), nullptr);
      EXPECT_EQ(file->tensor("model.layers.0.self_attn.q_norm.weight")->shape, (std::vector<int64_t>{32}));
    }
    if (name == "qwen2") {
      EXPECT_NE(file->tensor("model.layers.0.self_attn.q_proj.bias"), nullptr);
    }
  }
}

// Tensors are listed in storage order: each begins where (or after) the previous one ends.
TEST(Safetensors, TensorsInStorageOrder) {
  auto file = open_safetensors_ok(shared_path("fixtures/hf/llama/model.safetensors"));
  ASSERT_NE(file, nullptr);
  const auto& tensors = file->tensors();
  ASSERT_GT(tensors.size(), 10u);
  for (size_t k = 1; k < tensors.size(); ++k) {
    const auto* prev = static_cast<const uint8_t*>(tensors[k - 1].data);
    EXPECT_LE(prev + tensors[k - 1].nbytes, static_cast<const uint8_t*>(tensors[k].data)) << tensors[k].name;
  }
}

TEST(Safetensors, ReferenceFiles) {
  auto ref = open_safetensors_ok(shared_path("fixtures/hf/llama/ref.safetensors"));
  ASSERT_NE(ref, nullptr);
  const TensorView* layer0 = ref->tensor("seq2.layer0");
  ASSERT_NE(layer0, nullptr);
  EXPECT_EQ(layer0->dtype, DType::F32);
  EXPECT_EQ(layer0->shape, (std::vector<int64_t>{33, 64}));
  const TensorView* ids = ref->tensor("seq2.input_ids");
  ASSERT_NE(ids, nullptr);
  EXPECT_EQ(ids->dtype, DType::I32);
  EXPECT_EQ(ids->shape, (std::vector<int64_t>{33}));
  const int32_t* id = static_cast<const int32_t*>(ids->data);
  for (int t = 0; t < 33; ++t) {
    EXPECT_GE(id[t], 0);
    EXPECT_LT(id[t], 512);
  }
  EXPECT_EQ(ref->tensor("seq0.input_ids")->shape, (std::vector<int64_t>{1}));
  EXPECT_EQ(ref->tensor("seq1.logits")->shape, (std::vector<int64_t>{5, 512}));
  EXPECT_EQ(ref->tensor("seq1.lens_logits_last")->shape, (std::vector<int64_t>{4, 512}));
  EXPECT_EQ(ref->tensor("seq2.final_norm")->shape, (std::vector<int64_t>{33, 64}));
  for (int seq = 0; seq < 3; ++seq) {
    for (int layer = 0; layer <= 3; ++layer) {
      EXPECT_NE(ref->tensor("seq" + std::to_string(seq) + ".layer" + std::to_string(layer)), nullptr);
    }
  }
  auto cls5 = open_safetensors_ok(shared_path("fixtures/hf/llama-seqcls5/ref.safetensors"));
  ASSERT_NE(cls5, nullptr);
  EXPECT_EQ(cls5->tensor("seq2.scores")->shape, (std::vector<int64_t>{5}));
  auto cls1 = open_safetensors_ok(shared_path("fixtures/hf/qwen2-seqcls1/ref.safetensors"));
  ASSERT_NE(cls1, nullptr);
  EXPECT_EQ(cls1->tensor("seq0.scores")->shape, (std::vector<int64_t>{1}));
}

// bf16 weights are the round-to-nearest-even of a float model: every value is a finite bf16.
TEST(Safetensors, Bf16Model) {
  auto file = open_safetensors_ok(shared_path("fixtures/hf/llama-bf16/model.safetensors"));
  ASSERT_NE(file, nullptr);
  size_t bf16_tensors = 0;
  for (const TensorView& t : file->tensors()) {
    if (t.dtype != DType::BF16) continue;
    ++bf16_tensors;
    EXPECT_EQ(t.nbytes, size_t(t.numel()) * 2);
    const uint16_t* v = static_cast<const uint16_t*>(t.data);
    for (int64_t k = 0; k < t.numel(); ++k) ASSERT_TRUE(std::isfinite(bf16_to_f32(v[k]))) << t.name;
  }
  EXPECT_EQ(bf16_tensors, file->tensors().size());
}

// The 13 shards hold exactly the single-file model's tensors, byte for byte.
TEST(Safetensors, ShardedEqualsSingleFile) {
  auto sharded = SafetensorsModel::open_dir(shared_path("fixtures/hf/qwen2-sharded"));
  ASSERT_TRUE(sharded.is_ok()) << sharded.message();
  auto single = SafetensorsModel::open_dir(shared_path("fixtures/hf/qwen2"));
  ASSERT_TRUE(single.is_ok()) << single.message();
  const auto single_tensors = (*single)->tensors();
  const auto sharded_tensors = (*sharded)->tensors();
  ASSERT_EQ(single_tensors.size(), sharded_tensors.size());
  ASSERT_GT(single_tensors.size(), 30u);
  for (const TensorView* t : single_tensors) {
    const TensorView* s = (*sharded)->tensor(t->name);
    ASSERT_NE(s, nullptr) << t->name;
    EXPECT_EQ(s->dtype, t->dtype) << t->name;
    EXPECT_EQ(s->shape, t->shape) << t->name;
    ASSERT_EQ(s->nbytes, t->nbytes) << t->name;
    EXPECT_EQ(std::memcmp(s->data, t->data, t->nbytes), 0) << t->name;
  }
  EXPECT_EQ((*sharded)->tensor("missing.weight"), nullptr);
}

TEST(Safetensors, OpenDirErrors) {
  const auto dir = test::scratch_dir("st_dirs");
  auto empty = SafetensorsModel::open_dir(dir.string());
  ASSERT_FALSE(empty.is_ok());
  EXPECT_NE(empty.message().find("model.safetensors"), std::string::npos);

  // An index naming a shard that is not there, then one naming a tensor its shard lacks.
  const auto shard_dir = dir / "sharded";
  std::filesystem::create_directories(shard_dir);
  ASSERT_TRUE(write_safetensors((shard_dir / "a.safetensors").string(), {make_f32_tensor("x", {2}, {1, 2})}).is_ok());
  const std::string index = (shard_dir / "model.safetensors.index.json").string();
  const std::string missing_shard = R"({"weight_map": {"x": "a.safetensors", "y": "b.safetensors"}})";
  test::write_bytes(index, missing_shard.data(), missing_shard.size());
  auto no_shard = SafetensorsModel::open_dir(shard_dir.string());
  ASSERT_FALSE(no_shard.is_ok());
  EXPECT_NE(no_shard.message().find("b.safetensors"), std::string::npos) << no_shard.message();

  const std::string missing_tensor = R"({"weight_map": {"x": "a.safetensors", "z": "a.safetensors"}})";
  test::write_bytes(index, missing_tensor.data(), missing_tensor.size());
  auto no_tensor = SafetensorsModel::open_dir(shard_dir.string());
  ASSERT_FALSE(no_tensor.is_ok());
  EXPECT_NE(no_tensor.message().find("'z'"), std::string::npos) << no_tensor.message();

  const std::string escaping = R"({"weight_map": {"x": "../a.safetensors"}})";
  test::write_bytes(index, escaping.data(), escaping.size());
  EXPECT_FALSE(SafetensorsModel::open_dir(shard_dir.string()).is_ok());
  test::write_bytes(index, "{not json", 9);
  EXPECT_FALSE(SafetensorsModel::open_dir(shard_dir.string()).is_ok());

  const std::string good = R"({"metadata": {}, "weight_map": {"x": "a.safetensors"}})";
  test::write_bytes(index, good.data(), good.size());
  auto ok = SafetensorsModel::open_dir(shard_dir.string());
  ASSERT_TRUE(ok.is_ok()) << ok.message();
  EXPECT_EQ((*ok)->tensor("x")->shape, (std::vector<int64_t>{2}));
}

TEST(Safetensors, WriterRoundTrip) {
  const auto dir = test::scratch_dir("st_write");
  std::vector<float> values(6);
  for (size_t k = 0; k < values.size(); ++k) values[k] = float(k) - 2.5f;
  OwnedTensor bf16;
  bf16.name = "h";
  bf16.dtype = DType::BF16;
  bf16.shape = {3};
  for (float f : {1.0f, -0.5f, 3.0f}) {
    const uint16_t b = f32_to_bf16(f);
    bf16.bytes.push_back(uint8_t(b));
    bf16.bytes.push_back(uint8_t(b >> 8));
  }
  const std::vector<OwnedTensor> tensors = {make_f32_tensor("b.weight", {2, 3}, values),
                                            make_i32_tensor("a.ids", {4}, {7, -1, 0, 511}), bf16,
                                            make_f32_tensor("empty", {0, 3}, {})};
  const std::string path = (dir / "out.safetensors").string();
  Status written = write_safetensors(path, tensors, {{"format", "pt"}});
  ASSERT_TRUE(written.is_ok()) << written.message();
  EXPECT_FALSE(arbiter::test::temp_file_left_beside(path));
  // The header length is a multiple of 8, so the data that follows is 8-byte aligned.
  const auto raw = test::read_bytes(path);
  uint64_t header_len = 0;
  std::memcpy(&header_len, raw.data(), 8);
  EXPECT_EQ(header_len % 8, 0u);

  auto file = open_safetensors_ok(path);
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  ASSERT_EQ(file->tensors().size(), 4u);
  EXPECT_EQ(file->tensors()[0].name, "b.weight");  // storage order is the order given
  EXPECT_EQ(file->tensors()[1].name, "a.ids");
  const TensorView* w = file->tensor("b.weight");
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(w->data, values.data(), 24), 0);
  const TensorView* ids = file->tensor("a.ids");
  EXPECT_EQ(ids->dtype, DType::I32);
  EXPECT_EQ(static_cast<const int32_t*>(ids->data)[3], 511);
  EXPECT_EQ(file->tensor("h")->dtype, DType::BF16);
  EXPECT_EQ(bf16_to_f32(static_cast<const uint16_t*>(file->tensor("h")->data)[1]), -0.5f);
  EXPECT_EQ(file->tensor("empty")->nbytes, 0u);

  // Inconsistent input is refused and leaves nothing behind.
  const std::string bad_path = (dir / "bad.safetensors").string();
  Status wrong_size = write_safetensors(bad_path, {make_f32_tensor("w", {2, 2}, {1, 2, 3})});
  ASSERT_FALSE(wrong_size.is_ok());
  EXPECT_NE(wrong_size.message().find("'w'"), std::string::npos);
  OwnedTensor quant;
  quant.name = "q";
  quant.dtype = DType::Q8_0;
  quant.shape = {32};
  quant.bytes.resize(34);
  EXPECT_FALSE(write_safetensors(bad_path, {quant}).is_ok());
  EXPECT_FALSE(write_safetensors(bad_path, {make_f32_tensor("d", {1}, {1}), make_f32_tensor("d", {1}, {2})}).is_ok());
  EXPECT_FALSE(write_safetensors(bad_path, {make_f32_tensor("\xFF\xFE", {1}, {1})}).is_ok());  // not UTF-8
  EXPECT_FALSE(std::filesystem::exists(bad_path));
  EXPECT_FALSE(arbiter::test::temp_file_left_beside(bad_path));
}

// A header and data built by hand, so the error cases below do not depend on our writer.
std::vector<uint8_t> image(const std::string& header, size_t data_bytes, uint64_t declared_len = UINT64_MAX) {
  const uint64_t len = declared_len == UINT64_MAX ? header.size() : declared_len;
  std::vector<uint8_t> out(8 + header.size() + data_bytes, 0);
  std::memcpy(out.data(), &len, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  return out;
}

void expect_error(const std::vector<uint8_t>& bytes, const std::vector<std::string>& needles) {
  auto result = parse_safetensors(bytes.data(), bytes.size(), "crafted.safetensors", nullptr);
  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(result.message().find("crafted.safetensors"), std::string::npos) << result.message();
  for (const std::string& needle : needles) {
    EXPECT_NE(result.message().find(needle), std::string::npos) << "'" << needle << "' not in: " << result.message();
  }
}

TEST(Safetensors, CorruptHeaders) {
  const std::string ok = R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}})";
  auto valid = image(ok, 16);
  ASSERT_TRUE(parse_safetensors(valid.data(), valid.size(), "crafted.safetensors", nullptr).is_ok());

  expect_error({1, 2, 3}, {"too small"});
  expect_error(image(ok, 16, 1000), {"header length 1000"});
  expect_error(image(ok, 16, uint64_t(1) << 63), {"header length"});
  expect_error(image(R"({"w": {"dtype": "F32", )", 16), {"not valid JSON"});
  expect_error(image("[1, 2]", 0), {"not a JSON object"});
  expect_error(image(R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}})", 8),
               {"'w'", "outside the data section"});
  expect_error(image(R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [16, 0]}})", 16), {"'w'"});
  expect_error(image(R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 16]}})", 16),
               {"'w'", "needs 24 bytes"});
  expect_error(image(R"({"w": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}})", 2), {"'w'", "BOOL"});
  expect_error(image(R"({"w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}})", 2),
               {"'w'", "F8_E4M3"});
  expect_error(image(R"({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", 8), {"'w'", "shape"});
  expect_error(image(R"({"w": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}})", 8), {"'w'", "shape"});
  expect_error(image(R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}})", 8),
               {"'w'", "overflows"});
  expect_error(image(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0]}})", 8), {"'w'", "data_offsets"});
  expect_error(image(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}})", 8), {"'w'"});
  expect_error(image(R"({"w": {"shape": [2], "data_offsets": [0, 8]}})", 8), {"'w'", "dtype"});
  expect_error(image(R"({"w": {"dtype": "F32", "data_offsets": [0, 8]}})", 8), {"'w'", "shape"});
  expect_error(image(R"({"w": 3})", 8), {"'w'"});
  expect_error(image(R"({"__metadata__": {"a": 1}})", 0), {"__metadata__"});
  expect_error(image(R"({"__metadata__": [1]})", 0), {"__metadata__"});

  // Deeply nested JSON must not exhaust the stack while parsing or freeing it.
  std::string deep = R"({"w": )";
  deep.append(100000, '[').append(100000, ']').append("}");
  expect_error(image(deep, 0), {"'w'"});

  // The tensors fill the data section one after the other, as the format's own reader requires:
  // overlapping ones, a gap, or bytes no tensor describes are refused, naming the tensor; an empty header
  // is a valid file.
  expect_error(image(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                         "b": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]}})", 8), {"they overlap"});
  expect_error(image(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                         "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})", 12), {"'b'", "a gap"});
  expect_error(image(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 8), {"does not describe"});
  auto empty = image("{}", 0);
  auto empty_result = parse_safetensors(empty.data(), empty.size(), "e", nullptr);
  ASSERT_TRUE(empty_result.is_ok());
  EXPECT_TRUE((*empty_result)->tensors().empty());
}

// A real file cut short anywhere is an error; damaged header bytes give an error or a valid file.
TEST(Safetensors, TruncatedAndFlippedRealFile) {
  const std::vector<uint8_t> bytes = test::read_bytes(shared_path("fixtures/hf/qwen2/ref.safetensors"));
  auto intact = parse_safetensors(bytes.data(), bytes.size(), "ref", nullptr);
  ASSERT_TRUE(intact.is_ok()) << intact.message();
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  for (size_t n = 0; n < bytes.size(); n += (n < header_len + 16 ? 1 : 1999)) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + long(n));
    ASSERT_FALSE(parse_safetensors(prefix.data(), prefix.size(), "cut", nullptr).is_ok()) << "length " << n;
  }
  const auto dir = test::scratch_dir("st_cut");
  test::write_bytes((dir / "cut.safetensors").string(), bytes.data(), bytes.size() - 1);
  auto cut = SafetensorsFile::open((dir / "cut.safetensors").string());
  ASSERT_FALSE(cut.is_ok());
  EXPECT_NE(cut.message().find("cut.safetensors"), std::string::npos);

  std::mt19937 rng(99);
  size_t valid = 0;
  std::vector<uint8_t> damaged = bytes;
  for (int round = 0; round < 3000; ++round) {
    // Only the header changes, so restoring it from the intact bytes starts each round afresh.
    std::copy(bytes.begin(), bytes.begin() + long(8 + header_len), damaged.begin());
    const int edits = 1 + int(rng() % 3);
    for (int e = 0; e < edits; ++e) damaged[8 + rng() % header_len] = uint8_t(rng());
    auto result = parse_safetensors(damaged.data(), damaged.size(), "flip", nullptr);
    if (!result.is_ok()) continue;
    ++valid;
    for (const TensorView& t : (*result)->tensors()) {
      const auto* p = static_cast<const uint8_t*>(t.data);
      ASSERT_GE(p, damaged.data() + 8 + header_len);
      ASSERT_LE(p + t.nbytes, damaged.data() + damaged.size());
    }
  }
  EXPECT_GT(valid, 0u);
}

TEST(Safetensors, DtypeNames) {
  for (const char* name : {"F32", "F16", "BF16", "I32", "I64", "F64", "I8"}) {
    auto dtype = safetensors_dtype(name);
    ASSERT_TRUE(dtype.is_ok()) << name;
    EXPECT_STREQ(safetensors_dtype_name(*dtype), name);
  }
  EXPECT_FALSE(safetensors_dtype("U8").is_ok());
  EXPECT_FALSE(safetensors_dtype("f32").is_ok());  // the format spells dtypes in capitals
  EXPECT_EQ(safetensors_dtype_name(DType::Q8_0), nullptr);
}

// A header past the format's 100 MB limit (row ids in metadata, at millions of rows) would make a file
// no reader accepts: it is refused when written, and nothing is left at the path.
TEST(Safetensors, AHeaderPastTheLimitIsNotWritten) {
  const std::string path = (arbiter::test::scratch_root() / "too-long-header.safetensors").string();
  std::map<std::string, std::string> meta{{"ids", std::string(kSafetensorsMaxHeaderBytes, 'x')}};
  const Status written = write_safetensors(path, {make_f32_tensor("features", {1}, {1.0f})}, meta);
  ASSERT_FALSE(written.is_ok());
  EXPECT_NE(written.message().find(path), std::string::npos) << written.message();
  EXPECT_NE(written.message().find("more than the format's limit of 100000000"), std::string::npos) << written.message();
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(arbiter::test::temp_file_left_beside(path));
}

}  // namespace
}  // namespace arbiter
