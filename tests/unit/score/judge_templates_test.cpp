// Judge templates: placeholders filled, {{ and }} as literal braces, and the checks made before any row.
#include <gtest/gtest.h>

#include "score/judge_templates.h"

namespace arbiter {
namespace {

TEST(JudgeTemplates, BracesAreWrittenDoubled) {
  auto filled = fill_judge_template("Reply {{\"score\": N}} to {prompt}: {response}}}",
                                    {{"prompt", "Q {x}"}, {"response", "R"}});
  ASSERT_TRUE(filled.is_ok()) << filled.message();
  // The values are not read as template text: their braces stay as they are.
  EXPECT_EQ(*filled, "Reply {\"score\": N} to Q {x}: R}");
  // A brace that is not doubled and opens no placeholder stays a brace, as before.
  auto lone = fill_judge_template("{ {response} }", {{"response", "R"}});
  ASSERT_TRUE(lone.is_ok()) << lone.message();
  EXPECT_EQ(*lone, "{ R }");
}

TEST(JudgeTemplates, EveryBuiltInTemplatePassesTheCheck) {
  for (const std::string& name : builtin_judge_template_names()) {
    auto t = builtin_judge_template(name);
    ASSERT_TRUE(t.is_ok()) << name;
    EXPECT_TRUE(check_judge_template(*t).is_ok()) << name << ": " << check_judge_template(*t).message();
  }
}

TEST(JudgeTemplates, TheCheckNamesWhatIsWrong) {
  EXPECT_EQ(check_judge_template(make_judge_template("t.txt", "Rate {prompt}")).message(),
            "judge template t.txt: a pointwise template must show {response}: without it the judge never reads what it "
            "grades");
  EXPECT_EQ(check_judge_template(make_judge_template("t.txt", "{responses} {n} {response}")).message().substr(0, 62),
            "judge template t.txt: unknown placeholder {response} in a list");
  EXPECT_TRUE(check_judge_template(make_judge_template("t.txt", "{{literal}} {response}")).is_ok());
  // A placeholder's name in another case, or with blanks, would be written out as text: the judge would
  // never see the prompt. It is named, with the spelling meant.
  EXPECT_EQ(check_judge_template(make_judge_template("t.txt", "Q: {Prompt} A: {response}")).message(),
            "judge template t.txt: {Prompt} is not a placeholder: write {prompt} (placeholders are lower case, without "
            "blanks; {{ and }} write a brace)");
  EXPECT_NE(check_judge_template(make_judge_template("t.txt", "Q: { prompt } A: {response}")).message().find("write {prompt}"),
            std::string::npos);
  EXPECT_NE(check_judge_template(make_judge_template("t.txt", "Score {0} to {response}")).message().find(
                "unknown placeholder {0}"),
            std::string::npos);
  // Braces around anything else stay text: JSON in the instructions, a lone brace.
  EXPECT_TRUE(check_judge_template(make_judge_template("t.txt", "Reply as {\"score\": N} {response} { }")).is_ok());
}

}  // namespace
}  // namespace arbiter
