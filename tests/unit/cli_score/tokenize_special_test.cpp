// `tokenize --parse-special` reads special-token strings as the specials they name without adding BOS/EOS,
// as transformers' tokenizer does with add_special_tokens=False: the references' `ids_plain` (made that
// way) of texts that hold special-token strings, for Llama 3 and Qwen3's tokenizers.
#include <gtest/gtest.h>

#include <fstream>

#include "../../support/cli_helpers.h"

namespace arbiter {
namespace {

using namespace arbiter::testing;
using nlohmann::json;

TEST(TokenizeParseSpecial, MatchesTransformersWithoutAddedSpecials) {
  const std::string dir = temp_dir("tokenize-special");
  for (const std::string name : {"llama3", "qwen3"}) {
    const std::string tokenizer = kShared + "/fixtures/tokenizers/" + name;
    const json reference = json::parse(read_text(tokenizer + "/reference.json"));
    size_t checked = 0, specials_parsed = 0;
    for (size_t k = 0; k < reference["texts"].size(); ++k) {
      const std::string text = reference["texts"][k];
      if (text.find("<|") == std::string::npos) continue;
      SCOPED_TRACE(name + " text " + std::to_string(k));
      write_text(dir + "/text.txt", text);
      auto parsed = run_arbiter("tokenize -m " + tokenizer + " --parse-special --json --text-file " + dir + "/text.txt");
      ASSERT_EQ(parsed.exit_code, 0) << parsed.out;
      EXPECT_EQ(json::parse(parsed.out)["ids"], reference["ids_plain"][k]);
      // Without it, the strings are text: more tokens where they name this tokenizer's specials.
      auto plain = run_arbiter("tokenize -m " + tokenizer + " --json --text-file " + dir + "/text.txt");
      ASSERT_EQ(plain.exit_code, 0) << plain.out;
      specials_parsed += json::parse(plain.out)["count"].get<size_t>() > reference["ids_plain"][k].size();
      ++checked;
    }
    EXPECT_GE(checked, 2u) << name << ": the reference has texts with special-token strings";
    EXPECT_GE(specials_parsed, 1u) << name << ": a text holds one of its own specials";
  }
}

}  // namespace
}  // namespace arbiter
