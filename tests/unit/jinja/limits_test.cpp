// Hostile templates finish fast with an error; errors name the template line; parse-once/render-many
// is safe across threads.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "text/jinja.h"

namespace arbiter::jinja {
namespace {

using Clock = std::chrono::steady_clock;

Result<std::string> render(const std::string& source, const nlohmann::ordered_json& context = nlohmann::ordered_json::object(),
                           const RenderOptions& options = {}) {
  auto t = Template::parse(source);
  if (!t.is_ok()) return t.status();
  return t->render(context, options);
}

// Runs `source`, expects an error containing `fragment`, within `seconds`.
void expect_fast_error(const std::string& source, const std::string& fragment, double seconds = 5.0) {
  auto start = Clock::now();
  auto out = render(source);
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_FALSE(out.is_ok()) << "rendered " << out->size() << " bytes";
  EXPECT_NE(out.message().find(fragment), std::string::npos) << out.message();
  EXPECT_LT(elapsed, seconds) << source;
}

TEST(JinjaLimits, NestedHugeLoopsHitTheStepLimit) {
  expect_fast_error("{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}",
                    "evaluation steps", 10.0);
}

TEST(JinjaLimits, UnboundedRecursionHitsTheCallDepth) {
  expect_fast_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "nested deeper");
}

TEST(JinjaLimits, MutualRecursionThroughCallerHitsTheCallDepth) {
  expect_fast_error("{% macro a() %}{% call a() %}x{% endcall %}{% endmacro %}{{ a() }}", "nested deeper");
}

TEST(JinjaLimits, DoublingStringsHitTheSizeLimit) {
  expect_fast_error(
      "{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
      "exceeded");
  expect_fast_error("{% set ns = namespace(s=[1]) %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
                    "exceeded");
}

TEST(JinjaLimits, HugeRepetitionIsRefusedBeforeAllocating) {
  expect_fast_error("{{ 'ab' * 100000000000 }}", "exceeded", 1.0);
  expect_fast_error("{{ [1, 2] * 100000000000 }}", "exceeded", 1.0);
  expect_fast_error("{{ 'x'.center(100000000000) }}", "exceeded", 1.0);
}

TEST(JinjaLimits, OutputLimitIsConfigurable) {
  RenderOptions options;
  options.max_output_bytes = 1000;
  auto out = render("{% for i in range(1000) %}{{ i }}{% endfor %}", nlohmann::ordered_json::object(), options);
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.message().find("1000 bytes"), std::string::npos) << out.message();
}

TEST(JinjaLimits, DeepNestingIsASyntaxErrorNotACrash) {
  expect_fast_error(std::string("{{ ") + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}", "nested too deeply");
  expect_fast_error(std::string("{{ ") + std::string(100000, '[') + std::string(100000, ']') + " }}", "nested too deeply");
  std::string ifs;
  for (int i = 0; i < 20000; ++i) ifs += "{% if true %}";
  expect_fast_error(ifs, "nested too deeply");
  std::string nots = "{{ ";
  for (int i = 0; i < 100000; ++i) nots += "not ";
  expect_fast_error(nots + "1 }}", "nested too deeply");
  std::string negs = "{{ ";
  for (int i = 0; i < 100000; ++i) negs += "- ";
  expect_fast_error(negs + "1 }}", "nested too deeply");
}

TEST(JinjaLimits, DeeplyNestedDataFromTheContextIsRejectedByTojson) {
  nlohmann::ordered_json deep = 1;
  for (int i = 0; i < 1000; ++i) deep = nlohmann::ordered_json::array({deep});
  auto out = render("{{ x|tojson }}", {{"x", deep}});
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.message().find("nested too deeply"), std::string::npos) << out.message();
}

TEST(JinjaErrors, MessagesNameTheTemplateLine) {
  auto parse_error = Template::parse("line one\n{% if x %}\n{{ 1 + }}\n{% endif %}");
  ASSERT_FALSE(parse_error.is_ok());
  EXPECT_NE(parse_error.message().find("line 3"), std::string::npos) << parse_error.message();

  auto runtime_error = render("a\nb\n{{ 'x' + 1 }}");
  ASSERT_FALSE(runtime_error.is_ok());
  EXPECT_NE(runtime_error.message().find("line 3"), std::string::npos) << runtime_error.message();
  EXPECT_NE(runtime_error.message().find("can only concatenate str"), std::string::npos) << runtime_error.message();

  auto unsupported = Template::parse("x\n{% include 'other.jinja' %}");
  ASSERT_FALSE(unsupported.is_ok());
  EXPECT_NE(unsupported.message().find("line 2"), std::string::npos) << unsupported.message();
  EXPECT_NE(unsupported.message().find("'include'"), std::string::npos) << unsupported.message();

  auto recursive = Template::parse("{% for x in xs recursive %}{% endfor %}");
  ASSERT_FALSE(recursive.is_ok());
  EXPECT_NE(recursive.message().find("recursive"), std::string::npos) << recursive.message();

  auto unknown = Template::parse("{% do xs.append(1) %}");
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_NE(unknown.message().find("unknown tag 'do'"), std::string::npos) << unknown.message();
}

TEST(JinjaErrors, RaiseExceptionCarriesTheMessage) {
  auto out = render("\n{{ raise_exception('Conversation roles must alternate') }}");
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.message().find("Conversation roles must alternate"), std::string::npos) << out.message();
  EXPECT_NE(out.message().find("line 2"), std::string::npos) << out.message();
}

TEST(JinjaErrors, UndefinedNamesTheMissingVariable) {
  auto out = render("{{ message.content }}");
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.message().find("'message' is undefined"), std::string::npos) << out.message();
}

TEST(JinjaStatements, GenerationBlockRendersItsBody) {
  // transformers' {% generation %} marks assistant text for masks; rendering is unchanged.
  auto out = render("{% for m in ms %}{% generation %}<{{ m }}>{% endgeneration %}{% endfor %}", {{"ms", {"a", "b"}}});
  ASSERT_TRUE(out.is_ok()) << out.message();
  EXPECT_EQ(*out, "<a><b>");
}

TEST(JinjaStatements, StrftimeNowUsesTheGivenTime) {
  RenderOptions options;
  std::tm t{};
  t.tm_year = 2024 - 1900;
  t.tm_mon = 6;
  t.tm_mday = 26;
  t.tm_hour = 12;
  t.tm_isdst = -1;
  options.now = std::mktime(&t);
  auto out = render("{{ strftime_now('%d %b %Y') }}", nlohmann::ordered_json::object(), options);
  ASSERT_TRUE(out.is_ok()) << out.message();
  EXPECT_EQ(*out, "26 Jul 2024");
}

TEST(JinjaThreads, OneParsedTemplateRendersConcurrently) {
  auto tpl = Template::parse(
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + m.content|length %}"
      "<{{ m.role }}>{{ m.content|trim }}{% endfor %}|{{ ns.n }}");
  ASSERT_TRUE(tpl.is_ok()) << tpl.message();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 200; ++i) {
        std::string content = " msg" + std::to_string(k * 1000 + i) + " ";
        nlohmann::ordered_json ctx = {{"messages", {{{"role", "user"}, {"content", content}}}}};
        auto out = tpl->render(ctx);
        std::string want = "<user>msg" + std::to_string(k * 1000 + i) + "|" + std::to_string(content.size());
        if (!out.is_ok() || *out != want) ++failures[static_cast<size_t>(k)];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace arbiter::jinja
