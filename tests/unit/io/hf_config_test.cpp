// config.json as a model directory holds it: a field of the wrong type, anywhere, is an error naming
// the file, never an exception out of the JSON library (one such was a numeric model_type beside an
// unknown architecture).
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/hf_config.h"

namespace arbiter {
namespace {

nlohmann::json fixture_config(const std::string& name) {
  std::ifstream in(std::string(ARBITER_SHARED_DIR) + "/fixtures/hf/" + name + "/config.json");
  return nlohmann::json::parse(in);
}

TEST(HfConfig, FixtureConfigsParse) {
  for (const char* name : {"llama", "llama-seqcls5", "mistral", "qwen2", "qwen3", "gemma2"}) {
    auto c = parse_hf_config(fixture_config(name).dump(), name);
    EXPECT_TRUE(c.is_ok()) << name << ": " << c.message();
  }
}

TEST(HfConfig, WrongTypesAreErrorsNamingTheFile) {
  struct Change {
    const char* field;
    nlohmann::json value;
  };
  const Change changes[] = {
      {"model_type", 512},
      {"architectures", nlohmann::json::array({7})},
      {"id2label", {{"0", 5}}},
      {"rope_scaling", "linear"},
      {"rope_parameters", nlohmann::json::array({1, 2})},
      {"sliding_window", "eight"},
      {"hidden_act", 3},
      {"layer_types", "sliding_attention"},
      {"torch_dtype", 16},
      {"hidden_size", 64.5},
      {"rms_norm_eps", "tiny"},
  };
  for (const char* base : {"llama-seqcls5", "gemma2", "qwen2"}) {
    for (const Change& change : changes) {
      nlohmann::json config = fixture_config(base);
      config[change.field] = change.value;
      // With an unknown architecture too, so that the fallback to model_type is reached.
      for (bool unknown_architecture : {false, true}) {
        if (unknown_architecture) config["architectures"] = nlohmann::json::array({"FalconForCausalLM"});
        auto c = parse_hf_config(config.dump(), "dir/config.json");
        if (c.is_ok()) continue;  // a value that reads as the default (an ignored field) is fine
        EXPECT_NE(c.message().find("dir/config.json"), std::string::npos)
            << base << " " << change.field << ": " << c.message();
      }
    }
  }
  // The case that threw: a numeric model_type with an architecture that is not supported.
  nlohmann::json config = fixture_config("llama");
  config["architectures"] = nlohmann::json::array({"LlamaForSequenceBlassification"});
  config["model_type"] = 512;
  auto c = parse_hf_config(config.dump(), "dir/config.json");
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.message().find("dir/config.json"), std::string::npos) << c.message();
}

}  // namespace
}  // namespace arbiter
