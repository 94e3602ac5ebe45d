// An eval report as files people read: report.json (every number), report.md (tables, figures linked),
// one standalone .svg per figure, and report.html (one self-contained page: inline SVG and CSS, no
// scripts, no external resources, so it opens offline; it is also well-formed XML). The builders for
// each eval command are declared in report_builders.h.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"

namespace arbiter::eval {

struct ReportTable {
  std::string caption{};
  std::vector<std::string> header{};
  std::vector<std::vector<std::string>> rows{};  // each as long as header
  std::vector<bool> numeric{};                   // per column: right-aligned; empty: first column text, rest numbers
};

struct ReportFigure {
  std::string id{};  // file stem (<id>.svg) and the HTML element id; [a-z0-9_-] only
  std::string caption{};
  std::string svg{};  // one <svg> element, from svg::Canvas::str
};

// Rendered in this order: title, paragraphs, figures, tables.
struct ReportSection {
  std::string id{};  // <section id="...">
  std::string title{};
  std::vector<std::string> paragraphs{};  // plain text, escaped on output
  std::vector<ReportFigure> figures{};
  std::vector<ReportTable> tables{};
};

struct Report {
  std::string title{};
  std::vector<std::string> notes{};  // under the title: inputs, options
  nlohmann::json data{};             // report.json
  std::vector<ReportSection> sections{};
};

std::string render_markdown(const Report& report);
std::string render_html(const Report& report);

// Writes report.json, report.md, report.html and <figure id>.svg into `dir`, creating it. Errors name the file.
Status write_report(const Report& report, const std::string& dir);

// A number for a table cell: fixed decimals, "n/a" for NaN.
std::string report_number(double value, int decimals);

// A double for report.json: null when NaN or infinite (JSON has no NaN).
nlohmann::json json_number(double value);

}  // namespace arbiter::eval
