// How added tokens are found in text, as the tokenizers library's AddedVocabulary::find_matches does it:
// one Aho-Corasick search (MatchKind::LeftmostLongest) over all the added tokens, whose iterator yields
// non-overlapping matches. A match it refuses (a single_word token inside a word, or a special token when
// special tokens are not parsed) is skipped with `continue`, so its span has been consumed: neither a
// shorter token at the same place nor one starting inside the span is tried there.
#include <gtest/gtest.h>

#include "text/tokenizer.h"
#include "tiny_byte_level.h"

namespace arbiter {
namespace {

using test::byte_ids;

std::shared_ptr<Tokenizer> tiny_with(const std::string& name, const std::vector<test::TinyAddedToken>& added) {
  auto tok = Tokenizer::from_tokenizer_json(test::write_tiny_tokenizer(name, test::tiny_byte_level_tokenizer(added)), "");
  EXPECT_TRUE(tok.is_ok()) << tok.message();
  return tok.is_ok() ? *tok : nullptr;
}

std::vector<int32_t> encode_ok(const Tokenizer& tok, const std::string& text, bool parse_special) {
  auto ids = tok.encode(text, false, parse_special);
  EXPECT_TRUE(ids.is_ok()) << ids.message();
  return ids.is_ok() ? *ids : std::vector<int32_t>{};
}

TEST(AddedTokenMatching, ARefusedSingleWordMatchHidesTokensInsideIt) {
  // "ab" (256, single_word) and "b" (257): in "xab", "ab" is refused (a letter before it), and "b", which
  // starts inside its span, is not matched either.
  auto inner = tiny_with("single-word-inner", {{"ab", false, true}, {"b"}});
  ASSERT_TRUE(inner);
  EXPECT_EQ(encode_ok(*inner, "xab", true), byte_ids("xab"));
  EXPECT_EQ(encode_ok(*inner, "x ab", true), (std::vector<int32_t>{'x', ' ', 256}));
  EXPECT_EQ(encode_ok(*inner, "xb", true), (std::vector<int32_t>{'x', 257}));

  // "abc" (256, single_word) and "ab" (257): in "abcd", "abc" is the longest match at 0 and is refused
  // (a letter after it); the shorter "ab" at the same place is not tried.
  auto shorter = tiny_with("single-word-shorter", {{"abc", false, true}, {"ab"}});
  ASSERT_TRUE(shorter);
  EXPECT_EQ(encode_ok(*shorter, "abcd", true), byte_ids("abcd"));
  EXPECT_EQ(encode_ok(*shorter, "abd", true), (std::vector<int32_t>{257, 'd'}));
  // After the refused span, matching goes on.
  EXPECT_EQ(encode_ok(*shorter, "abcd ab", true), (std::vector<int32_t>{'a', 'b', 'c', 'd', ' ', 257}));
}

TEST(AddedTokenMatching, AnUnparsedSpecialTokenHidesTokensInsideIt) {
  // "<x>" (256, special) and "x" (257): with special tokens not parsed (the library's
  // encode_special_tokens), "<x>" is text, and the "x" inside it is not matched.
  auto tok = tiny_with("special-inner", {{"<x>", true, false}, {"x"}});
  ASSERT_TRUE(tok);
  EXPECT_EQ(encode_ok(*tok, "<x>", true), (std::vector<int32_t>{256}));
  EXPECT_EQ(encode_ok(*tok, "<x>", false), byte_ids("<x>"));
  EXPECT_EQ(encode_ok(*tok, "<x> x", false), (std::vector<int32_t>{'<', 'x', '>', ' ', 257}));
}

}  // namespace
}  // namespace arbiter
