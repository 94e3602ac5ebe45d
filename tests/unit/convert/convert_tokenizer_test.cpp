// A converted GGUF carries its tokenizer and chat template: arbiter loads both from the file alone, and
// the tokenizer encodes every reference text to the same ids as the Hugging Face directory's.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../../support/stories_golden.h"
#include "convert_test_util.h"
#include "io/gguf.h"
#include "model/model_tokenizer.h"
#include "text/pretokenize.h"
#include "text/tokenizer.h"

namespace arbiter::convert_test {
namespace {

std::vector<std::string> reference_texts() {
  std::ifstream in(kShared + "/fixtures/tokenizers/tiny-spm/reference.json");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  std::vector<std::string> texts;
  if (j.is_object() && j.contains("texts"))
    for (const auto& t : j["texts"]) texts.push_back(t.get<std::string>());
  texts.push_back("<|im_start|>user\nWhich answer is better?<|im_end|>\n<|im_start|>assistant\n");
  return texts;
}

class ConvertedTokenizer : public ::testing::TestWithParam<std::string> {};

TEST_P(ConvertedTokenizer, EncodesAsTheDirectory) {
  auto hf = load_model(hf_fixture(GetParam()));
  ASSERT_TRUE(hf.is_ok()) << hf.message();
  auto gguf = load_model(converted(GetParam(), "f32"));
  ASSERT_TRUE(gguf.is_ok()) << gguf.message();
  auto hf_tok = load_model_tokenizer(**hf);
  ASSERT_TRUE(hf_tok.is_ok()) << hf_tok.message();
  auto gguf_tok = load_model_tokenizer(**gguf);
  ASSERT_TRUE(gguf_tok.is_ok()) << gguf_tok.message();
  // The GGUF vocabulary is padded to config.json's vocab_size, and its BOS id may come from config.json
  // where tokenizer_config.json has none (as the canonical converter does): neither changes an encoding.
  EXPECT_GE((*gguf_tok)->vocab_size(), (*hf_tok)->vocab_size());
  EXPECT_EQ((*gguf_tok)->eos_id(), (*hf_tok)->eos_id());
  int compared = 0;
  for (const std::string& text : reference_texts()) {
    for (bool add_special : {false, true}) {
      auto a = (*hf_tok)->encode(text, add_special, true);
      auto b = (*gguf_tok)->encode(text, add_special, true);
      ASSERT_TRUE(a.is_ok() && b.is_ok());
      EXPECT_EQ(*b, *a) << GetParam() << ": '" << text << "' add_special=" << add_special;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 2 * int(reference_texts().size()));
  const TextAssets hf_assets = describe_text_assets(**hf);
  const TextAssets gguf_assets = describe_text_assets(**gguf);
  EXPECT_EQ(gguf_assets.chat_template, hf_assets.chat_template);
  if (!hf_assets.eos_token.empty()) {
    EXPECT_EQ(gguf_assets.eos_token, hf_assets.eos_token);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ConvertedTokenizer,
                         ::testing::Values("llama", "qwen2", "qwen3", "gemma2", "llama-seqcls5"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

// Tokenizers whose pre-tokenizer GGUF names differently: Mistral's Tekken split and SmolLM's single
// digits before GPT-2's. The converter must name them so the GGUF encodes as the directory does. The
// fixture's vocabulary gains "xQ" and "12" (with their merges), which only a split that keeps "xQ" or
// "12" in one piece can form: so a reader applying another split encodes the test texts differently.
nlohmann::json qwen2_tokenizer_with(const nlohmann::json& pre_tokenizer) {
  std::ifstream in(hf_fixture("qwen2") + "/tokenizer.json");
  nlohmann::json tokenizer = nlohmann::json::parse(in);
  tokenizer["model"]["vocab"]["xQ"] = 509;
  tokenizer["model"]["vocab"]["12"] = 510;
  tokenizer["model"]["merges"].push_back({"x", "Q"});
  tokenizer["model"]["merges"].push_back({"1", "2"});
  tokenizer["pre_tokenizer"] = pre_tokenizer;
  return tokenizer;
}

nlohmann::json byte_level_after(const nlohmann::json& first_step, bool byte_level_regex) {
  return {{"type", "Sequence"},
          {"pretokenizers",
           {first_step,
            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", byte_level_regex}}}}};
}

std::string directory_with(const std::string& name, const nlohmann::json& tokenizer) {
  const std::string dir = copy_fixture("qwen2", "pre-" + name);
  write_text(std::filesystem::path(dir) / "tokenizer.json", tokenizer.dump());
  return dir;
}

std::vector<int32_t> encode_at(const std::string& path, const std::string& text) {
  auto tok = load_tokenizer_at(path);
  EXPECT_TRUE(tok.is_ok()) << tok.message();
  if (!tok.is_ok()) return {};
  auto ids = (*tok)->encode(text, false, false);
  EXPECT_TRUE(ids.is_ok()) << ids.message();
  return ids.is_ok() ? *ids : std::vector<int32_t>{};
}

TEST(ConvertedTokenizer, TekkenAndSmolLmSplitsSurviveConversion) {
  auto split = [](const char* pattern) {
    return nlohmann::json{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}};
  };
  struct Case {
    std::string gguf_name;
    nlohmann::json pre;          // the tokenizer under test
    nlohmann::json other_pre;    // the split it would be confused with
    std::string telling_text;    // encoded differently by the two
  };
  const std::vector<Case> cases = {
      // Tekken ends a word before a capital that follows a lower-case letter: "xQ" never forms.
      {"tekken", byte_level_after(split(kTekkenPattern), false), byte_level_after(split(kQwen2Pattern), false), "maxQuery"},
      // SmolLM isolates digits first: "12" never forms; GPT-2's split alone keeps "x12" as "x", "12".
      {"smollm", byte_level_after({{"type", "Digits"}, {"individual_digits", true}}, true),
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}, "x12y"},
  };
  const std::vector<std::string> texts = {"HelloWorld camelCaseWords ALLCAPS maxQuery", "prices 12345 and 3.14159 x12y",
                                          "path/to/file.txt\n  indented", "Ünïcödé ÉCOLE école 你好123"};
  for (const Case& c : cases) {
    const std::string dir = directory_with(c.gguf_name, qwen2_tokenizer_with(c.pre));
    const std::string other = directory_with(c.gguf_name + "-other", qwen2_tokenizer_with(c.other_pre));
    ASSERT_NE(encode_at(dir, c.telling_text), encode_at(other, c.telling_text)) << c.gguf_name;

    ConvertOptions options;
    options.out_path = dir + ".gguf";
    options.type = "f32";
    options.progress = false;
    auto report = convert_hf_to_gguf(dir, options);
    ASSERT_TRUE(report.is_ok()) << report.message();
    auto file = GgufFile::open(options.out_path);
    ASSERT_TRUE(file.is_ok()) << file.message();
    EXPECT_EQ((*file)->get_string("tokenizer.ggml.pre").value_or(""), c.gguf_name);
    for (const std::string& text : texts)
      EXPECT_EQ(encode_at(options.out_path, text), encode_at(dir, text)) << c.gguf_name << ": '" << text << "'";
  }
}

std::string run_command(const std::string& command, int* status) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  *status = ::pclose(pipe);
  return output;
}

// `arbiter info` on the converted file alone finds the tokenizer and the chat template.
TEST(ConvertCli, ConvertThenInfoFindsTokenizerAndTemplate) {
  const std::string out = scratch_dir() + "/cli-qwen2.q8_0.gguf";
  int status = -1;
  const std::string log = run_command(std::string(ARBITER_BINARY) + " convert " + hf_fixture("qwen2-seqcls1") +
                                          " --out " + out + " --type q8_0 2>&1",
                                      &status);
  ASSERT_EQ(status, 0) << log;
  EXPECT_NE(log.find("wrote " + out), std::string::npos) << log;
  const std::string info = run_command(std::string(ARBITER_BINARY) + " info -m " + out + " --json", &status);
  ASSERT_EQ(status, 0) << info;
  const nlohmann::json j = nlohmann::json::parse(info, nullptr, false);
  ASSERT_TRUE(j.is_object()) << info;
  EXPECT_EQ(j.value("tokenizer", ""), "gguf:gpt2");
  EXPECT_EQ(j.value("chat_template", false), true);
  EXPECT_EQ(j.value("head", ""), "sequence-classification");
  EXPECT_EQ(j.value("num_labels", 0), 1);
}

TEST(ConvertCli, QuantizeCommandWritesMixture) {
  const std::string out = scratch_dir() + "/cli-stories.q4_K_M.gguf";
  int status = -1;
  const std::string log = run_command(std::string(ARBITER_BINARY) + " quantize " + kShared +
                                          "/models/stories260K/stories260K.gguf " + out + " --type q4_K_M 2>&1",
                                      &status);
  ASSERT_EQ(status, 0) << log;
  // stories260K has 64-wide rows: every K-quant falls back, and the report says so.
  EXPECT_NE(log.find("fallback"), std::string::npos) << log;
  auto model = load_model(out);
  ASSERT_TRUE(model.is_ok()) << model.message();
}

// iq4_xs on 64-wide rows: every IQ4_XS matrix falls back to IQ4_NL (llama.cpp's rule), the output matrix to
// Q8_0; the model still reads its own greedy continuation.
TEST(ConvertCli, QuantizeCommandWritesIq4) {
  const std::string out = scratch_dir() + "/cli-stories.iq4_xs.gguf";
  int status = -1;
  const std::string log = run_command(std::string(ARBITER_BINARY) + " quantize " + kShared +
                                          "/models/stories260K/stories260K.gguf " + out + " --type iq4_xs 2>&1",
                                      &status);
  ASSERT_EQ(status, 0) << log;
  auto gguf = GgufFile::open(out);
  ASSERT_TRUE(gguf.is_ok()) << gguf.message();
  ASSERT_NE((*gguf)->tensor("blk.0.attn_q.weight"), nullptr);
  EXPECT_EQ((*gguf)->tensor("blk.0.attn_q.weight")->dtype, DType::IQ4_NL);
  EXPECT_EQ((*gguf)->get_int("general.file_type"), 30);
  auto model = load_model(out);
  ASSERT_TRUE(model.is_ok()) << model.message();
  const std::vector<int32_t> argmax = test::stories_teacher_forced_argmax(*model, 32);
  ASSERT_EQ(argmax.size(), 32u);
  int matches = 0;
  for (size_t i = 0; i < argmax.size(); ++i) matches += argmax[i] == test::kStoriesGolden[i];
  RecordProperty("golden_argmax_matches", matches);
  EXPECT_GE(matches, 28) << "of 32";
}

// A classifier keeps config.json's pad_token_id, where transformers stops reading, even when its tokenizer
// pads with another token (qwen2-seqcls1's tokenizer pads with "<|endoftext|>", id 0; its config is set to 7).
TEST(ConvertedClassifier, KeepsTheConfigsPadToken) {
  const std::string dir = copy_fixture("qwen2-seqcls1", "qwen2-seqcls1-pad7");
  std::ifstream in(hf_fixture("qwen2-seqcls1") + "/config.json");
  nlohmann::json config = nlohmann::json::parse(in);
  config["pad_token_id"] = 7;
  write_text(std::filesystem::path(dir) / "config.json", config.dump(2));
  auto hf = load_model(dir);
  ASSERT_TRUE(hf.is_ok()) << hf.message();
  auto hf_tok = load_model_tokenizer(**hf);
  ASSERT_TRUE(hf_tok.is_ok()) << hf_tok.message();
  ASSERT_EQ((*hf_tok)->pad_id(), std::optional<int32_t>(0));
  auto gguf = convert_and_load(dir, "qwen2-seqcls1-pad7");
  ASSERT_TRUE(gguf);
  EXPECT_EQ(gguf->config.pad_token_id, 7);
  // Without a pad_token_id in config.json transformers reads the last token: the file names no pad either.
  config.erase("pad_token_id");
  write_text(std::filesystem::path(dir) / "config.json", config.dump(2));
  gguf = convert_and_load(dir, "qwen2-seqcls1-nopad");
  ASSERT_TRUE(gguf);
  EXPECT_EQ(gguf->config.pad_token_id, -1);
}

// transformers reads a directory's chat_template.jinja over the copy in tokenizer_config.json (the file is
// where it saves templates now; an older copy may linger in the config): so do loading and converting.
TEST(ConvertedTokenizer, TheTemplatesOwnFileWinsOverTheConfigsCopy) {
  const std::string dir = copy_fixture("qwen3", "qwen3-template-file");
  const std::string file_template = "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}";
  write_text(std::filesystem::path(dir) / "chat_template.jinja", file_template);
  auto hf = load_model(dir);
  ASSERT_TRUE(hf.is_ok()) << hf.message();
  EXPECT_EQ(describe_text_assets(**hf).chat_template, file_template);
  auto gguf = convert_and_load(dir, "qwen3-template-file");
  ASSERT_TRUE(gguf);
  EXPECT_EQ(describe_text_assets(*gguf).chat_template, file_template);
}

}  // namespace
}  // namespace arbiter::convert_test
