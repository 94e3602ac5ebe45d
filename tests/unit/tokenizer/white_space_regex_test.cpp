// \s in a Hugging Face pattern means Unicode White_Space, as in Oniguruma (which the tokenizers library
// compiles its patterns with) and Rust: U+180E MONGOLIAN VOWEL SEPARATOR, General_Category Cf and not
// White_Space since Unicode 6.3, is not a space, though PCRE2's own \s still counts it.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "fixtures.h"
#include "text/pretokenize_regex.h"
#include "text/regex_white_space.h"
#include "text/tokenizer.h"

namespace arbiter {
namespace {

using Ranges = std::vector<std::pair<size_t, size_t>>;

Ranges matches_of(const std::string& pattern, const std::string& text) {
  auto regex = Regex::compile(pattern);
  EXPECT_TRUE(regex.is_ok()) << regex.message();
  if (!regex) return {};
  auto found = (*regex)->find_all(text);
  EXPECT_TRUE(found.is_ok()) << found.message();
  return found.is_ok() ? *found : Ranges{};
}

TEST(WhiteSpaceClass, IsUnicodeWhiteSpace) {
  // Every White_Space code point is matched by \s and not by \S.
  for (const std::string space : {"\t", "\n", "\v", "\f", "\r", " ", "\u0085", "\u00a0", "\u1680", "\u2000",
                                  "\u2005", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"}) {
    EXPECT_EQ(matches_of(R"(\s)", space), (Ranges{{0, space.size()}})) << space;
    EXPECT_TRUE(matches_of(R"(\S)", space).empty()) << space;
  }
  // U+180E, a zero-width space and a word joiner are format characters, not White_Space.
  for (const std::string other : {"\u180e", "\u200b", "\u2060", "a", "\u4e2d"}) {
    EXPECT_TRUE(matches_of(R"(\s)", other).empty()) << other;
    EXPECT_EQ(matches_of(R"(\S)", other), (Ranges{{0, other.size()}})) << other;
  }
}

TEST(WhiteSpaceClass, MeansTheSameInsideACharacterClass) {
  // GPT-2's punctuation run: ' \u180e' is one pre-token, since U+180E is neither space, letter nor digit.
  EXPECT_EQ(matches_of(R"( ?[^\s\p{L}\p{N}]+)", " \u180ea"), (Ranges{{0, 4}}));
  EXPECT_EQ(matches_of(R"([\s]+)", "a\u180e \u2003b"), (Ranges{{4, 8}}));
  EXPECT_EQ(matches_of(R"([\S]+)", "\u180e\u3000x"), (Ranges{{0, 3}, {6, 7}}));
  EXPECT_EQ(matches_of(R"([^\S]+)", "a\u180e\u3000"), (Ranges{{4, 7}}));
  // "\s+(?!\S)": the lookahead sees U+180E as a non-space.
  EXPECT_EQ(matches_of(R"(\s+(?!\S))", "  \u180e"), (Ranges{{0, 1}}));
}

TEST(WhiteSpaceClass, OnlyTheClassEscapesAreRewritten) {
  // An escaped backslash before 's', quoted text and other escapes are left as written.
  EXPECT_EQ(with_unicode_white_space(R"(\\s)"), R"(\\s)");
  EXPECT_EQ(with_unicode_white_space(R"(\Q\s\E\s)").substr(0, 6), R"(\Q\s\E)");
  EXPECT_EQ(with_unicode_white_space(R"(\p{L}\d\n)"), R"(\p{L}\d\n)");
  EXPECT_EQ(matches_of(R"(\\s)", R"(a\sb)"), (Ranges{{1, 3}}));
  // A ']' first in a class is a member, so the class goes on and its \s is rewritten as a member too.
  EXPECT_EQ(matches_of(R"([]\s]+)", "a] \u180e"), (Ranges{{1, 3}}));
  EXPECT_EQ(matches_of(R"([[:alpha:]\s]+)", "ab c\u180e"), (Ranges{{0, 4}}));
}

// Ids from the tokenizers library's semantics (Split on Oniguruma, \s = White_Space) for text with
// U+180E, as a reference implementation of Llama 3's and Qwen's split with that class gives them: in
// " \u180ea" the rule ` ?[^\s\p{L}\p{N}]+` takes " \u180e" as one pre-token (Llama 3: 87189 = " \xe1",
// then the bytes 0xa0 0x8e), and in "\u180e's" the punctuation run is "\u180e'", so "'s" is no
// contraction.
TEST(WhiteSpaceClass, MongolianVowelSeparatorIsNotSplitAsSpace) {
  for (const auto& [name, text, expected] : std::vector<std::tuple<std::string, std::string, std::vector<int32_t>>>{
           {"llama3", " \u180ea", {87189, 254, 236, 64}},
           {"llama3", "a \u180e.", {64, 87189, 254, 236, 13}},
           {"llama3", "\u180e's", {157, 254, 236, 6, 82}},
           {"qwen3", " \u180ea", {86089, 254, 236, 64}}}) {
    const std::string dir = test::shared_path("fixtures/tokenizers/" + name);
    auto tok = Tokenizer::from_tokenizer_json(dir + "/tokenizer.json", dir + "/tokenizer_config.json");
    ASSERT_TRUE(tok.is_ok()) << tok.message();
    auto ids = (*tok)->encode(text, false, false);
    ASSERT_TRUE(ids.is_ok()) << ids.message();
    EXPECT_EQ(*ids, expected) << name << ": " << text;
  }
}

}  // namespace
}  // namespace arbiter
