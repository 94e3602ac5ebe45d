// A checkpoint arbiter cannot read as the model it claims to be is refused or flagged, never run as if it
// were: integer-typed weights (a pre-quantized checkpoint's) and a quantization_config are errors naming
// the tensor or the file; tensors no role reads are named in a warning.
#include <nlohmann/json.hpp>

#include "convert_test_util.h"
#include "../../support/cli_helpers.h"

namespace arbiter::convert_test {
namespace {

namespace fs = std::filesystem;

// The llama fixture's weights with `change` applied to each tensor, plus `extra` tensors, in a copy.
std::string rewritten_fixture(const std::string& as, const std::function<void(OwnedTensor&)>& change,
                              const std::vector<OwnedTensor>& extra = {}) {
  const std::string dir = copy_fixture("llama", as);
  const fs::path weights = fs::path(dir) / "model.safetensors";
  auto source = SafetensorsFile::open(hf_fixture("llama") + "/model.safetensors");
  EXPECT_TRUE(source.is_ok()) << source.message();
  std::vector<OwnedTensor> kept;
  for (const TensorView& t : (*source)->tensors()) {
    const auto* bytes = static_cast<const uint8_t*>(t.data);
    kept.push_back({t.name, t.dtype, t.shape, std::vector<uint8_t>(bytes, bytes + t.nbytes), {}});
    change(kept.back());
  }
  kept.insert(kept.end(), extra.begin(), extra.end());
  fs::remove(weights);
  EXPECT_TRUE(write_safetensors(weights.string(), kept).is_ok());
  return dir;
}

// bitsandbytes' 8-bit checkpoints keep each weight's name, as int8 values, with its scales in a `.SCB`
// tensor beside it: read as numbers they are weights 127 times too large, and no error.
TEST(CheckpointLoad, IntegerWeightsAreRefusedNamingTheTensor) {
  const std::string q_proj = "model.layers.0.self_attn.q_proj.weight";
  const std::string dir = rewritten_fixture("int8-weights", [&](OwnedTensor& t) {
    if (t.name != q_proj) return;
    const int64_t n = t.shape[0] * t.shape[1];
    t.dtype = DType::I8;
    t.bytes.assign(size_t(n), uint8_t(3));
  });
  const auto loaded = load_model(dir);
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_NE(loaded.message().find("tensor '" + q_proj + "' is stored as I8 (integers)"), std::string::npos)
      << loaded.message();
  EXPECT_NE(loaded.message().find("pre-quantized"), std::string::npos) << loaded.message();
}

// A quantization_config says so of the whole checkpoint, whatever its tensors' names: refused by the
// loader and by convert, naming the method.
TEST(CheckpointLoad, APreQuantizedConfigIsRefused) {
  const std::string dir = copy_fixture("llama", "quantization-config");
  const fs::path config = fs::path(dir) / "config.json";
  nlohmann::json j = nlohmann::json::parse(std::ifstream(config));
  j["quantization_config"] = {{"quant_method", "bitsandbytes"}, {"load_in_8bit", true}};
  write_text(config, j.dump());
  const auto loaded = load_model(dir);
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_NE(loaded.message().find("config.json: the checkpoint is pre-quantized (quantization_config, quant_method "
                                  "'bitsandbytes')"),
            std::string::npos)
      << loaded.message();
  ConvertOptions options;
  options.out_path = scratch_dir() + "/quantization-config.gguf";
  options.progress = false;
  const auto converted = convert_hf_to_gguf(dir, options);
  ASSERT_FALSE(converted.is_ok());
  EXPECT_NE(converted.message().find("pre-quantized"), std::string::npos) << converted.message();
  EXPECT_FALSE(fs::exists(options.out_path));
}

// A tensor no role reads (an extra bias a variant of the architecture has) is named in a warning, as
// transformers warns of unused weights; the fixture itself loads without one.
TEST(CheckpointLoad, TensorsTheModelDoesNotReadAreNamed) {
  const std::string extra = "model.layers.0.self_attn.o_proj.bias";
  std::vector<float> zeros(64, 0.0f);
  const std::string dir = rewritten_fixture("extra-tensor", [](OwnedTensor&) {}, {make_f32_tensor(extra, {64}, zeros)});
  const auto warned = arbiter::testing::run_arbiter("info -m " + dir);
  ASSERT_EQ(warned.exit_code, 0) << warned.out;
  EXPECT_NE(warned.out.find("1 tensor is not read by the llama model ('" + extra + "')"), std::string::npos) << warned.out;
  const auto plain = arbiter::testing::run_arbiter("info -m " + hf_fixture("llama"));
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  EXPECT_EQ(plain.out.find("not read by"), std::string::npos) << plain.out;
}

}  // namespace
}  // namespace arbiter::convert_test
