// The SVG writer and charts: escaping, number formatting, ticks, and well-formed XML out of every chart.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "eval/svg.h"
#include "eval/svg_chart.h"
#include "xml_check.h"

namespace arbiter::eval::svg {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(XmlCheck, RejectsWhatIsNotWellFormed) {
  EXPECT_EQ(test::check_xml("<a x=\"1\"><b/>t &amp; u</a>"), "");
  EXPECT_NE(test::check_xml("<a><b></a></b>"), "");
  EXPECT_NE(test::check_xml("<a>x < y</a>"), "");
  EXPECT_NE(test::check_xml("<a>fish & chips</a>"), "");
  EXPECT_NE(test::check_xml("<a x=\"<\"/>"), "");
  EXPECT_NE(test::check_xml("<a x=1/>"), "");
  EXPECT_NE(test::check_xml("<a>"), "");
  EXPECT_NE(test::check_xml("<a/><b/>"), "");
}

TEST(Svg, EscapesMarkupCharacters) {
  EXPECT_EQ(escape("a<b & c>d \"q\" 'p'"), "a&lt;b &amp; c&gt;d &quot;q&quot; &#39;p&#39;");
  EXPECT_EQ(escape("&amp;"), "&amp;amp;");
  EXPECT_EQ(escape("plain text"), "plain text");
}

TEST(Svg, KeepsUtf8AndDropsWhatXmlForbids) {
  EXPECT_EQ(escape("ρ = 0.35 \xE2\x80\x94 ok"), "ρ = 0.35 \xE2\x80\x94 ok");
  EXPECT_EQ(escape(std::string("a\x01" "b\x1F" "c\td", 7)), "abc\td");
  // A lone continuation byte and a truncated sequence each become U+FFFD.
  EXPECT_EQ(escape("x\x80y"), "x\xEF\xBF\xBDy");
  EXPECT_EQ(escape("x\xE2\x80"), "x\xEF\xBF\xBD\xEF\xBF\xBD");
  // An overlong encoding of '<' must not slip through as a raw '<'.
  EXPECT_EQ(escape("\xC0\xBC"), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Svg, NumbersAreShortAndFinite) {
  EXPECT_EQ(num(12.0), "12");
  EXPECT_EQ(num(3.5), "3.5");
  EXPECT_EQ(num(-0.254), "-0.25");
  EXPECT_EQ(num(-0.001), "0");
  EXPECT_EQ(num(std::nan("")), "0");
  EXPECT_EQ(num(INFINITY), "0");
}

TEST(Svg, CanvasWritesWellFormedEscapedXml) {
  Canvas canvas(200, 100);
  const std::string hostile = "</text><script>alert(\"x\")</script> & 'more'";
  canvas.rect(10, 10, 50, -20, {.fill = "#123"}, hostile);
  canvas.line({0, 0}, {10, 10}, {.stroke = "#000", .dash = "2,2"});
  canvas.polyline({{0, 0}, {5, 5}, {9, 1}}, {.stroke = "red"});
  canvas.circle({5, 5}, 2, {.fill = "blue", .opacity = 0.5}, hostile);
  canvas.text({1, 2}, hostile, {.anchor = Anchor::kMiddle, .bold = true, .rotate = -90});
  const std::string svg = canvas.str(hostile);
  EXPECT_EQ(test::check_xml(svg), "") << svg;
  EXPECT_EQ(test::check_xml(standalone(svg)), "");
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(count(svg, "&lt;script&gt;"), 5u);  // aria-label, the svg's <title>, two shape titles, the text
  EXPECT_NE(svg.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  // The negative-height rect is drawn upward from y = 10.
  EXPECT_NE(svg.find("<rect x=\"10\" y=\"-10\" width=\"50\" height=\"20\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("transform=\"rotate(-90 1 2)\""), std::string::npos);
  EXPECT_EQ(standalone(svg).rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg", 0), 0u);
}

TEST(Svg, PolylineNeedsTwoPoints) {
  Canvas canvas(10, 10);
  canvas.polyline({{1, 1}}, {.stroke = "red"});
  EXPECT_EQ(canvas.str("x").find("<polyline"), std::string::npos);
}

TEST(Ticks, StepsOfOneTwoFiveCoverTheRange) {
  const Ticks t = nice_ticks(0.0, 100.0, 5);
  EXPECT_EQ(t.step, 20.0);
  EXPECT_EQ(t.values, (std::vector<double>{0, 20, 40, 60, 80, 100}));
  EXPECT_EQ(t.decimals, 0);

  const Ticks u = nice_ticks(3.21, 3.74, 6);
  EXPECT_DOUBLE_EQ(u.step, 0.1);
  EXPECT_LE(u.values.front(), 3.21);
  EXPECT_GE(u.values.back(), 3.74);
  EXPECT_EQ(u.decimals, 1);
  EXPECT_EQ(tick_label(u.values.front(), u.decimals), "3.2");

  const Ticks v = nice_ticks(-0.13, 0.42, 6);
  EXPECT_DOUBLE_EQ(v.step, 0.1);
  EXPECT_EQ(tick_label(v.values[2], v.decimals), "0.0");  // -0.2 + 2 * 0.1: not "-0.0" or "0.00000000000000001"

  const Ticks layers = nice_ticks(0, 3, 8, true);
  EXPECT_EQ(layers.step, 1.0);
  EXPECT_EQ(layers.values, (std::vector<double>{0, 1, 2, 3}));

  const Ticks flat = nice_ticks(2.0, 2.0, 5);  // one value: still a usable axis
  EXPECT_GE(flat.values.size(), 2u);
}

TEST(Charts, BarChartMarksAbsentBarsAndEscapesLabels) {
  BarChart chart{.title = "Acc <by> \"category\" & more", .y_label = "accuracy (%)", .y = Range{0, 100}};
  chart.bars = {{"Chat", 91.26, true, false, "Chat: 91.26%"},
                {"Chat Hard", 0.0, false, false, ""},
                {"Safety & <x>", 50.0, true, false, "s"},
                {"Overall", 70.6, true, true, "o"}};
  const std::string svg = bar_chart(chart);
  EXPECT_EQ(test::check_xml(svg), "") << svg;
  EXPECT_NE(svg.find(">Acc &lt;by&gt; &quot;category&quot; &amp; more</text>"), std::string::npos);
  EXPECT_NE(svg.find(">n/a</text>"), std::string::npos);
  EXPECT_NE(svg.find(">91.3</text>"), std::string::npos);
  EXPECT_NE(svg.find("Safety &amp; &lt;x&gt;"), std::string::npos);
  EXPECT_EQ(count(svg, "<title>"), 4u);  // the chart's and three bars' tooltips
  EXPECT_EQ(count(svg, "fill=\"" + std::string(kOrange) + "\""), 1u);
}

TEST(Charts, HistogramDrawsOneBarPerBin) {
  Histogram chart{.title = "Margins", .x_label = "chosen - rejected", .edges = {-2, -1, 0, 1, 2},
                  .counts = {1, 4, 9, 3}, .marker_x = 0.0, .marker_label = "tie"};
  const std::string svg = histogram(chart);
  EXPECT_EQ(test::check_xml(svg), "") << svg;
  EXPECT_EQ(count(svg, "<rect"), 1u + 4u);  // the background and four bins
  EXPECT_NE(svg.find("stroke-dasharray=\"5,4\""), std::string::npos);
  EXPECT_NE(svg.find(">tie</text>"), std::string::npos);
}

TEST(Charts, HistogramWithoutBinsIsStillADocument) {
  const std::string svg = histogram({.title = "empty"});
  EXPECT_EQ(test::check_xml(svg), "") << svg;
}

TEST(Charts, LineBreaksAtUndefinedPointsAndCalloutShows) {
  Series s{.name = "rho"};
  s.points = {{0, 0.1}, {1, 0.2}, {2, std::nan("")}, {3, 0.3}, {4, 0.25}};
  XYChart chart{.title = "layers", .x_label = "layer", .y_label = "Spearman"};
  chart.series.push_back(s);
  chart.integer_x = true;
  chart.callouts.push_back({{3, 0.3}, "best: layer 3"});
  const std::string svg = xy_chart(chart);
  EXPECT_EQ(test::check_xml(svg), "") << svg;
  EXPECT_EQ(count(svg, "<polyline"), 2u);           // 0-1 and 3-4
  EXPECT_EQ(count(svg, "<circle"), 4u + 1u);        // four defined markers and the callout ring
  EXPECT_NE(svg.find(">best: layer 3</text>"), std::string::npos);
}

TEST(Charts, ScatterWithErrorBarsLabelsAndLegend) {
  Series points{.name = "items", .line = false, .marker_radius = 2, .opacity = 0.3};
  points.points = {{1, 2}, {2, 3}, {3, 5}};
  Series means{.name = "means", .color = kOrange};
  means.points = {{1.5, 2.5}, {2.5, 4}};
  means.y_errors = {{2, 3}, {3.5, 4.5}};
  means.point_labels = {"n=2", "n=<1>"};
  XYChart chart{.title = "scatter", .x_label = "x", .y_label = "y"};
  chart.series = {points, means};
  chart.y_reference = 3.0;
  const std::string svg = xy_chart(chart);
  EXPECT_EQ(test::check_xml(svg), "") << svg;
  EXPECT_NE(svg.find(">n=&lt;1&gt;</text>"), std::string::npos);
  EXPECT_NE(svg.find(">items</text>"), std::string::npos);  // legend entries
  EXPECT_NE(svg.find(">means</text>"), std::string::npos);
  EXPECT_EQ(count(svg, "opacity=\"0.3\""), 3u);
}

}  // namespace
}  // namespace arbiter::eval::svg
