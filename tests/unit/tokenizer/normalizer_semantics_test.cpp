// The Lowercase and Strip normalizers as the tokenizers library defines them, seen through the tiny
// byte-level tokenizer (ids are the normalized text's bytes):
// - Lowercase: NormalizedString::lowercase maps each character with Rust's char::to_lowercase, which
//   takes no context: every capital sigma becomes σ (U+03C3), never the final form ς (U+03C2); and the
//   full mapping applies (İ, U+0130, becomes "i" + U+0307).
// - Strip: NormalizedString::lrstrip trims characters for which Rust's char::is_whitespace holds, that is
//   Unicode White_Space (U+0085, U+1680, U+2000-200A, U+2028/2029, U+202F, U+205F, U+3000, ...), and not
//   U+180E, which is no longer White_Space.
#include <gtest/gtest.h>

#include "text/normalize.h"
#include "text/tokenizer.h"
#include "tiny_byte_level.h"

namespace arbiter {
namespace {

using test::byte_ids;

std::vector<int32_t> normalized_ids(const std::string& name, const nlohmann::json& normalizer, const std::string& text) {
  auto tok = Tokenizer::from_tokenizer_json(
      test::write_tiny_tokenizer(name, test::tiny_byte_level_tokenizer({}, normalizer)), "");
  EXPECT_TRUE(tok.is_ok()) << tok.message();
  if (!tok) return {};
  auto ids = (*tok)->encode(text, false, false);
  EXPECT_TRUE(ids.is_ok()) << ids.message();
  return ids.is_ok() ? *ids : std::vector<int32_t>{};
}

TEST(NormalizerSemantics, LowercaseIsPerCharacter) {
  const nlohmann::json lowercase = {{"type", "Lowercase"}};
  EXPECT_EQ(normalized_ids("lower-sigma", lowercase, "\u03a3\u0391\u03a3"), byte_ids("\u03c3\u03b1\u03c3"));
  EXPECT_EQ(normalized_ids("lower-sigma-words", lowercase, "O\u03a3 \u03a3"), byte_ids("o\u03c3 \u03c3"));
  EXPECT_EQ(normalized_ids("lower-dotted-i", lowercase, "\u0130X"), byte_ids("i\u0307x"));
  EXPECT_EQ(normalized_ids("lower-mixed", lowercase, "ABC \u00c9\u0416"), byte_ids("abc \u00e9\u0436"));
}

TEST(NormalizerSemantics, StripTrimsUnicodeWhiteSpace) {
  const nlohmann::json strip = {{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}};
  EXPECT_EQ(normalized_ids("strip-em", strip, "\u2003a\u2003"), byte_ids("a"));
  EXPECT_EQ(normalized_ids("strip-nel", strip, "\u0085a\u2028"), byte_ids("a"));
  EXPECT_EQ(normalized_ids("strip-mixed", strip, " \u3000\u1680\u202fa b\u205f\u2029\t"), byte_ids("a b"));
  EXPECT_EQ(normalized_ids("strip-mvs", strip, "\u180ea\u180e"), byte_ids("\u180ea\u180e"));
  const nlohmann::json left_only = {{"type", "Strip"}, {"strip_left", true}, {"strip_right", false}};
  EXPECT_EQ(normalized_ids("strip-left", left_only, "\u2000a\u2000"), byte_ids("a\u2000"));
}

}  // namespace
}  // namespace arbiter
