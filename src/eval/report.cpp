#include "eval/report.h"

#include <string_view>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include "core/atomic_file.h"
#include "core/mapped_file.h"
#include "eval/svg.h"

namespace arbiter::eval {
namespace {

// Self-contained styling: system fonts only, nothing fetched.
constexpr const char* kCss = R"(
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; color: #222;
       margin: 0; background: #f6f7f9; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #e3e6ea; }
p.note { margin: 2px 0; color: #555; font-size: 13px; word-break: break-all; }
section p { font-size: 14px; line-height: 1.45; }
figure { margin: 16px 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #e3e6ea; }
figcaption { font-size: 13px; color: #555; margin-top: 4px; }
table { border-collapse: collapse; margin: 12px 0; font-size: 14px; }
caption { text-align: left; font-weight: bold; padding-bottom: 6px; }
th, td { border: 1px solid #d5d9de; padding: 4px 10px; }
th { background: #eef1f5; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafbfc; }
)";

bool column_numeric(const ReportTable& table, size_t column) {
  if (column < table.numeric.size()) return table.numeric[column];
  return table.numeric.empty() && column > 0;
}

// Text from the data (file names, subset and system names) written into Markdown: its punctuation that
// Markdown would read as markup (emphasis, code, links, raw HTML, a table's cell break) is escaped, and a
// line break would end the cell or list item, so it is a space.
std::string markdown_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\`*_[]<>|&#").find(c) != std::string_view::npos) {
      out += '\\';
      out += c;
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

void markdown_table(std::string& out, const ReportTable& table) {
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string here.
  if (!table.caption.empty()) out.append("**").append(markdown_cell(table.caption)).append("**\n\n");
  out += "|";
  for (const auto& h : table.header) out.append(" ").append(markdown_cell(h)).append(" |");
  out += "\n|";
  for (size_t c = 0; c < table.header.size(); ++c) out += column_numeric(table, c) ? " ---: |" : " --- |";
  out += "\n";
  for (const auto& row : table.rows) {
    out += "|";
    for (const auto& cell : row) out.append(" ").append(markdown_cell(cell)).append(" |");
    out += "\n";
  }
  out += "\n";
}

void html_table(std::string& out, const ReportTable& table) {
  out += "<table>\n";
  if (!table.caption.empty()) out += "<caption>" + svg::escape(table.caption) + "</caption>\n";
  out += "<thead><tr>";
  for (const auto& h : table.header) out += "<th>" + svg::escape(h) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    out += "<tr>";
    for (size_t c = 0; c < row.size(); ++c)
      out += std::string(column_numeric(table, c) ? "<td class=\"num\">" : "<td>") + svg::escape(row[c]) + "</td>";
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
}

}  // namespace

std::string report_number(double value, int decimals) {
  if (!std::isfinite(value)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

nlohmann::json json_number(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

std::string render_markdown(const Report& report) {
  std::string out = "# " + markdown_cell(report.title) + "\n\n";
  for (const auto& note : report.notes) out += "- " + markdown_cell(note) + "\n";
  if (!report.notes.empty()) out += "\n";
  for (const ReportSection& section : report.sections) {
    out += "## " + section.title + "\n\n";
    for (const auto& p : section.paragraphs) out += p + "\n\n";
    for (const ReportFigure& figure : section.figures)
      out += "![" + markdown_cell(figure.caption) + "](" + figure.id + ".svg)\n\n";
    for (const ReportTable& table : section.tables) markdown_table(out, table);
  }
  return out;
}

std::string render_html(const Report& report) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n";
  out += "<title>" + svg::escape(report.title) + "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n<main>\n";
  out += "<h1>" + svg::escape(report.title) + "</h1>\n";
  for (const auto& note : report.notes) out += "<p class=\"note\">" + svg::escape(note) + "</p>\n";
  for (const ReportSection& section : report.sections) {
    out += "<section id=\"" + svg::escape(section.id) + "\">\n<h2>" + svg::escape(section.title) + "</h2>\n";
    for (const auto& p : section.paragraphs) out += "<p>" + svg::escape(p) + "</p>\n";
    for (const ReportFigure& figure : section.figures) {
      out += "<figure id=\"fig-" + svg::escape(figure.id) + "\">\n" + figure.svg;
      if (!figure.caption.empty()) out += "<figcaption>" + svg::escape(figure.caption) + "</figcaption>\n";
      out += "</figure>\n";
    }
    for (const ReportTable& table : section.tables) html_table(out, table);
    out += "</section>\n";
  }
  out += "</main>\n</body>\n</html>\n";
  return out;
}

// The figure files an earlier report in `root` links from its report.md ("](ID.svg)"), so that a new
// report with other figures does not leave the old ones beside it.
std::set<std::string> figures_of_earlier_report(const std::filesystem::path& root) {
  std::set<std::string> figures;
  Result<std::string> markdown = read_file((root / "report.md").string());
  if (!markdown.is_ok()) return figures;
  for (size_t at = markdown->find("]("); at != std::string::npos; at = markdown->find("](", at + 2)) {
    const size_t end = markdown->find(".svg)", at + 2);
    if (end == std::string::npos) break;
    const std::string id = markdown->substr(at + 2, end - at - 2);
    if (!id.empty() && id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string::npos)
      figures.insert(id + ".svg");
  }
  return figures;
}

Status write_report(const Report& report, const std::string& dir) {
  const std::filesystem::path root(dir);
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) return error(dir + ": cannot create report directory: " + ec.message());
  // Every file is rendered first and the set is written as one: a failure part-way (a full disk) leaves
  // the folder's earlier report whole, not some of its files replaced.
  std::vector<std::pair<std::string, std::string>> files;
  try {
    files.emplace_back((root / "report.json").string(),
                       report.data.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  } catch (const std::exception& e) {
    return error((root / "report.json").string() + ": " + e.what());
  }
  files.emplace_back((root / "report.md").string(), render_markdown(report));
  std::set<std::string> figure_files;
  for (const ReportSection& section : report.sections)
    for (const ReportFigure& figure : section.figures) {
      figure_files.insert(figure.id + ".svg");
      files.emplace_back((root / (figure.id + ".svg")).string(), svg::standalone(figure.svg));
    }
  files.emplace_back((root / "report.html").string(), render_html(report));
  const std::set<std::string> earlier_figures = figures_of_earlier_report(root);
  std::vector<std::pair<std::string, std::string_view>> views(files.begin(), files.end());
  ARB_TRY(write_files_atomically(views));
  for (const std::string& stale : earlier_figures)
    if (!figure_files.count(stale)) std::filesystem::remove(root / stale, ec);
  return Status::ok();
}

}  // namespace arbiter::eval
