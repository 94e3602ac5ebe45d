#include "eval/svg.h"

#include <cmath>
#include <cstdio>

namespace arbiter::eval::svg {
namespace {

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is not one.
size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  unsigned min_code = 0;
  unsigned code = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, code = lead & 0x1F, min_code = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, code = lead & 0x0F, min_code = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, code = lead & 0x07, min_code = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  if (code < min_code || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

const char* anchor_name(Anchor anchor) {
  switch (anchor) {
    case Anchor::kMiddle: return "middle";
    case Anchor::kEnd: return "end";
    case Anchor::kStart: break;
  }
  return "start";
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      // Invalid UTF-8 would make the whole document unparseable; one replacement character stands in.
      const size_t length = utf8_sequence_length(text, i);
      if (length == 0) {
        out += "\xEF\xBF\xBD";
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') out += char(c);
    }
    ++i;
  }
  return out;
}

std::string num(double value) {
  if (!std::isfinite(value)) return "0";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", value);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

Canvas::Canvas(double width, double height) : width_(width), height_(height) {}

void Canvas::shape(std::string_view tag, const std::vector<std::pair<std::string, std::string>>& attributes,
                   const Style& style, std::string_view title) {
  body_ += "<";
  body_ += tag;
  for (const auto& [name, value] : attributes) body_ += " " + name + "=\"" + escape(value) + "\"";
  body_ += " fill=\"" + escape(style.fill) + "\"";
  if (style.stroke != "none") {
    body_ += " stroke=\"" + escape(style.stroke) + "\" stroke-width=\"" + num(style.stroke_width) + "\"";
    if (!style.dash.empty()) body_ += " stroke-dasharray=\"" + escape(style.dash) + "\"";
  }
  if (style.opacity < 1.0) body_ += " opacity=\"" + num(style.opacity) + "\"";
  if (title.empty()) {
    body_ += "/>\n";
  } else {
    body_ += "><title>" + escape(title) + "</title></";
    body_ += tag;
    body_ += ">\n";
  }
}

void Canvas::rect(double x, double y, double w, double h, const Style& style, std::string_view title) {
  // A negative extent is not drawn by SVG at all; normalise so a bar below the axis still shows.
  if (w < 0) x += w, w = -w;
  if (h < 0) y += h, h = -h;
  shape("rect", {{"x", num(x)}, {"y", num(y)}, {"width", num(w)}, {"height", num(h)}}, style, title);
}

void Canvas::line(Point from, Point to, const Style& style) {
  shape("line", {{"x1", num(from.x)}, {"y1", num(from.y)}, {"x2", num(to.x)}, {"y2", num(to.y)}}, style, {});
}

void Canvas::polyline(const std::vector<Point>& points, const Style& style) {
  if (points.size() < 2) return;
  std::string coords;
  for (const Point& p : points) {
    if (!coords.empty()) coords += ' ';
    coords.append(num(p.x)).append(",").append(num(p.y));
  }
  shape("polyline", {{"points", coords}}, style, {});
}

void Canvas::circle(Point center, double radius, const Style& style, std::string_view title) {
  shape("circle", {{"cx", num(center.x)}, {"cy", num(center.y)}, {"r", num(radius)}}, style, title);
}

void Canvas::text(Point at, std::string_view content, const TextStyle& style) {
  body_ += "<text x=\"" + num(at.x) + "\" y=\"" + num(at.y) + "\" font-size=\"" + num(style.size) +
           "\" text-anchor=\"" + anchor_name(style.anchor) + "\" fill=\"" + escape(style.fill) + "\"";
  if (style.bold) body_ += " font-weight=\"bold\"";
  if (style.rotate != 0.0)
    body_ += " transform=\"rotate(" + num(style.rotate) + " " + num(at.x) + " " + num(at.y) + ")\"";
  body_.append(">").append(escape(content)).append("</text>\n");  // appended: GCC 12's -Wrestrict misfires on ">" + s
}

std::string Canvas::str(std::string_view label) const {
  const std::string w = num(width_), h = num(height_);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" + h + "\" viewBox=\"0 0 " + w +
         " " + h + "\" role=\"img\" aria-label=\"" + escape(label) +
         "\" font-family=\"DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif\">\n<title>" + escape(label) +
         "</title>\n<rect x=\"0\" y=\"0\" width=\"" + w + "\" height=\"" + h + "\" fill=\"#fff\"/>\n" + body_ +
         "</svg>\n";
}

std::string standalone(const std::string& svg_element) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg_element;
}

}  // namespace arbiter::eval::svg
