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
}

}  // namespace
}  // namespace arbiter
