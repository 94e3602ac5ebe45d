// A small SVG writer for the eval reports: shapes and text appended to one <svg> element, every
// attribute value and text node escaped, every element closed. No dependency; the output is plain
// XML that a browser shows standalone (as a .svg file) or inline in HTML.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arbiter::eval::svg {

// Escapes & < > " ' for XML text and attribute values. Control characters that XML 1.0 forbids
// (all C0 but tab, newline, carriage return) are dropped: a subset name must not make the file unreadable.
std::string escape(std::string_view text);

// A number as an attribute value: up to 2 decimals, trailing zeros trimmed ("12", "3.5", "-0.25").
std::string num(double value);

struct Style {
  std::string fill = "none";
  std::string stroke = "none";
  double stroke_width = 1.0;
  double opacity = 1.0;
  std::string dash{};  // stroke-dasharray, empty for solid
};

enum class Anchor { kStart, kMiddle, kEnd };

struct TextStyle {
  double size = 12.0;
  Anchor anchor = Anchor::kStart;
  std::string fill = "#222";
  bool bold = false;
  double rotate = 0.0;  // degrees, about the text's (x, y)
};

struct Point {
  double x = 0.0, y = 0.0;
};

// One <svg> element being built. Coordinates are pixels, y down. Each shape takes an optional
// `title`: a <title> child, shown by browsers as a hover tooltip.
class Canvas {
 public:
  Canvas(double width, double height);

  double width() const { return width_; }
  double height() const { return height_; }

  void rect(double x, double y, double w, double h, const Style& style, std::string_view title = {});
  void line(Point from, Point to, const Style& style);
  void polyline(const std::vector<Point>& points, const Style& style);
  void circle(Point center, double radius, const Style& style, std::string_view title = {});
  void text(Point at, std::string_view content, const TextStyle& style = {});

  // The finished element, <svg xmlns=...> ... </svg>, with `label` as its aria-label and <title>.
  std::string str(std::string_view label) const;

 private:
  void shape(std::string_view tag, const std::vector<std::pair<std::string, std::string>>& attributes,
             const Style& style, std::string_view title);

  double width_, height_;
  std::string body_;
};

// A standalone .svg file's text: the XML declaration, then the element.
std::string standalone(const std::string& svg_element);

}  // namespace arbiter::eval::svg
