// Charts for the eval reports, drawn with the SVG writer: axes with "nice" ticks, labels, bars,
// histograms, scatter and line plots. Each function returns one <svg> element.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "eval/svg.h"

namespace arbiter::eval::svg {

struct Range {
  double lo = 0.0, hi = 1.0;
};

// Tick positions at steps of 1, 2 or 5 times a power of ten, about `target` of them, covering [lo, hi]:
// the first tick is <= lo and the last >= hi. `decimals` is how many a label needs to tell ticks apart.
struct Ticks {
  std::vector<double> values{};
  double step = 1.0;
  int decimals = 0;
};
Ticks nice_ticks(double lo, double hi, int target = 6, bool integer_steps = false);
std::string tick_label(double value, int decimals);

inline const char* kBlue = "#3568b0";
inline const char* kOrange = "#e07b39";
inline const char* kRed = "#c0392b";
inline const char* kGray = "#888";

struct Bar {
  std::string label{};
  double value = 0.0;
  bool present = true;  // absent: no bar, "n/a" on the axis
  bool highlight = false;
  std::string tooltip{};
};

struct BarChart {
  std::string title{}, y_label{};
  std::vector<Bar> bars{};
  std::optional<Range> y{};  // default: 0 .. max value
  int value_decimals = 1;
};
std::string bar_chart(const BarChart& chart);

struct Histogram {
  std::string title{}, x_label{}, y_label = "count";
  std::vector<double> edges{};   // [k+1], increasing
  std::vector<size_t> counts{};  // [k]
  std::optional<double> marker_x{};  // a dashed vertical line, e.g. at 0 for margins
  std::string marker_label{};
};
std::string histogram(const Histogram& chart);

struct Series {
  std::string name{};             // shown in a legend when the chart has more than one named series
  std::vector<Point> points{};    // data coordinates; a NaN y breaks the line and draws no marker
  std::string color = kBlue;
  bool line = true;
  double marker_radius = 3.0;   // 0: no markers
  double opacity = 1.0;
  std::vector<Range> y_errors{};  // empty, or one [lo, hi] per point: vertical error bars
  std::vector<std::string> point_labels{};  // empty, or one per point, drawn above it
  std::vector<std::string> tooltips{};      // empty, or one per point
};

struct Callout {
  Point at;  // data coordinates
  std::string text{};
  std::string color = kRed;
};

struct XYChart {
  std::string title{}, x_label{}, y_label{};
  std::vector<Series> series{};
  std::vector<Callout> callouts{};  // a ringed point with a label
  std::optional<Range> x{}, y{};      // default: the data's extent
  bool integer_x = false;         // ticks at whole numbers only (layer indices)
  std::optional<double> y_reference{};  // a dashed horizontal line, e.g. at 0
};
std::string xy_chart(const XYChart& chart);

}  // namespace arbiter::eval::svg
