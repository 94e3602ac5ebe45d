// Bad input gives an error that names the problem, and never leaves a file (partial or temporary) at
// the output path.
#include <fstream>
#include <limits>
#include <tuple>
#include <cstring>

#include <nlohmann/json.hpp>

#include "convert_test_util.h"
#include "../../support/temp_files.h"

namespace arbiter::convert_test {
namespace {

namespace fs = std::filesystem;

Result<ConvertReport> convert_to(const std::string& dir, const std::string& out, const std::string& type = "f32") {
  ConvertOptions options;
  options.out_path = out;
  options.type = type;
  options.progress = false;
  return convert_hf_to_gguf(dir, options);
}

void expect_no_output(const std::string& out) {
  EXPECT_FALSE(fs::exists(out)) << out;
  EXPECT_FALSE(arbiter::test::temp_file_left_beside(out)) << out << ".tmp-*";
}

TEST(ConvertErrors, MissingConfigJson) {
  const std::string dir = copy_fixture("llama", "no-config");
  fs::remove(fs::path(dir) / "config.json");
  const std::string out = scratch_dir() + "/no-config.gguf";
  auto r = convert_to(dir, out);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("config.json"), std::string::npos) << r.message();
  expect_no_output(out);
}

TEST(ConvertErrors, UnknownArchitecture) {
  const std::string dir = copy_fixture("llama", "unknown-arch");
  write_text(fs::path(dir) / "config.json",
             R"({"architectures": ["FalconForCausalLM"], "model_type": "falcon", "vocab_size": 512})");
  const std::string out = scratch_dir() + "/unknown-arch.gguf";
  auto r = convert_to(dir, out);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("FalconForCausalLM"), std::string::npos) << r.message();
  expect_no_output(out);
}

// A config that disagrees with its weights (a vocabulary larger than the embedding, whose metadata alone
// came to a hundred megabytes) is refused before anything is written.
TEST(ConvertErrors, AConfigThatDisagreesWithItsWeights) {
  for (const char* vocab : {"600", "5000000"}) {
    const std::string dir = copy_fixture("llama", std::string("vocab-") + vocab);
    const fs::path config = fs::path(dir) / "config.json";
    nlohmann::json j = nlohmann::json::parse(std::ifstream(config));
    j["vocab_size"] = std::stoll(vocab);
    write_text(config, j.dump());
    const std::string out = scratch_dir() + "/vocab-" + vocab + ".gguf";
    auto r = convert_to(dir, out);
    ASSERT_FALSE(r.is_ok()) << vocab;
    EXPECT_NE(r.message().find("tensor 'model.embed_tokens.weight' has shape [512, 64], expected [" + std::string(vocab) +
                               ", 64]"),
              std::string::npos)
        << r.message();
    expect_no_output(out);
  }
}

// Sizes no model has are refused as they are read, before anything is sized by them.
TEST(ConvertErrors, SizesNoModelHas) {
  for (const auto& [key, value, message] : {std::tuple{"num_hidden_layers", -1, "num_layers must be in 1..1024"},
                                            std::tuple{"hidden_size", 0, "hidden_size must be in 1..1048576"},
                                            std::tuple{"vocab_size", -2, "vocab_size must be in 1..2147483647"},
                                            std::tuple{"intermediate_size", 1 << 30, "intermediate_size must be in"}}) {
    const std::string dir = copy_fixture("llama", std::string("size-") + key);
    const fs::path config = fs::path(dir) / "config.json";
    nlohmann::json j = nlohmann::json::parse(std::ifstream(config));
    j[key] = value;
    write_text(config, j.dump());
    const std::string out = scratch_dir() + "/size-" + key + ".gguf";
    auto r = convert_to(dir, out);
    ASSERT_FALSE(r.is_ok()) << key;
    EXPECT_NE(r.message().find(std::string("config.json: ") + message), std::string::npos) << r.message();
    expect_no_output(out);
  }
}

TEST(ConvertErrors, MissingTensor) {
  // The llama weights rewritten without layer 1's down projection.
  const std::string dir = copy_fixture("llama", "missing-tensor");
  const fs::path weights = fs::path(dir) / "model.safetensors";
  auto source = SafetensorsFile::open(hf_fixture("llama") + "/model.safetensors");
  ASSERT_TRUE(source.is_ok()) << source.message();
  std::vector<OwnedTensor> kept;
  for (const TensorView& t : (*source)->tensors()) {
    if (t.name == "model.layers.1.mlp.down_proj.weight") continue;
    const auto* bytes = static_cast<const uint8_t*>(t.data);
    kept.push_back({t.name, t.dtype, t.shape, std::vector<uint8_t>(bytes, bytes + t.nbytes), {}});
  }
  fs::remove(weights);
  ASSERT_TRUE(write_safetensors(weights.string(), kept).is_ok());
  const std::string out = scratch_dir() + "/missing-tensor.gguf";
  auto r = convert_to(dir, out);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("missing tensor 'model.layers.1.mlp.down_proj.weight'"), std::string::npos) << r.message();
  expect_no_output(out);
}

// A NaN in the weights: a block type has no code for it, so quantizing is refused, naming the tensor; a
// float type keeps it (a broken checkpoint stays visibly broken either way).
TEST(ConvertErrors, ANonFiniteWeightIsNotQuantizedAway) {
  const std::string dir = copy_fixture("llama", "nan-weight");
  const fs::path weights = fs::path(dir) / "model.safetensors";
  auto source = SafetensorsFile::open(hf_fixture("llama") + "/model.safetensors");
  ASSERT_TRUE(source.is_ok()) << source.message();
  std::vector<OwnedTensor> tensors;
  for (const TensorView& t : (*source)->tensors()) {
    const auto* bytes = static_cast<const uint8_t*>(t.data);
    tensors.push_back({t.name, t.dtype, t.shape, std::vector<uint8_t>(bytes, bytes + t.nbytes), {}});
    if (t.name == "model.layers.1.mlp.up_proj.weight") {
      ASSERT_EQ(t.dtype, DType::F32);
      const float nan = std::numeric_limits<float>::quiet_NaN();
      std::memcpy(tensors.back().bytes.data() + 3 * t.shape[1] * sizeof(float), &nan, sizeof nan);  // row 3
    }
  }
  fs::remove(weights);
  ASSERT_TRUE(write_safetensors(weights.string(), tensors).is_ok());
  for (const char* type : {"q8_0", "q4_K_M"}) {
    const std::string out = scratch_dir() + "/nan-" + type + ".gguf";
    auto r = convert_to(dir, out, type);
    ASSERT_FALSE(r.is_ok()) << type;
    EXPECT_NE(r.message().find("tensor 'model.layers.1.mlp.up_proj.weight' row 3 holds a NaN or infinite value"),
              std::string::npos)
        << r.message();
    expect_no_output(out);
  }
  EXPECT_TRUE(convert_to(dir, scratch_dir() + "/nan-f16.gguf", "f16").is_ok());
}

// Well-formed JSON with values of the wrong type: an added token whose content is a number, a chat
// template list entry whose name is not a string. Each is an error naming the directory, not a crash.
TEST(ConvertErrors, TokenizerFilesWithWrongTypes) {
  const std::string dir = copy_fixture("qwen2", "wrong-types");
  std::ifstream in(hf_fixture("qwen2") + "/tokenizer.json");
  nlohmann::json tokenizer = nlohmann::json::parse(in);
  tokenizer["added_tokens"] = nlohmann::json::array({{{"id", 3}, {"content", 7}, {"special", true}}});
  write_text(fs::path(dir) / "tokenizer.json", tokenizer.dump());
  const std::string out = scratch_dir() + "/wrong-types.gguf";
  auto r = convert_to(dir, out);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("wrong-types: tokenizer files"), std::string::npos) << r.message();
  expect_no_output(out);

  write_text(fs::path(dir) / "tokenizer.json", nlohmann::json::parse(std::ifstream(hf_fixture("qwen2") + "/tokenizer.json")).dump());
  write_text(fs::path(dir) / "tokenizer_config.json",
             R"({"chat_template": [{"name": 5, "template": "{{ messages }}"}]})");
  r = convert_to(dir, out);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("wrong-types: tokenizer files"), std::string::npos) << r.message();
  expect_no_output(out);
}

TEST(ConvertErrors, UnwritableOutput) {
  const std::string out = scratch_dir() + "/no-such-dir/out.gguf";
  auto r = convert_to(hf_fixture("qwen2"), out);
  ASSERT_FALSE(r.is_ok());
  // The file asked for first, then the temporary one written in its place.
  EXPECT_EQ(r.message().rfind(out + " (written as " + out + ".tmp", 0), 0u) << r.message();
  expect_no_output(out);
}

TEST(ConvertErrors, UnknownOutputType) {
  const std::string out = scratch_dir() + "/bad-type.gguf";
  auto r = convert_to(hf_fixture("qwen2"), out, "iq2_xs");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("iq2_xs"), std::string::npos) << r.message();
  expect_no_output(out);
}

TEST(ConvertErrors, QuantizeRefusesToOverwriteItsInput) {
  const std::string path = converted("qwen2", "f32");
  QuantizeOptions options;
  options.progress = false;
  auto r = quantize_gguf(path, path, options);
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(fs::exists(path));
}

// An output named as one of the model's own files (its weights, however spelled) is refused before
// anything is written: the finished GGUF file would replace them.
TEST(ConvertErrors, ConvertRefusesToOverwriteTheModelsFiles) {
  auto read_text = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string dir = copy_fixture("llama", "own-files");
  const std::string before = read_text(hf_fixture("llama") + "/model.safetensors");
  for (const std::string& out : {dir + "/model.safetensors", dir + "/./config.json"}) {
    auto r = convert_to(dir, out, "q8_0");
    ASSERT_FALSE(r.is_ok()) << out;
    EXPECT_NE(r.message().find("a file of the model being converted"), std::string::npos) << r.message();
    EXPECT_FALSE(arbiter::test::temp_file_left_beside(out)) << out;
  }
  EXPECT_EQ(read_text(dir + "/model.safetensors"), before);
  // A new file in the model's folder is fine.
  auto beside = convert_to(dir, dir + "/model.gguf", "q8_0");
  EXPECT_TRUE(beside.is_ok()) << beside.message();
  // Written there before, it is not the Hugging Face model's file: converted again, it is replaced.
  auto again = convert_to(dir, dir + "/model.gguf", "q8_0");
  EXPECT_TRUE(again.is_ok()) << again.message();
}

TEST(ConvertErrors, QuantizeOfAMissingFile) {
  const std::string out = scratch_dir() + "/from-nothing.gguf";
  QuantizeOptions options;
  options.progress = false;
  auto r = quantize_gguf(scratch_dir() + "/nothing.gguf", out, options);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.message().find("nothing.gguf"), std::string::npos) << r.message();
  expect_no_output(out);
}

}  // namespace
}  // namespace arbiter::convert_test
