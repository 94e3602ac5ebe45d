// Inputs that break naive tokenizers: empty text, ill-formed UTF-8, megabyte inputs and one pre-token
// of 100k spaces (a quadratic merge loop takes minutes on it; the heap-based one takes milliseconds).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "../../support/scratch_root.h"
#include "text/pretokenize.h"
#include "text/tokenizer.h"
#include "text/unicode.h"

namespace arbiter {
namespace {

using test::shared_path;

struct Loaded {
  std::string name;
  std::shared_ptr<Tokenizer> tok;
};

const std::vector<Loaded>& tokenizers() {
  static const std::vector<Loaded> all = [] {
    std::vector<Loaded> out;
    for (const char* name : {"llama3", "qwen3"}) {
      std::string dir = shared_path(std::string("fixtures/tokenizers/") + name);
      auto tok = Tokenizer::from_tokenizer_json(dir + "/tokenizer.json", dir + "/tokenizer_config.json");
      if (tok) out.push_back({name, *tok});
    }
    auto spm = Tokenizer::from_sentencepiece_model(shared_path("fixtures/tokenizers/tiny-spm/tokenizer.model"));
    if (spm) out.push_back({"tiny-spm", *spm});
    return out;
  }();
  return all;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(TokenizerEdges, AllLoaded) { EXPECT_EQ(tokenizers().size(), 3u); }

TEST(TokenizerEdges, EmptyText) {
  for (const auto& [name, tok] : tokenizers()) {
    auto ids = tok->encode("", false, true);
    ASSERT_TRUE(ids.is_ok()) << name;
    EXPECT_TRUE(ids->empty()) << name;
    auto text = tok->decode({}, true);
    ASSERT_TRUE(text.is_ok());
    EXPECT_EQ(*text, "");
  }
}

TEST(TokenizerEdges, InvalidUtf8IsAnErrorNamingTheOffset) {
  const std::pair<std::string, size_t> cases[] = {
      {"ab\xff" "cd", 2},            // byte that never starts a sequence
      {"caf\xc3", 3},                // truncated 2-byte sequence at the end
      {"x\xe2\x82y", 1},             // truncated 3-byte sequence
      {"\xc0\xaf", 0},               // overlong encoding of '/'
      {"ok \xed\xa0\x80", 3},        // UTF-16 surrogate
      {"\xf4\x90\x80\x80", 0},       // above U+10FFFF
  };
  for (const auto& [name, tok] : tokenizers()) {
    for (const auto& [text, offset] : cases) {
      auto ids = tok->encode(text, false, true);
      ASSERT_FALSE(ids.is_ok()) << name;
      EXPECT_NE(ids.message().find("byte offset " + std::to_string(offset)), std::string::npos)
          << name << ": " << ids.message();
    }
  }
}

TEST(TokenizerEdges, DecodeOutOfRangeIdIsAnError) {
  for (const auto& [name, tok] : tokenizers()) {
    EXPECT_FALSE(tok->decode({0, tok->vocab_size()}, false).is_ok()) << name;
    EXPECT_FALSE(tok->decode({-1}, false).is_ok()) << name;
  }
}

TEST(TokenizerEdges, HundredThousandSpaces) {
  std::string spaces(100000, ' ');
  for (const auto& [name, tok] : tokenizers()) {
    auto start = std::chrono::steady_clock::now();
    auto ids = tok->encode(spaces, false, false);
    double elapsed = seconds_since(start);
    ASSERT_TRUE(ids.is_ok()) << name;
    EXPECT_LT(elapsed, 2.0) << name;
    // Runs of spaces merge into multi-space tokens (tiny-spm's longest is two U+2581, after the prefix).
    EXPECT_LE(ids->size(), spaces.size() / 2 + 1) << name;
    auto back = tok->decode(*ids, false);
    ASSERT_TRUE(back.is_ok());
    EXPECT_EQ(*back, spaces) << name;
    std::printf("%s: 100k spaces -> %zu ids in %.3f s\n", name.c_str(), ids->size(), elapsed);
  }
}

TEST(TokenizerEdges, HundredThousandLetters) {
  std::string letters(100000, 'a');
  for (const auto& [name, tok] : tokenizers()) {
    auto start = std::chrono::steady_clock::now();
    auto ids = tok->encode(letters, false, false);
    double elapsed = seconds_since(start);
    ASSERT_TRUE(ids.is_ok()) << name;
    EXPECT_LT(elapsed, 2.0) << name;
    auto back = tok->decode(*ids, false);
    ASSERT_TRUE(back.is_ok());
    EXPECT_EQ(*back, letters) << name;
  }
}

TEST(TokenizerEdges, OneMegabyteRoundTrips) {
  auto ref = test::read_json(shared_path("fixtures/tokenizers/llama3/reference.json"));
  std::string unit;
  for (const auto& t : ref["texts"]) {
    std::string s = t.get<std::string>();
    if (s.find("<|") == std::string::npos) unit += s + "\n";
  }
  std::string text;
  while (text.size() < (1u << 20)) text += unit;
  for (const auto& [name, tok] : tokenizers()) {
    auto start = std::chrono::steady_clock::now();
    auto ids = tok->encode(text, false, false);
    double elapsed = seconds_since(start);
    ASSERT_TRUE(ids.is_ok()) << name;
    EXPECT_LT(elapsed, 10.0) << name;
    std::printf("%s: 1 MB -> %zu ids in %.3f s\n", name.c_str(), ids->size(), elapsed);
    // Byte-level BPE is lossless; SentencePiece's nmt_nfkc normalization is not (tabs, NBSP, ...).
    if (tok->kind() == "bpe (byte-level)") {
      auto back = tok->decode(*ids, false);
      ASSERT_TRUE(back.is_ok());
      EXPECT_TRUE(*back == text) << name;
    }
  }
}

// HF's documented example of the five delimiter behaviours on "the-final--countdown" split by '-'.
TEST(PreTokenize, SplitBehaviours) {
  auto dash = Regex::compile("-", true);
  ASSERT_TRUE(dash.is_ok());
  const std::string text = "the-final--countdown";
  auto run = [&](SplitBehavior behavior) {
    auto spans = split_spans(**dash, behavior, false, text);
    std::vector<std::string> out;
    for (auto [b, e] : *spans) out.push_back(text.substr(b, e - b));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(run(SplitBehavior::kRemoved), (V{"the", "final", "countdown"}));
  EXPECT_EQ(run(SplitBehavior::kIsolated), (V{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(run(SplitBehavior::kMergedWithPrevious), (V{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(run(SplitBehavior::kMergedWithNext), (V{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(run(SplitBehavior::kContiguous), (V{"the", "-", "final", "--", "countdown"}));
}

TEST(Unicode, LossyReplacesIllFormedSequences) {
  EXPECT_EQ(utf8_lossy("a\xff" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(utf8_lossy("\xe2\x82"), "\xEF\xBF\xBD");  // one maximal subpart, one replacement
  EXPECT_EQ(utf8_lossy("\xc3\xa9"), "\xc3\xa9");
}

TEST(Unicode, ByteLevelSpellingRoundTrips) {
  EXPECT_EQ(byte_to_unicode(' '), "\xC4\xA0");   // 'Ġ'
  EXPECT_EQ(byte_to_unicode('\n'), "\xC4\x8A");  // 'Ċ'
  EXPECT_EQ(byte_to_unicode('a'), "a");
  std::string all;
  for (int b = 0; b < 256; ++b) all += byte_to_unicode(static_cast<uint8_t>(b));
  auto bytes = unicode_to_bytes(all);
  ASSERT_TRUE(bytes.has_value());
  ASSERT_EQ(bytes->size(), 256u);
  for (int b = 0; b < 256; ++b) EXPECT_EQ(static_cast<uint8_t>((*bytes)[b]), b);
}

// Added tokens' flags as the tokenizers library reads them: lstrip / rstrip swallow any Unicode white
// space (a no-break or ideographic space too), and single_word refuses only word characters around the
// token (letters, marks, digits, '_'), not punctuation such as curly quotes.
TEST(AddedTokenFlags, WhiteSpaceAndWordCharactersAreUnicodes) {
  std::ifstream in(shared_path("fixtures/tokenizers/qwen3/tokenizer.json"));
  nlohmann::json j = nlohmann::json::parse(in);
  for (nlohmann::json& a : j["added_tokens"]) {
    if (a["content"] == "<|im_start|>") a["lstrip"] = true;
    if (a["content"] == "<|im_end|>") a["rstrip"] = true;
    if (a["content"] == "<tool_call>") a["single_word"] = true;
  }
  const std::string path = (arbiter::test::scratch_root() / "flagged-tokenizer.json").string();
  std::ofstream(path) << j.dump();
  auto tok = Tokenizer::from_tokenizer_json(path, "");
  ASSERT_TRUE(tok.is_ok()) << tok.message();
  const auto ids = [&](const std::string& text) { return *(*tok)->encode(text, false, true); };
  const auto join = [](std::vector<std::vector<int32_t>> parts) {
    std::vector<int32_t> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  };
  const int32_t im_start = 151644, im_end = 151645, tool_call = 151657;
  EXPECT_EQ(ids("x\u00a0<|im_start|>y"), join({ids("x"), {im_start}, ids("y")}));
  EXPECT_EQ(ids("x \u3000\t<|im_start|>y"), join({ids("x"), {im_start}, ids("y")}));
  EXPECT_EQ(ids("<|im_end|>\u00a0\u3000next"), join({{im_end}, ids("next")}));
  const auto quoted = ids("\u201c<tool_call>\u201d");
  EXPECT_NE(std::find(quoted.begin(), quoted.end(), tool_call), quoted.end());
  for (const std::string inside : {"a<tool_call>b", "\u00e9<tool_call>", "<tool_call>7", "<tool_call>\u0301"}) {
    const auto got = ids(inside);
    EXPECT_EQ(std::find(got.begin(), got.end(), tool_call), got.end()) << inside;
  }
  std::filesystem::remove(path);
}

// A normalized added token is looked for as the normalizers write it (HF tokenizers normalizes its
// content before matching it in normalized text): with Qwen3's NFC normalizer, a token spelled
// decomposed ("e" + combining acute) is found in text written either way, and one spelled composed too.
TEST(AddedTokenFlags, NormalizedTokensAreMatchedAsNormalized) {
  std::ifstream in(shared_path("fixtures/tokenizers/qwen3/tokenizer.json"));
  nlohmann::json j = nlohmann::json::parse(in);
  int32_t next_id = 0;
  for (const nlohmann::json& a : j["added_tokens"]) next_id = std::max(next_id, a["id"].get<int32_t>() + 1);
  const int32_t decomposed_id = next_id, raw_id = next_id + 1;
  j["added_tokens"].push_back({{"id", decomposed_id}, {"content", "cafe\u0301x"}, {"single_word", false},
                               {"lstrip", false}, {"rstrip", false}, {"normalized", true}, {"special", false}});
  // The same spelling, not normalized: matched in the raw text only, so only as written.
  j["added_tokens"].push_back({{"id", raw_id}, {"content", "note\u0301"}, {"single_word", false},
                               {"lstrip", false}, {"rstrip", false}, {"normalized", false}, {"special", false}});
  const std::string path = (arbiter::test::scratch_root() / "normalized-added-tokenizer.json").string();
  std::ofstream(path) << j.dump();
  auto tok = Tokenizer::from_tokenizer_json(path, "");
  ASSERT_TRUE(tok.is_ok()) << tok.message();
  const auto ids = [&](const std::string& text) { return *(*tok)->encode(text, false, false); };
  const auto has = [](const std::vector<int32_t>& got, int32_t id) {
    return std::find(got.begin(), got.end(), id) != got.end();
  };
  EXPECT_EQ(ids("caf\u00e9x"), std::vector<int32_t>{decomposed_id});
  EXPECT_EQ(ids("cafe\u0301x"), std::vector<int32_t>{decomposed_id});
  EXPECT_TRUE(has(ids("a caf\u00e9x b"), decomposed_id));
  EXPECT_EQ(ids("note\u0301"), std::vector<int32_t>{raw_id});
  EXPECT_FALSE(has(ids("not\u00e9"), raw_id));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace arbiter
