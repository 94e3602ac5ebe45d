#include "eval/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <tuple>

namespace arbiter::eval::svg {
namespace {

constexpr double kWidth = 720, kHeight = 420;
constexpr double kLeft = 70, kRight = 24, kTop = 44, kBottom = 62;

const Style kGrid{.fill = "none", .stroke = "#e3e3e3", .stroke_width = 1.0};
const Style kAxis{.fill = "none", .stroke = "#333", .stroke_width = 1.0};

// The plotting area and the data-to-pixel mapping of one chart.
struct Frame {
  Range x, y;
  double left = kLeft, right = kWidth - kRight, top = kTop, bottom = kHeight - kBottom;

  double px(double v) const { return left + (v - x.lo) / (x.hi - x.lo) * (right - left); }
  double py(double v) const { return bottom - (v - y.lo) / (y.hi - y.lo) * (bottom - top); }
  Point at(Point p) const { return {px(p.x), py(p.y)}; }
};

// A degenerate range (one value) is widened so the mapping does not divide by zero.
Range widen(Range r) {
  if (!(r.hi > r.lo)) {
    const double pad = r.lo == 0.0 ? 1.0 : std::fabs(r.lo) * 0.1;
    return {r.lo - pad, r.hi + pad};
  }
  return r;
}

void draw_title(Canvas& canvas, const std::string& title) {
  canvas.text({kLeft, 24}, title, {.size = 15, .anchor = Anchor::kStart, .fill = "#111", .bold = true});
}

void draw_y_axis(Canvas& canvas, const Frame& f, const Ticks& ticks, const std::string& label) {
  for (double v : ticks.values) {
    if (v < f.y.lo - 1e-9 * (f.y.hi - f.y.lo) || v > f.y.hi + 1e-9 * (f.y.hi - f.y.lo)) continue;
    const double y = f.py(v);
    canvas.line({f.left, y}, {f.right, y}, kGrid);
    canvas.line({f.left - 5, y}, {f.left, y}, kAxis);
    canvas.text({f.left - 8, y + 4}, tick_label(v, ticks.decimals), {.size = 11, .anchor = Anchor::kEnd});
  }
  canvas.line({f.left, f.top}, {f.left, f.bottom}, kAxis);
  const double mid = (f.top + f.bottom) / 2;
  canvas.text({18, mid}, label, {.size = 12, .anchor = Anchor::kMiddle, .rotate = -90});
}

void draw_x_axis(Canvas& canvas, const Frame& f, const Ticks& ticks, const std::string& label) {
  for (double v : ticks.values) {
    if (v < f.x.lo - 1e-9 * (f.x.hi - f.x.lo) || v > f.x.hi + 1e-9 * (f.x.hi - f.x.lo)) continue;
    const double x = f.px(v);
    canvas.line({x, f.bottom}, {x, f.bottom + 5}, kAxis);
    canvas.text({x, f.bottom + 19}, tick_label(v, ticks.decimals), {.size = 11, .anchor = Anchor::kMiddle});
  }
  canvas.line({f.left, f.bottom}, {f.right, f.bottom}, kAxis);
  canvas.text({(f.left + f.right) / 2, kHeight - 16}, label, {.size = 12, .anchor = Anchor::kMiddle});
}

// Axis range and ticks for the data extent [lo, hi]: the ticks' span, so the data never touches a frame edge
// without a tick there.
std::pair<Range, Ticks> axis_for(Range data, std::optional<Range> fixed, int target, bool integer_steps) {
  const Range r = widen(fixed ? *fixed : data);
  Ticks ticks = nice_ticks(r.lo, r.hi, target, integer_steps);
  if (fixed) return {r, ticks};
  return {Range{ticks.values.front(), ticks.values.back()}, ticks};
}

}  // namespace

Ticks nice_ticks(double lo, double hi, int target, bool integer_steps) {
  Ticks ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0.0, hi = 1.0;
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) hi = lo + 1.0;
  const double raw = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw * 0.999) break;
  }
  if (integer_steps) step = std::max(1.0, std::round(step));
  const double first = std::floor(lo / step + 1e-9) * step;
  const double last = std::ceil(hi / step - 1e-9) * step;
  const int count = int(std::llround((last - first) / step));
  for (int i = 0; i <= count; ++i) {
    double v = first + i * step;
    if (std::fabs(v) < step * 1e-9) v = 0.0;  // -0 and 1e-17 print as 0
    ticks.values.push_back(v);
  }
  ticks.step = step;
  ticks.decimals = std::max(0, int(-std::floor(std::log10(step) + 1e-9)));
  return ticks;
}

std::string tick_label(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  std::string s = buf;
  if (s.find_first_not_of("-0.") == std::string::npos) s = decimals > 0 ? "0." + std::string(decimals, '0') : "0";
  return s;
}

std::string bar_chart(const BarChart& chart) {
  Canvas canvas(kWidth, kHeight);
  draw_title(canvas, chart.title);
  double max_value = 0.0, min_value = 0.0;
  for (const Bar& b : chart.bars)
    if (b.present && std::isfinite(b.value)) {
      max_value = std::max(max_value, b.value);
      min_value = std::min(min_value, b.value);
    }
  Frame f;
  Ticks ticks;
  std::tie(f.y, ticks) = axis_for({min_value, max_value}, chart.y, 5, false);
  f.x = {0.0, double(std::max<size_t>(1, chart.bars.size()))};
  draw_y_axis(canvas, f, ticks, chart.y_label);
  canvas.line({f.left, f.bottom}, {f.right, f.bottom}, kAxis);
  const double slot = (f.right - f.left) / std::max<size_t>(1, chart.bars.size());
  const double bar_width = std::min(90.0, slot * 0.62);
  const double baseline = f.py(std::clamp(0.0, f.y.lo, f.y.hi));
  for (size_t i = 0; i < chart.bars.size(); ++i) {
    const Bar& b = chart.bars[i];
    const double center = f.left + slot * (double(i) + 0.5);
    canvas.text({center, f.bottom + 19}, b.label, {.size = 12, .anchor = Anchor::kMiddle});
    if (!b.present || !std::isfinite(b.value)) {
      canvas.text({center, baseline - 6}, "n/a", {.size = 11, .anchor = Anchor::kMiddle, .fill = kGray});
      continue;
    }
    const double top = f.py(std::clamp(b.value, f.y.lo, f.y.hi));
    const Style style{.fill = b.highlight ? kOrange : kBlue};
    canvas.rect(center - bar_width / 2, top, bar_width, baseline - top, style, b.tooltip);
    const double label_y = b.value >= 0 ? top - 6 : top + 14;
    canvas.text({center, label_y}, tick_label(b.value, chart.value_decimals),
                {.size = 12, .anchor = Anchor::kMiddle, .bold = true});
  }
  return canvas.str(chart.title);
}

std::string histogram(const Histogram& chart) {
  Canvas canvas(kWidth, kHeight);
  draw_title(canvas, chart.title);
  Frame f;
  Ticks x_ticks, y_ticks;
  size_t max_count = 0;
  for (size_t c : chart.counts) max_count = std::max(max_count, c);
  const bool has_bins = chart.edges.size() >= 2 && chart.counts.size() + 1 == chart.edges.size();
  Range data_x = has_bins ? Range{chart.edges.front(), chart.edges.back()} : Range{0.0, 1.0};
  if (chart.marker_x) data_x = {std::min(data_x.lo, *chart.marker_x), std::max(data_x.hi, *chart.marker_x)};
  // The x axis spans the bins exactly: widening it to round ticks would leave empty space beside the bars.
  std::tie(f.x, x_ticks) = axis_for(data_x, data_x, 8, false);
  std::tie(f.y, y_ticks) = axis_for({0.0, double(std::max<size_t>(1, max_count))}, std::nullopt, 5, true);
  draw_y_axis(canvas, f, y_ticks, chart.y_label);
  if (has_bins) {
    for (size_t i = 0; i < chart.counts.size(); ++i) {
      const double x0 = f.px(chart.edges[i]), x1 = f.px(chart.edges[i + 1]);
      const double top = f.py(double(chart.counts[i]));
      std::string tip = "[";
      tip.append(tick_label(chart.edges[i], x_ticks.decimals + 2)).append(", ");
      // Bins are half-open but the last, which holds the maximum.
      tip.append(tick_label(chart.edges[i + 1], x_ticks.decimals + 2)).append(i + 1 == chart.counts.size() ? "]: " : "): ");
      tip.append(std::to_string(chart.counts[i]));
      canvas.rect(x0 + 0.5, top, std::max(0.5, x1 - x0 - 1.0), f.bottom - top,
                  {.fill = kBlue, .stroke = "none", .opacity = 0.85}, tip);
    }
  }
  draw_x_axis(canvas, f, x_ticks, chart.x_label);
  if (chart.marker_x) {
    const double x = f.px(*chart.marker_x);
    canvas.line({x, f.top}, {x, f.bottom}, {.stroke = kRed, .stroke_width = 1.5, .dash = "5,4"});
    if (!chart.marker_label.empty())
      canvas.text({x + 5, f.top + 12}, chart.marker_label, {.size = 11, .fill = kRed});
  }
  return canvas.str(chart.title);
}

std::string xy_chart(const XYChart& chart) {
  Canvas canvas(kWidth, kHeight);
  draw_title(canvas, chart.title);
  Range data_x{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  Range data_y = data_x;
  const auto extend = [](Range& r, double v) {
    if (!std::isfinite(v)) return;
    r.lo = std::min(r.lo, v), r.hi = std::max(r.hi, v);
  };
  for (const Series& s : chart.series) {
    for (size_t i = 0; i < s.points.size(); ++i) {
      if (!std::isfinite(s.points[i].y)) continue;
      extend(data_x, s.points[i].x);
      extend(data_y, s.points[i].y);
      if (i < s.y_errors.size() && std::isfinite(s.y_errors[i].lo) && std::isfinite(s.y_errors[i].hi))
        extend(data_y, s.y_errors[i].lo), extend(data_y, s.y_errors[i].hi);
    }
  }
  if (chart.y_reference) extend(data_y, *chart.y_reference);
  if (!(data_x.lo <= data_x.hi)) data_x = {0.0, 1.0};
  if (!(data_y.lo <= data_y.hi)) data_y = {0.0, 1.0};
  Frame f;
  Ticks x_ticks, y_ticks;
  // The data plus a small margin, so markers at the extremes are not cut by the frame; ticks fall inside.
  const auto padded = [](Range r) {
    r = widen(r);
    const double pad = 0.04 * (r.hi - r.lo);
    return Range{r.lo - pad, r.hi + pad};
  };
  std::tie(f.x, x_ticks) = axis_for(data_x, chart.x ? *chart.x : padded(data_x), 8, chart.integer_x);
  std::tie(f.y, y_ticks) = axis_for(data_y, chart.y ? *chart.y : padded(data_y), 6, false);
  draw_y_axis(canvas, f, y_ticks, chart.y_label);
  draw_x_axis(canvas, f, x_ticks, chart.x_label);
  if (chart.y_reference) {
    const double y = f.py(*chart.y_reference);
    canvas.line({f.left, y}, {f.right, y}, {.stroke = kGray, .stroke_width = 1.0, .dash = "4,4"});
  }
  for (const Series& s : chart.series) {
    if (s.line) {
      std::vector<Point> run;  // consecutive defined points; a NaN ends the run
      for (const Point& p : s.points) {
        if (std::isfinite(p.y)) {
          run.push_back(f.at(p));
          continue;
        }
        canvas.polyline(run, {.stroke = s.color, .stroke_width = 2.0, .opacity = s.opacity});
        run.clear();
      }
      canvas.polyline(run, {.stroke = s.color, .stroke_width = 2.0, .opacity = s.opacity});
    }
    for (size_t i = 0; i < s.points.size(); ++i) {
      const Point p = s.points[i];
      if (!std::isfinite(p.y) || !std::isfinite(p.x)) continue;
      const Point at = f.at(p);
      // A point without an error bar (its spread unknown: one observation) has NaN ends.
      const bool whiskers = i < s.y_errors.size() && std::isfinite(s.y_errors[i].lo) && std::isfinite(s.y_errors[i].hi);
      if (whiskers) {
        const Style whisker{.stroke = s.color, .stroke_width = 1.2, .opacity = s.opacity};
        const double lo = f.py(s.y_errors[i].lo), hi = f.py(s.y_errors[i].hi);
        canvas.line({at.x, lo}, {at.x, hi}, whisker);
        canvas.line({at.x - 4, lo}, {at.x + 4, lo}, whisker);
        canvas.line({at.x - 4, hi}, {at.x + 4, hi}, whisker);
      }
      if (s.marker_radius > 0)
        canvas.circle(at, s.marker_radius, {.fill = s.color, .opacity = s.opacity},
                      i < s.tooltips.size() ? std::string_view(s.tooltips[i]) : std::string_view());
      if (i < s.point_labels.size() && !s.point_labels[i].empty()) {
        const double above = whiskers ? std::min(at.y, f.py(s.y_errors[i].hi)) : at.y;
        canvas.text({at.x, above - 8}, s.point_labels[i], {.size = 10, .anchor = Anchor::kMiddle, .fill = "#555"});
      }
    }
  }
  for (const Callout& c : chart.callouts) {
    const Point at = f.at(c.at);
    canvas.circle(at, 7, {.stroke = c.color, .stroke_width = 2.0});
    const bool right_half = at.x > (f.left + f.right) / 2;
    canvas.text({right_half ? at.x - 10 : at.x + 10, at.y - 10}, c.text,
                {.size = 12, .anchor = right_half ? Anchor::kEnd : Anchor::kStart, .fill = c.color, .bold = true});
  }
  std::vector<const Series*> named;
  for (const Series& s : chart.series)
    if (!s.name.empty()) named.push_back(&s);
  if (named.size() > 1) {
    // One row in the top margin, right-aligned, so it never covers data.
    double x = f.right;
    for (auto it = named.rbegin(); it != named.rend(); ++it) {
      x -= 7.0 * double((*it)->name.size()) + 18.0;
      canvas.rect(x, 14, 11, 11, {.fill = (*it)->color});
      canvas.text({x + 15, 24}, (*it)->name, {.size = 11});
      x -= 14.0;
    }
  }
  return canvas.str(chart.title);
}

}  // namespace arbiter::eval::svg
