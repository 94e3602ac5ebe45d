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
    bool always_an_error;  // false: a field some configs ignore (model_type beside known architectures,
                           // id2label of a causal LM, torch_dtype), which may then read as absent
  };
  const Change changes[] = {
      {"model_type", 512, false},
      {"architectures", nlohmann::json::array({7}), true},
      {"architectures", "LlamaForCausalLM", true},
      {"id2label", {{"0", 5}}, false},
      {"id2label", "LABEL_0", true},
      {"rope_scaling", "linear", true},
      {"rope_parameters", nlohmann::json::array({1, 2}), true},
      {"sliding_window", "eight", true},
      {"hidden_act", 3, true},
      {"layer_types", "sliding_attention", true},
      {"torch_dtype", 16, false},
      {"hidden_size", 64.5, true},
      {"rms_norm_eps", "tiny", true},
  };
  for (const char* base : {"llama-seqcls5", "gemma2", "qwen2"}) {
    for (const Change& change : changes) {
      nlohmann::json config = fixture_config(base);
      config[change.field] = change.value;
      // With an unknown architecture too, so that the fallback to model_type is reached.
      for (bool unknown_architecture : {false, true}) {
        if (unknown_architecture && std::string(change.field) != "architectures")
          config["architectures"] = nlohmann::json::array({"FalconForCausalLM"});
        auto c = parse_hf_config(config.dump(), "dir/config.json");
        const std::string what = std::string(base) + " " + change.field + "=" + change.value.dump();
        if (change.always_an_error) {
          EXPECT_FALSE(c.is_ok()) << what;
        }
        if (!c.is_ok()) {
          EXPECT_NE(c.message().find("dir/config.json"), std::string::npos) << what << ": " << c.message();
        }
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

// Values that would run and give every logit NaN or exactly 0 (a zero rope factor, an epsilon of 1e308),
// rope scaling that divides by zero, a layer kind that is not served, a context of no length: errors
// naming the field, not a silent wrong answer.
TEST(HfConfig, ValuesThatWouldRunWronglyAreRefusedByName) {
  const struct {
    const char* field;
    nlohmann::json value;
    const char* message;
  } cases[] = {
      {"rope_scaling", {{"rope_type", "linear"}, {"factor", 0.0}}, "rope scaling factor must be a finite number > 0"},
      {"rope_scaling", {{"rope_type", "linear"}, {"factor", -2.0}}, "rope scaling factor must be a finite number > 0"},
      {"rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 4.0}, {"high_freq_factor", 4.0},
                        {"original_max_position_embeddings", 8192}}, "0 < low_freq_factor < high_freq_factor"},
      {"rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                        {"original_max_position_embeddings", 0}}, "original_max_position_embeddings > 0"},
      {"rope_scaling", {{"rope_type", 3}}, "field 'rope_type' must be a string"},
      {"rms_norm_eps", 1e308, "rms_norm_eps must be a number in (0, 1)"},
      {"rms_norm_eps", 0.0, "rms_norm_eps must be a number in (0, 1)"},
      {"max_position_embeddings", 0, "max_position_embeddings must be positive"},
      {"hidden_act", 3, "field 'hidden_act' must be a string"},
      {"tie_word_embeddings", "yes", "tie_word_embeddings is \"yes\""},
  };
  for (const auto& c : cases) {
    nlohmann::json config = fixture_config("llama");
    // transformers 5 writes rope_parameters (read first); older files rope_scaling beside rope_theta.
    if (std::string(c.field) == "rope_scaling") config.erase("rope_parameters");
    config[c.field] = c.value;
    auto parsed = parse_hf_config(config.dump(), "dir/config.json");
    const std::string what = std::string(c.field) + "=" + c.value.dump();
    ASSERT_FALSE(parsed.is_ok()) << what;
    EXPECT_NE(parsed.message().find("dir/config.json"), std::string::npos) << what << ": " << parsed.message();
    EXPECT_NE(parsed.message().find(c.message), std::string::npos) << what << ": " << parsed.message();
  }
  nlohmann::json layered = fixture_config("qwen2");
  const int64_t layers = layered["num_hidden_layers"].get<int64_t>();
  layered["layer_types"] = nlohmann::json::array();
  for (int64_t i = 0; i < layers; ++i) layered["layer_types"].push_back(i == 1 ? "chunked_attention" : "full_attention");
  auto parsed = parse_hf_config(layered.dump(), "dir/config.json");
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_NE(parsed.message().find("layer_types[1] is \"chunked_attention\""), std::string::npos) << parsed.message();
}

TEST(HfConfig, QwenRewardModelClassesFixTheirHeads) {
  // Qwen2ForRewardModel has one output and Qwen2ForProcessRewardModel two (a step wrong or right), whatever
  // num_labels or id2label say; both put Linear + ReLU before the output layer.
  nlohmann::json config = fixture_config("qwen2");
  config["num_labels"] = 5;
  config["architectures"] = {"Qwen2ForRewardModel"};
  auto rm = parse_hf_config(config.dump(), "rm/config.json");
  ASSERT_TRUE(rm.is_ok()) << rm.message();
  EXPECT_TRUE(rm->is_classifier() && rm->score_mlp && !rm->process_reward);
  EXPECT_EQ(rm->num_labels, 1);
  EXPECT_TRUE(rm->label_names.empty());

  config["architectures"] = {"Qwen2ForProcessRewardModel"};
  auto prm = parse_hf_config(config.dump(), "prm/config.json");
  ASSERT_TRUE(prm.is_ok()) << prm.message();
  EXPECT_TRUE(prm->is_classifier() && prm->score_mlp && prm->process_reward);
  EXPECT_EQ(prm->num_labels, 2);
  EXPECT_EQ(prm->step_tag, "<extra_0>");

  // INF-ORM's Llama class has the same head with config.json's num_labels outputs.
  nlohmann::json llama = fixture_config("llama");
  llama["architectures"] = {"INFORMForSequenceClassification"};
  llama["num_labels"] = 1;
  auto inform = parse_hf_config(llama.dump(), "inform/config.json");
  ASSERT_TRUE(inform.is_ok()) << inform.message();
  EXPECT_TRUE(inform->arch == Architecture::kLlama && inform->score_mlp && !inform->process_reward);
  EXPECT_EQ(inform->num_labels, 1);

  // Only Qwen2 has the Qwen classes: another prefix is an unknown architecture, named in the error.
  config["architectures"] = {"LlamaForRewardModel"};
  auto other = parse_hf_config(config.dump(), "x/config.json");
  ASSERT_FALSE(other.is_ok());
  EXPECT_NE(other.message().find("'LlamaForRewardModel'"), std::string::npos) << other.message();
}

TEST(HfConfig, GatedObjectivesReadTheirSizesWithArmoRmDefaults) {
  nlohmann::json config = fixture_config("llama");
  config["architectures"] = {"LlamaForRewardModelWithGating"};
  auto armo = parse_hf_config(config.dump(), "armo/config.json");
  ASSERT_TRUE(armo.is_ok()) << armo.message();
  EXPECT_TRUE(armo->gating.enabled && armo->is_classifier());
  EXPECT_EQ(armo->num_labels, 19);
  EXPECT_EQ(armo->gating.hidden, 1024);
  EXPECT_EQ(armo->gating.layers, 3);
  EXPECT_DOUBLE_EQ(armo->gating.temperature, 10.0);
  config["gating_temperature"] = 0;
  auto bad = parse_hf_config(config.dump(), "armo/config.json");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.message().find("gating_temperature"), std::string::npos) << bad.message();
}

}  // namespace
}  // namespace arbiter
