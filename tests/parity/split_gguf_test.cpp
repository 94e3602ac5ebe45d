// Models split across GGUF files as llama.cpp's gguf-split writes them (NAME-00001-of-00003.gguf, ...):
// a fixture's GGUF cut into files opens from its first file and matches transformers' float64 reference
// as the whole file does; a split that cannot be put together is an error naming the file.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "../support/reference_parity.h"
#include "../support/scratch_root.h"
#include "../support/shared_dir.h"
#include "../support/cli_helpers.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "model/model_tokenizer.h"
#include "text/tokenizer.h"
#include "runtime/backend.h"
#include "../support/temp_files.h"

namespace arbiter {
namespace {

using arbiter::testing::kShared;
using namespace arbiter::testing;

GgufValue u16(int64_t v) {
  GgufValue value;
  value.type = GgufType::UINT16;
  value.u = uint64_t(v);
  return value;
}

// The split keys gguf-split writes into every file: u16 index and count, i32 total tensor count.
void set_split_keys(GgufWriter& writer, int64_t index, int64_t count, int64_t tensors) {
  writer.set("split.no", u16(index));
  writer.set("split.count", u16(count));
  writer.set("split.tensors.count", GgufValue::from_i32(int32_t(tensors)));
}

std::string split_name(const std::string& prefix, int64_t index, int64_t count) {
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, "-%05lld-of-%05lld.gguf", (long long)(index + 1), (long long)count);
  return prefix + suffix;
}

// Writes `source` as `count` files named PREFIX-0000i-of-0000N.gguf, as gguf-split does: the metadata in
// the first file only, the tensors in runs of about equal number (none in the first file when
// `first_without_tensors`, gguf-split's --no-tensor-first-split). Returns the files' paths.
std::vector<std::string> write_split(const GgufFile& source, const std::string& prefix, int64_t count,
                                     bool first_without_tensors = false) {
  const std::vector<TensorView>& tensors = source.tensors();
  const int64_t holders = first_without_tensors ? count - 1 : count;
  const size_t per_file = (tensors.size() + size_t(holders) - 1) / size_t(holders);
  std::vector<std::string> paths;
  size_t next = 0;
  for (int64_t i = 0; i < count; ++i) {
    GgufWriter writer;
    if (i == 0)
      for (const auto& [key, value] : source.metadata()) writer.set(key, value);
    set_split_keys(writer, i, count, int64_t(tensors.size()));
    if (!(i == 0 && first_without_tensors)) {
      for (size_t taken = 0; taken < per_file && next < tensors.size(); ++taken, ++next) {
        const TensorView& t = tensors[next];
        EXPECT_TRUE(writer.add_tensor(t.name, t.dtype, t.shape, t.data, t.nbytes).is_ok());
      }
    }
    paths.push_back(split_name(prefix, i, count));
    EXPECT_TRUE(writer.write(paths.back()).is_ok()) << paths.back();
  }
  return paths;
}

// The qwen2 model at `first_file` against transformers' float64 reference, f32 arithmetic, every sequence.
void expect_qwen2_reference_parity(const std::string& first_file) {
  auto model = load_model(first_file);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto ref = SafetensorsFile::open(kShared + "/fixtures/hf/qwen2/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  set_matmul_precision(MatmulPrecision::kF32);
  struct Restore {
    ~Restore() { set_matmul_precision(MatmulPrecision::kAuto); }
  } restore;
  auto backend = make_cpu_backend(*model);
  const std::vector<SequenceInput> sequences = reference_sequences(**ref);
  ASSERT_FALSE(sequences.empty());
  for (size_t s = 0; s < sequences.size(); ++s) {
    auto out = backend->forward({sequences[s]}, reference_read_options((*model)->config));
    ASSERT_TRUE(out.is_ok()) << out.message();
    for (const ComparedTensor& tensor : compared_tensors(**ref, int(s), (*out)[0], (*model)->config))
      EXPECT_LE(relative_max_error(tensor.ours, tensor.reference), 1e-5) << "seq" << s << "." << tensor.name;
  }
}

std::shared_ptr<GgufFile> open_fixture(const std::string& relative) {
  auto gguf = GgufFile::open(kShared + "/" + relative);
  EXPECT_TRUE(gguf.is_ok()) << gguf.message();
  return gguf.is_ok() ? *gguf : nullptr;
}

TEST(SplitGguf, OpensFromItsFirstFileAndMatchesTheReference) {
  const std::string fixture = "fixtures/gguf/qwen2.f32.gguf";
  const std::shared_ptr<GgufFile> whole = open_fixture(fixture);
  ASSERT_NE(whole, nullptr);
  const std::vector<std::string> paths = write_split(*whole, test::scratch_path("qwen2"), 3);

  auto joined = GgufFile::open(paths[0]);
  ASSERT_TRUE(joined.is_ok()) << joined.message();
  EXPECT_EQ((*joined)->files(), paths);
  ASSERT_EQ((*joined)->tensors().size(), whole->tensors().size());
  for (const TensorView& t : whole->tensors()) {
    const TensorView* found = (*joined)->tensor(t.name);
    ASSERT_NE(found, nullptr) << t.name;
    ASSERT_EQ(found->nbytes, t.nbytes) << t.name;
    EXPECT_EQ(std::memcmp(found->data, t.data, t.nbytes), 0) << t.name;
  }
  // The split keys describe the files, not the model: a copy written from the joined model is one file.
  for (const auto& [key, value] : (*joined)->metadata()) EXPECT_NE(key.rfind("split.", 0), 0u) << key;
  EXPECT_EQ((*joined)->metadata().size(), whole->metadata().size());
  // So does `arbiter quantize` of the split model: one file, no split keys, every tensor. `arbiter info`
  // lists the files a split model comes from.
  const std::string quantized = test::scratch_path("qwen2.q8_0.gguf");
  const RunResult quantize = run_arbiter("quantize " + paths[0] + " " + quantized + " --type q8_0");
  ASSERT_EQ(quantize.exit_code, 0) << quantize.out;
  auto one = GgufFile::open(quantized);
  ASSERT_TRUE(one.is_ok()) << one.message();
  EXPECT_EQ((*one)->files().size(), 1u);
  EXPECT_EQ((*one)->find("split.count"), nullptr);
  EXPECT_EQ((*one)->tensors().size(), whole->tensors().size());
  const RunResult info = run_arbiter("info -m " + paths[0] + " --json");
  ASSERT_EQ(info.exit_code, 0) << info.out;
  EXPECT_EQ(nlohmann::json::parse(info.out.substr(info.out.find('{'))).at("files"), nlohmann::json(paths)) << info.out;

  // Run from the split files, the model agrees with transformers' float64 reference as the whole file does.
  expect_qwen2_reference_parity(paths[0]);
}

TEST(SplitGguf, AFirstFileWithoutTensorsHoldsTheMetadataAlone) {
  const std::shared_ptr<GgufFile> whole = open_fixture("fixtures/gguf/llama.q8_0.gguf");
  ASSERT_NE(whole, nullptr);
  const std::vector<std::string> paths = write_split(*whole, test::scratch_path("llama"), 2, true);
  auto first = GgufFile::open(paths[0]);
  ASSERT_TRUE(first.is_ok()) << first.message();
  EXPECT_EQ((*first)->tensors().size(), whole->tensors().size());
  EXPECT_EQ((*first)->get_string("general.architecture"), whole->get_string("general.architecture"));
  auto model = load_model(paths[0]);
  EXPECT_TRUE(model.is_ok()) << model.message();
}

// A split the reader cannot put together: the error names the file at fault and what is wrong with it.
TEST(SplitGguf, FilesThatDoNotFitTogetherAreErrorsNamingThem) {
  const std::shared_ptr<GgufFile> whole = open_fixture("fixtures/gguf/llama.f32.gguf");
  ASSERT_NE(whole, nullptr);
  auto expect_error = [](const std::string& path, const std::vector<std::string>& parts) {
    auto opened = GgufFile::open(path);
    ASSERT_FALSE(opened.is_ok()) << path;
    for (const std::string& part : parts) EXPECT_NE(opened.message().find(part), std::string::npos) << opened.message();
  };

  {  // a later file is missing
    const std::vector<std::string> paths = write_split(*whole, test::scratch_path("missing"), 3);
    std::filesystem::remove(paths[2]);
    expect_error(paths[0], {paths[0], "file 3 of the 3", "missing", paths[2]});
  }
  {  // a later file given as the model
    const std::vector<std::string> paths = write_split(*whole, test::scratch_path("second"), 3);
    expect_error(paths[1], {paths[1], "file 2 of a model split in 3", "open the first", paths[0]});
  }
  {  // a file whose split keys disagree with its name
    const std::vector<std::string> paths = write_split(*whole, test::scratch_path("renamed"), 2);
    const std::vector<std::string> other = write_split(*whole, test::scratch_path("other"), 3);
    std::filesystem::copy_file(other[2], paths[1], std::filesystem::copy_options::overwrite_existing);
    expect_error(paths[0], {paths[1], "says it is file 3 of 3", "file 2 of 2"});
  }
  {  // a tensor in two files
    const std::vector<std::string> paths = write_split(*whole, test::scratch_path("twice"), 2);
    GgufWriter second;
    set_split_keys(second, 1, 2, int64_t(whole->tensors().size()));
    const TensorView& t = whole->tensors().front();
    ASSERT_TRUE(second.add_tensor(t.name, t.dtype, t.shape, t.data, t.nbytes).is_ok());
    ASSERT_TRUE(second.write(paths[1]).is_ok());
    expect_error(paths[0], {paths[1], "tensor '" + t.name + "'", "also in an earlier file"});
  }
  {  // fewer tensors than the split says
    const std::vector<std::string> paths = write_split(*whole, test::scratch_path("fewer"), 2);
    GgufWriter second;
    set_split_keys(second, 1, 2, int64_t(whole->tensors().size()));
    ASSERT_TRUE(second.write(paths[1]).is_ok());
    expect_error(paths[0], {paths[0], "split.tensors.count", "hold"});
  }
  {  // a split file renamed so that its other files cannot be found
    const std::vector<std::string> paths = write_split(*whole, test::scratch_path("plain"), 2);
    const std::string renamed = test::scratch_path("model.gguf");
    std::filesystem::copy_file(paths[0], renamed);
    expect_error(renamed, {renamed, "does not end in '-00001-of-00002.gguf'"});
  }
}

// The GGUF type code that follows `key` in a file's header (GGUF: the key's bytes, then a u32 type).
int64_t raw_key_type(const std::string& path, const std::string& key) {
  const std::string bytes = read_text(path);
  const size_t at = bytes.find(key);
  if (at == std::string::npos || at + key.size() + 4 > bytes.size()) return -1;
  uint32_t type = 0;
  std::memcpy(&type, bytes.data() + at + key.size(), 4);
  return type;
}

// The tensor bytes (with padding to 32) a file holds after its header, for a split file without metadata.
std::vector<std::string> split_files_named(const std::string& prefix) {
  std::vector<std::string> files;
  for (int64_t count = 1; count < 100 && files.empty(); ++count)
    if (std::filesystem::exists(split_name(prefix, 0, count)))
      for (int64_t i = 0; i < count; ++i) files.push_back(split_name(prefix, i, count));
  return files;
}

// `quantize` and `convert --split-max-size` write a model as gguf-split does: files of at most that much
// tensor data, the metadata in the first, the split keys in each with gguf-split's types; the files open as
// the whole model, tensor for tensor, and run to transformers' reference.
TEST(SplitGguf, QuantizeAndConvertCutTheirOutputIntoFiles) {
  const std::string input = kShared + "/fixtures/gguf/qwen2.f32.gguf";
  const std::string whole_path = test::scratch_path("whole.q8_0.gguf");
  ASSERT_EQ(run_arbiter("quantize " + input + " " + whole_path + " --type q8_0").exit_code, 0);
  auto whole = GgufFile::open(whole_path);
  ASSERT_TRUE(whole.is_ok()) << whole.message();
  uint64_t total = 0;
  for (const TensorView& t : (*whole)->tensors()) total += (t.nbytes + 31) / 32 * 32;
  const uint64_t max_bytes = total / 3 + 1;

  const std::string prefix = test::scratch_path("cut.q8_0");
  const RunResult cut = run_arbiter("quantize " + input + " " + prefix + ".gguf --type q8_0 --split-max-size " +
                                    std::to_string(max_bytes));
  ASSERT_EQ(cut.exit_code, 0) << cut.out;
  const std::vector<std::string> files = split_files_named(prefix);
  ASSERT_GE(files.size(), 3u) << cut.out;
  EXPECT_NE(cut.out.find("(" + std::to_string(files.size()) + " files)"), std::string::npos) << cut.out;
  EXPECT_FALSE(std::filesystem::exists(prefix + ".gguf"));
  for (const std::string& file : files) EXPECT_FALSE(arbiter::test::temp_file_left_beside(file)) << file;

  auto joined = GgufFile::open(files[0]);
  ASSERT_TRUE(joined.is_ok()) << joined.message();
  EXPECT_EQ((*joined)->files(), files);
  ASSERT_EQ((*joined)->tensors().size(), (*whole)->tensors().size());
  for (const TensorView& t : (*whole)->tensors()) {
    const TensorView* found = (*joined)->tensor(t.name);
    ASSERT_NE(found, nullptr) << t.name;
    ASSERT_EQ(found->nbytes, t.nbytes) << t.name;
    EXPECT_EQ(std::memcmp(found->data, t.data, t.nbytes), 0) << t.name;
  }
  ASSERT_EQ((*joined)->metadata().size(), (*whole)->metadata().size());
  for (size_t k = 0; k < (*whole)->metadata().size(); ++k)
    EXPECT_EQ((*joined)->metadata()[k].first, (*whole)->metadata()[k].first);
  // Later files hold the split keys and their tensors only: at most max_bytes of data plus a small header.
  for (size_t i = 1; i < files.size(); ++i) {
    EXPECT_LE(std::filesystem::file_size(files[i]), max_bytes + 4096) << files[i];
    EXPECT_EQ(read_text(files[i]).find("general.architecture"), std::string::npos) << files[i];
  }
  // gguf-split's types: u16 (2) split.no and split.count, i32 (5) split.tensors.count.
  for (const std::string& file : {files.front(), files.back()}) {
    EXPECT_EQ(raw_key_type(file, "split.no"), 2) << file;
    EXPECT_EQ(raw_key_type(file, "split.count"), 2) << file;
    EXPECT_EQ(raw_key_type(file, "split.tensors.count"), 5) << file;
  }

  // convert from the Hugging Face fixture, cut in two or more, runs to the float64 reference.
  const std::string converted = test::scratch_path("converted.f32");
  const RunResult convert = run_arbiter("convert " + kShared + "/fixtures/hf/qwen2 -o " + converted +
                                        ".gguf --type f32 --split-max-size " + std::to_string(total / 2));
  ASSERT_EQ(convert.exit_code, 0) << convert.out;
  const std::vector<std::string> converted_files = split_files_named(converted);
  ASSERT_GE(converted_files.size(), 2u) << convert.out;
  expect_qwen2_reference_parity(converted_files[0]);

  // Sizes and names that cannot work.
  auto expect_error = [](const std::string& args, const std::string& part) {
    const RunResult r = run_arbiter(args);
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_NE(r.out.find(part), std::string::npos) << r.out;
  };
  expect_error("quantize " + input + " " + prefix + "2.gguf --split-max-size 5X", "unknown unit 'X'");
  expect_error("quantize " + input + " " + prefix + "2.gguf --split-max-size -1G", "is not a size");
  expect_error("quantize " + input + " " + prefix + ".bin --split-max-size " + std::to_string(max_bytes),
               "needs an output name ending in .gguf");
  expect_error("quantize " + input + " " + prefix + "-00001-of-00002.gguf --split-max-size " + std::to_string(max_bytes),
               "name the whole model (NAME.gguf)");
  // Requantizing a split model into names of its own files would write over them.
  expect_error("quantize " + files[0] + " " + prefix + ".gguf --type q8_0 --split-max-size " + std::to_string(max_bytes),
               "the output must not overwrite the input");
  // However the output is spelled (./NAME, a relative path against an absolute input).
  const std::filesystem::path in_dir = std::filesystem::path(prefix).parent_path();
  const std::string respelled = (in_dir / "." / std::filesystem::path(prefix).filename()).string() + ".gguf";
  expect_error("quantize " + files[0] + " " + respelled + " --type q8_0 --split-max-size " + std::to_string(max_bytes),
               "the output must not overwrite the input");
  const std::string relative = std::filesystem::relative(prefix + ".gguf").string();
  expect_error("quantize " + files[0] + " " + relative + " --type q8_0 --split-max-size " + std::to_string(max_bytes),
               "the output must not overwrite the input");
}

// A directory without config.json names the GGUF model in it (a model's GGUF repository as downloaded);
// a split model counts once. Several models, or none, are errors that say so.
TEST(SplitGguf, ADirectoryHoldingOneGgufModelNamesIt) {
  const std::shared_ptr<GgufFile> whole = open_fixture("fixtures/gguf/qwen2.f32.gguf");
  ASSERT_NE(whole, nullptr);
  const std::string dir = test::scratch_path("repo");
  std::filesystem::create_directories(dir);
  const std::vector<std::string> paths = write_split(*whole, dir + "/qwen2-f32", 3);

  auto model = load_model(dir);
  ASSERT_TRUE(model.is_ok()) << model.message();
  EXPECT_EQ((*model)->path, paths[0]);
  EXPECT_EQ((*model)->gguf->files(), paths);
  auto tokenizer = load_tokenizer_at(dir);
  ASSERT_TRUE(tokenizer.is_ok()) << tokenizer.message();
  auto text_assets = describe_text_assets_at(dir);
  ASSERT_TRUE(text_assets.is_ok()) << text_assets.message();
  EXPECT_EQ(text_assets->has_chat_template, whole->find("tokenizer.chat_template") != nullptr);

  std::filesystem::copy_file(kShared + "/fixtures/gguf/qwen2.q8_0.gguf", dir + "/qwen2.q8_0.gguf");
  auto two = load_model(dir);
  ASSERT_FALSE(two.is_ok());
  for (const char* part : {"holds 2 GGUF models", "qwen2-f32-00001-of-00003.gguf", "qwen2.q8_0.gguf"})
    EXPECT_NE(two.message().find(part), std::string::npos) << two.message();

  const std::string empty = test::scratch_path("empty");
  std::filesystem::create_directories(empty);
  auto none = load_model(empty);
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.message().find(empty + ": not a model: no config.json"), std::string::npos) << none.message();
}

}  // namespace
}  // namespace arbiter
