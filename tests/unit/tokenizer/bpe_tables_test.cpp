// A BPE model's vocabulary and merges are read as the JSON parser meets them and resolved to ids in the
// vocabulary's own spelling, as HF tokenizers does: any key order and either merge form ("a b" or [a, b])
// load the same model, and a malformed entry is an error naming it.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fixtures.h"
#include "../../support/scratch_root.h"
#include "text/string_index.h"
#include "text/tokenizer.h"

namespace arbiter {
namespace {

using nlohmann::json;

std::string write_json(const std::string& name, const json& j) {
  const std::string path = (test::scratch_root() / name).string();
  std::ofstream(path) << j.dump();
  return path;
}

// A three-piece vocabulary without a pre-tokenizer: "ab" is one merge away from "a" "b".
json tiny_tokenizer() {
  return {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}}}, {"merges", {"a b"}}}}};
}

Result<std::shared_ptr<Tokenizer>> load(const json& j) {
  return Tokenizer::from_tokenizer_json(write_json("bpe-tables-tokenizer.json", j), "");
}

TEST(BpeTables, TheTinyModelMergesBothForms) {
  for (const json& merges : {json::array({"a b"}), json::array({json::array({"a", "b"})})}) {
    json j = tiny_tokenizer();
    j["model"]["merges"] = merges;
    auto tok = load(j);
    ASSERT_TRUE(tok.is_ok()) << tok.message();
    EXPECT_EQ(*(*tok)->encode("abba", false, false), (std::vector<int32_t>{2, 1, 0})) << merges.dump();
  }
}

// The fixtures written back with sorted keys ("merges" before "vocab", "model" before "pre_tokenizer") and
// their merges as pairs encode the reference texts to the reference ids.
TEST(BpeTables, KeyOrderAndPairMergesLoadTheSameModel) {
  for (const char* name : {"llama3", "qwen3"}) {
    const std::string dir = test::shared_path(std::string("fixtures/tokenizers/") + name);
    json j = test::read_json(dir + "/tokenizer.json");
    json pairs = json::array();
    for (const json& rule : j["model"]["merges"]) {
      if (rule.is_array()) {
        pairs.push_back(rule);
        continue;
      }
      const std::string text = rule.get<std::string>();
      const size_t space = text.find(' ', 1);
      pairs.push_back({text.substr(0, space), text.substr(space + 1)});
    }
    j["model"]["merges"] = pairs;
    auto tok = Tokenizer::from_tokenizer_json(write_json(std::string(name) + "-pairs.json", j),
                                              dir + "/tokenizer_config.json");
    ASSERT_TRUE(tok.is_ok()) << name << ": " << tok.message();
    const json reference = test::read_json(dir + "/reference.json");
    ASSERT_FALSE(reference["texts"].empty());
    for (size_t i = 0; i < reference["texts"].size(); ++i) {
      const std::string text = reference["texts"][i];
      const auto want = reference["ids_plain"][i].get<std::vector<int32_t>>();
      auto got = (*tok)->encode(text, false, true);
      ASSERT_TRUE(got.is_ok()) << got.message();
      EXPECT_EQ(*got, want) << name << " text " << i;
    }
  }
}

TEST(BpeTables, MalformedEntriesAreNamed) {
  struct Case {
    const char* what;
    std::function<void(json&)> edit;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"string id", [](json& j) { j["model"]["vocab"]["b"] = "1"; }, "model.vocab: token 'b' has id \"1\""},
      {"negative id", [](json& j) { j["model"]["vocab"]["b"] = -1; }, "model.vocab: token 'b' has id -1"},
      {"huge id", [](json& j) { j["model"]["vocab"]["b"] = 1 << 30; }, "has id 1073741824 (not 0 to 65538: the file lists 3 tokens)"},
      {"object id", [](json& j) { j["model"]["vocab"]["b"] = json::object(); }, "token 'b' has no integer id"},
      {"no vocab", [](json& j) { j["model"].erase("vocab"); }, "model.vocab: missing"},
      {"vocab array", [](json& j) { j["model"]["vocab"] = json::array(); }, "model.vocab: missing or not an object"},
      {"no merges", [](json& j) { j["model"].erase("merges"); }, "model.merges: missing"},
      {"merges object", [](json& j) { j["model"]["merges"] = {{"a", "b"}}; }, "model.merges: missing or not an array"},
      {"merge number", [](json& j) { j["model"]["merges"].push_back(7); }, "model.merges[1]: neither"},
      {"merge triple", [](json& j) { j["model"]["merges"].push_back({"a", "b", "c"}); }, "model.merges[1]: neither"},
      {"merge without space", [](json& j) { j["model"]["merges"].push_back("ab"); }, "no space in 'ab'"},
      {"merge of three", [](json& j) { j["model"]["merges"].push_back("a b ab"); }, "'a b ab' is not two tokens split by one space"},
      {"merge with a leading space", [](json& j) { j["model"]["merges"].push_back(" b"); }, "is not two tokens split by one space"},
      {"merge with a trailing space", [](json& j) { j["model"]["merges"].push_back("a "); }, "is not two tokens split by one space"},
      {"shared id", [](json& j) { j["model"]["vocab"]["ba"] = 1; }, "tokens 'b' and 'ba' share id 1"},
      {"huge added id", [](json& j) { j["added_tokens"] = {{{"id", 4294967297LL}, {"content", "<x>"}}}; },
       "added token '<x>': id 4294967297 (not 0 to 65539: the file lists 4 tokens)"},
      {"unknown piece", [](json& j) { j["model"]["merges"].push_back("b a"); }, "BPE merge 1 ('b' + 'a')"},
  };
  for (const Case& c : cases) {
    json j = tiny_tokenizer();
    c.edit(j);
    auto tok = load(j);
    ASSERT_FALSE(tok.is_ok()) << c.what;
    EXPECT_NE(tok.message().find(c.message), std::string::npos) << c.what << ": " << tok.message();
  }
}

// Two spellings of one id cannot both be the token; a JSON object with a key twice is caught as it is read
// (a document tree would keep one of them silently).
TEST(BpeTables, ATokenListedTwiceIsAnError) {
  const std::string path = (test::scratch_root() / "twice-tokenizer.json").string();
  std::ofstream(path) << R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "a": 2}, "merges": []}})";
  auto tok = Tokenizer::from_tokenizer_json(path, "");
  ASSERT_FALSE(tok.is_ok());
  EXPECT_NE(tok.message().find("token 'a' is listed twice"), std::string::npos) << tok.message();
}

// A key twice would mix two tables; HF refuses such a document.
TEST(BpeTables, AKeyTwiceIsAnError) {
  const std::string model = R"("model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})";
  const std::pair<std::string, std::string> cases[] = {
      {"{" + model + ", " + model + "}", "the key 'model' appears twice"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0}, "vocab": {"b": 1}, "merges": []}})", "model: the key 'vocab' appears twice"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "merges": []}})", "model: the key 'merges' appears twice"},
  };
  for (const auto& [text, message] : cases) {
    const std::string path = (test::scratch_root() / "key-twice-tokenizer.json").string();
    std::ofstream(path) << text;
    auto tok = Tokenizer::from_tokenizer_json(path, "");
    ASSERT_FALSE(tok.is_ok()) << text;
    EXPECT_NE(tok.message().find(message), std::string::npos) << tok.message();
  }
}

// A byte-level model matches text in its byte-to-unicode spelling: a vocabulary token spelled otherwise (a raw
// space) is never matched, and does not stand in for the token that spells the same byte ('Ġ').
TEST(BpeTables, ATokenOutsideTheByteLevelSpellingIsNotMatched) {
  const json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
  const json j = {{"pre_tokenizer", byte_level},
                  {"decoder", byte_level},
                  {"model", {{"type", "BPE"}, {"vocab", {{" ", 0}, {"a", 1}, {"Ġ", 2}, {"Ġa", 3}}}, {"merges", {"Ġ a"}}}}};
  auto tok = load(j);
  ASSERT_TRUE(tok.is_ok()) << tok.message();
  EXPECT_EQ(*(*tok)->encode(" a", false, false), (std::vector<int32_t>{3}));
  EXPECT_EQ(*(*tok)->encode("a  ", false, false), (std::vector<int32_t>{1, 2, 2}));
}

TEST(StringIndex, FindsEveryStringAndKeepsTheFirstOfEqualOnes) {
  std::vector<std::string> strings;
  for (int i = 0; i < 5000; ++i) strings.push_back("s" + std::to_string(i));
  strings.push_back("s17");  // a repeat: 17 stays
  strings.push_back("");     // empty: not indexed
  const StringIndex index(strings);
  for (int i = 0; i < 5000; ++i) EXPECT_EQ(index.find("s" + std::to_string(i)), std::optional<int32_t>(i));
  EXPECT_EQ(index.find("s17"), std::optional<int32_t>(17));
  EXPECT_EQ(index.find(""), std::nullopt);
  EXPECT_EQ(index.find("s5000"), std::nullopt);
  EXPECT_EQ(StringIndex().find("s1"), std::nullopt);
}

}  // namespace
}  // namespace arbiter
