#include "eval/rm_bench.h"

#include <cmath>
#include <limits>

namespace arbiter::eval {

namespace {

// The matrix and its three regions for rows sharing k styles.
RmBenchScores score_rows(const std::vector<const RmBenchRow*>& rows, size_t k) {
  RmBenchScores s;
  s.n = rows.size();
  s.matrix.assign(k, std::vector<double>(k, 0.0));
  for (const RmBenchRow* row : rows)
    for (size_t i = 0; i < k; ++i)
      for (size_t j = 0; j < k; ++j)
        if (row->credit.empty() ? row->chosen[i] > row->rejected[j] : row->credit[i][j] > 0.5) s.matrix[i][j] += 1;
  double upper = 0, diagonal = 0, lower = 0;
  for (size_t i = 0; i < k; ++i)
    for (size_t j = 0; j < k; ++j) {
      s.matrix[i][j] /= double(s.n);
      if (i < j) upper += s.matrix[i][j];
      else if (i == j) diagonal += s.matrix[i][j];
      else lower += s.matrix[i][j];
    }
  const double triangle = double(k * (k - 1) / 2);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  s.hard = triangle > 0 ? upper / triangle : nan;
  s.easy = triangle > 0 ? lower / triangle : nan;
  s.normal = diagonal / double(k);
  s.average = (upper + diagonal + lower) / double(k * k);
  return s;
}

}  // namespace

std::string rm_bench_domain(const std::string& row_domain) {
  if (row_domain.rfind("safety", 0) == 0) return "safety";
  return row_domain.empty() ? "all" : row_domain;
}

Result<RmBenchReport> score_rm_bench(const std::vector<RmBenchRow>& rows) {
  if (rows.empty()) return error("no rows to score");
  RmBenchReport report;
  report.styles = rows.front().chosen.size();
  std::map<std::string, std::vector<const RmBenchRow*>> by_domain, by_subdomain;
  for (size_t r = 0; r < rows.size(); ++r) {
    const RmBenchRow& row = rows[r];
    if (row.chosen.empty() || row.chosen.size() != row.rejected.size() || row.chosen.size() != report.styles)
      return error("row " + std::to_string(r + 1) + ": " + std::to_string(row.chosen.size()) + " chosen and " +
                   std::to_string(row.rejected.size()) + " rejected scores; RM-Bench rows hold one of each per style, " +
                   std::to_string(report.styles) + " styles as the first row");
    if (!row.credit.empty() && row.credit.size() != report.styles)
      return error("row " + std::to_string(r + 1) + ": a comparison matrix of the wrong size");
    by_domain[rm_bench_domain(row.domain)].push_back(&row);
    if (row.domain.rfind("safety-", 0) == 0) by_subdomain[row.domain].push_back(&row);
  }
  for (const auto& [name, members] : by_domain) report.domains[name] = score_rows(members, report.styles);
  for (const auto& [name, members] : by_subdomain) report.subdomains[name] = score_rows(members, report.styles);
  report.overall.n = rows.size();
  for (const auto& [name, s] : report.domains) {
    report.overall.easy += s.easy / double(report.domains.size());
    report.overall.normal += s.normal / double(report.domains.size());
    report.overall.hard += s.hard / double(report.domains.size());
    report.overall.average += s.average / double(report.domains.size());
  }
  return report;
}

}  // namespace arbiter::eval
