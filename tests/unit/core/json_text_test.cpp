// Parsing JSON text: nesting bounded before the parse, malformed text named with its place.
#include <gtest/gtest.h>

#include <string>

#include "core/json_text.h"

namespace arbiter {
namespace {

TEST(JsonText, NestingIsCountedOutsideStrings) {
  EXPECT_FALSE(json_nested_deeper_than(R"({"a": [[1]], "b": {"c": []}})", 3));
  EXPECT_TRUE(json_nested_deeper_than(R"({"a": [[1]]})", 2));
  // Brackets inside strings, escaped quotes among them, do not count.
  EXPECT_FALSE(json_nested_deeper_than(R"({"a": "[[[[\"{{{{"})", 1));
  EXPECT_TRUE(json_nested_deeper_than(R"({"a": "\\", "b": [[]]})", 2));
}

TEST(JsonText, ADeepDocumentIsRefusedBeforeItIsParsed) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  const Result<nlohmann::json> parsed = parse_json_text(deep);
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.message(), "JSON nested deeper than 512 levels");
  const std::string fine = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(parse_json_text(fine).is_ok());
}

TEST(JsonText, MalformedTextSaysWhere) {
  const Result<nlohmann::ordered_json> parsed = parse_json_text<nlohmann::ordered_json>(R"([{"content": "\ud800"}])");
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_NE(parsed.message().find("malformed JSON"), std::string::npos) << parsed.message();
  EXPECT_NE(parsed.message().find("column"), std::string::npos) << parsed.message();
  EXPECT_NE(parsed.message().find("surrogate"), std::string::npos) << parsed.message();
  // Key order is kept for ordered_json (chat messages' fields as written).
  const auto ordered = parse_json_text<nlohmann::ordered_json>(R"({"z": 1, "a": 2})");
  ASSERT_TRUE(ordered.is_ok());
  EXPECT_EQ(ordered->begin().key(), "z");
}

// A cut-off row of megabytes: the parser quotes all it read, the message keeps its two ends.
TEST(JsonText, AMalformedLongRowsMessageIsClipped) {
  const std::string row = "{\"prompt\": \"x\", \"response\": \"" + std::string(3000000, 'a') + "\u00e9";
  auto parsed = parse_json_text(row);
  ASSERT_FALSE(parsed.is_ok());
  const std::string message = parsed.message();
  EXPECT_LT(message.size(), 600u) << message.size();
  EXPECT_EQ(message.rfind("malformed JSON: ", 0), 0u) << message;
  EXPECT_NE(message.find(" bytes) ..."), std::string::npos) << message;
  // Cut at character boundaries: the cut would fall inside the two bytes of the e-acute; it goes before it.
  const std::string clipped = clip_for_message(std::string(299, 'a') + "\u00e9" + std::string(1000, 'b'), 401);
  EXPECT_EQ(clipped.rfind(std::string(299, 'a') + "... (", 0), 0u) << clipped.substr(0, 320);
  EXPECT_EQ(clip_for_message("short"), "short");
}

}  // namespace
}  // namespace arbiter
