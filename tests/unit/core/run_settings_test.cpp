// RunSettings: the options that decided an output, compared by what they mean: a file an option names by
// its contents, wherever it lies.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/run_settings.h"
#include "../../support/scratch_root.h"

namespace arbiter {
namespace {

std::string write(const std::string& name, const std::string& text) {
  const std::string path = (arbiter::test::scratch_root() / name).string();
  std::ofstream(path) << text;
  return path;
}

RunSettings settings_of(const std::vector<std::pair<std::string, std::vector<std::string>>>& options) {
  RunSettings out;
  for (const auto& [option, values] : options) add_setting(out, option, values);
  return out;
}

TEST(RunSettings, AFileIsComparedByItsContentsNotItsPath) {
  const std::string here = write("run_settings_a.jinja", "{{ messages }}");
  const std::string copy = write("run_settings_b.jinja", "{{ messages }}");
  const RunSettings then = settings_of({{"--chat-template", {here}}, {"--max-length", {"64"}}});
  EXPECT_EQ(then.file_contents.size(), 1u);  // "64" names no file
  EXPECT_TRUE(describe_setting_differences(then, settings_of({{"--chat-template", {copy}}, {"--max-length", {"64"}}})).empty());

  // The same path, edited.
  const RunSettings before_edit = settings_of({{"--chat-template", {here}}});
  write("run_settings_a.jinja", "{{ messages | length }}");
  const std::vector<std::string> edited = describe_setting_differences(before_edit, settings_of({{"--chat-template", {here}}}));
  ASSERT_EQ(edited.size(), 1u);
  EXPECT_EQ(edited[0].rfind("--chat-template: contents of " + here + " differ ('", 0), 0u) << edited[0];
  // Another file with other contents is another setting, named by both paths.
  const std::vector<std::string> other =
      describe_setting_differences(settings_of({{"--chat-template", {copy}}}), settings_of({{"--chat-template", {here}}}), "in a", "in b");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0], "--chat-template: '" + copy + "' in a, '" + here + "' in b");
  // The file gone: its contents cannot be the same.
  const RunSettings kept = settings_of({{"--chat-template", {copy}}});
  std::filesystem::remove(copy);
  const std::vector<std::string> gone = describe_setting_differences(kept, settings_of({{"--chat-template", {copy}}}));
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_NE(gone[0].find("no file now"), std::string::npos) << gone[0];
}

TEST(RunSettings, ValuesAndAbsentOptionsAreNamed) {
  const RunSettings a = settings_of({{"--field", {"prompt=q", "response=a"}}, {"--plain", {"true"}}});
  const RunSettings b = settings_of({{"--field", {"prompt=q", "response=b"}}, {"--max-length", {"32"}}});
  const std::vector<std::string> d = describe_setting_differences(a, b);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0], R"(--field: '["prompt=q","response=a"]' then, '["prompt=q","response=b"]' now)");
  EXPECT_EQ(d[1], "--max-length: not given then, '32' now");
  EXPECT_EQ(d[2], "--plain: 'true' then, not given now");
  EXPECT_TRUE(describe_setting_differences(a, a).empty());
}

TEST(RunSettings, ProvenanceWithoutFileContentsComparesPaths) {
  const std::string path = write("run_settings_c.jinja", "{{ x }}");
  const RunSettings old = RunSettings::from_json(nlohmann::json{{"settings", {{"--chat-template", path}}}});
  EXPECT_FALSE(old.kept_contents);
  EXPECT_TRUE(describe_setting_differences(old, settings_of({{"--chat-template", {path}}})).empty());
  EXPECT_EQ(describe_setting_differences(old, settings_of({{"--chat-template", {path + ".other"}}})).size(), 1u);
  // Malformed provenance reads as none, never a crash.
  for (const char* text : {"[1]", R"({"settings": 5, "file_contents": "x"})", "null"}) {
    const RunSettings read = RunSettings::from_json(nlohmann::json::parse(text));
    EXPECT_TRUE(read.settings.empty()) << text;
  }
  // to_json and back.
  const RunSettings round = RunSettings::from_json(nlohmann::json(settings_of({{"--chat-template", {path}}}).to_json()));
  EXPECT_TRUE(describe_setting_differences(round, settings_of({{"--chat-template", {path}}})).empty());
  EXPECT_EQ(round.file_contents.size(), 1u);
}

TEST(RunSettings, OnlyKeepsTheNamedOptionsAndTheirFiles) {
  const std::string path = write("run_settings_d.jinja", "{{ y }}");
  const RunSettings all = settings_of({{"--chat-template", {path}}, {"--layer", {"3"}}});
  const RunSettings some = all.only({"--chat-template", "--plain"});
  EXPECT_EQ(some.settings.size(), 1u);
  EXPECT_EQ(some.file_contents.size(), 1u);
  EXPECT_TRUE(all.only({"--plain"}).file_contents.empty());
}

}  // namespace
}  // namespace arbiter
