#include "score/select.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>

#include "data/json_rows.h"
#include "data/row_digest.h"
#include "data/writer.h"

namespace arbiter {

const nlohmann::json* numeric_field(const nlohmann::json& row, const std::string& path) {
  const nlohmann::json* node = data::find_field(row, path);
  // A one-element list is its value (a one-output head's scores as a list), as the eval commands read it.
  if (node != nullptr && node->is_array() && node->size() == 1) node = &node->at(0);
  return node != nullptr && node->is_number() ? node : nullptr;
}

namespace {

Result<std::vector<nlohmann::json>> read_all(const std::string& path) {
  ARB_ASSIGN(auto reader, data::JsonRowReader::open(path));
  std::vector<nlohmann::json> rows;
  data::JsonRow row;
  for (;;) {
    ARB_ASSIGN(bool got, reader.next(row));
    if (!got) break;
    rows.push_back(std::move(row.value));
  }
  return rows;
}

}  // namespace

Result<SelectSummary> select_rows(const SelectOptions& o) {
  ARB_ASSIGN(std::vector<nlohmann::json> scored, read_all(o.scored_path));
  SelectSummary summary;
  summary.rows = scored.size();
  std::vector<size_t> candidates;
  std::vector<double> values(scored.size(), 0);
  if (o.has_threshold && !std::isfinite(o.threshold))
    return error("--threshold must be a finite number, not " + std::to_string(o.threshold));
  for (size_t i = 0; i < scored.size(); ++i) {
    const std::string where = o.scored_path + ":" + std::to_string(i + 1);
    if (!scored[i].is_object()) return error(where + ": a scored line must be a JSON object, not " + scored[i].type_name());
    const nlohmann::json* v = numeric_field(scored[i], o.field);
    if (v == nullptr) {
      // An error line, a row the run could not score that way, or a null (what `score` writes for a score
      // that is not finite): no score to rank by.
      const nlohmann::json* present = data::find_field(scored[i], o.field);
      if (!data::is_error_line(scored[i]) && present != nullptr && !present->is_null())
        return error(where + ": field '" + o.field + "' is not a number");
      ++summary.without_score;
      continue;
    }
    if (!std::isfinite(v->get<double>())) {
      ++summary.without_score;
      continue;
    }
    values[i] = v->get<double>();
    candidates.push_back(i);
  }
  // One row scored twice (shards concatenated with an overlap) would be kept, or counted, twice.
  std::map<std::string, size_t> scored_line;
  for (size_t i = 0; i < scored.size(); ++i)
    if (scored[i].contains("id"))
      if (const auto [it, fresh] = scored_line.emplace(data::row_id_string(scored[i]["id"]), i); !fresh)
        return error(o.scored_path + ": id '" + it->first + "' appears twice (lines " + std::to_string(it->second + 1) +
                     " and " + std::to_string(i + 1) + ")");
  if (candidates.empty() && !scored.empty())
    return error(o.scored_path + ": no line has a number in '" + o.field + "' (the fields a line has: " +
                 [&] {
                   std::string names;
                   for (const auto& [key, value] : scored.front().items()) names += (names.empty() ? "" : ", ") + key;
                   return names;
                 }() +
                 ")");
  if (candidates.empty()) return error(o.scored_path + ": no row has a numeric field '" + o.field + "'");

  // Best first; ties keep file order, so the selection is deterministic.
  std::stable_sort(candidates.begin(), candidates.end(), [&](size_t a, size_t b) {
    return o.bottom ? values[a] < values[b] : values[a] > values[b];
  });
  size_t keep = 0;
  if (o.has_threshold) {
    for (size_t i : candidates) keep += o.bottom ? values[i] <= o.threshold : values[i] >= o.threshold;
  } else {
    if (o.top.empty()) return error("give --top N, --top P% or --threshold X");
    try {
      if (o.top.back() == '%') {
        const double pct = std::stod(o.top.substr(0, o.top.size() - 1));
        if (!(pct > 0 && pct <= 100)) throw std::out_of_range(o.top);
        keep = size_t(std::ceil(pct / 100.0 * double(candidates.size())));
      } else {
        size_t used = 0;
        const long long n = std::stoll(o.top, &used);
        if (used != o.top.size() || n <= 0) throw std::out_of_range(o.top);
        keep = std::min(candidates.size(), size_t(n));
      }
    } catch (...) {
      return error("--top must be a positive count or a percentage in (0, 100], not '" + o.top + "'");
    }
  }
  std::vector<size_t> chosen(candidates.begin(), candidates.begin() + long(keep));
  summary.kept = keep;
  summary.cutoff = keep > 0 ? values[chosen.back()] : 0;
  std::sort(chosen.begin(), chosen.end());  // output in input order

  std::vector<nlohmann::json> source = scored;
  if (!o.data_path.empty()) {
    ARB_ASSIGN(source, read_all(o.data_path));
    // Match by id when the dataset has ids, else by position.
    const bool by_id = !source.empty() && source[0].is_object() && source[0].contains("id");
    // An id twice in the dataset would pick one of two rows silently (1 and "1" are one id, as the writer
    // compares them).
    std::map<std::string, size_t> index;
    if (by_id)
      for (size_t i = 0; i < source.size(); ++i)
        if (source[i].contains("id"))
          if (const auto [it, fresh] = index.emplace(data::row_id_string(source[i]["id"]), i); !fresh)
            return error(o.data_path + ": id '" + it->first + "' appears twice (rows " + std::to_string(it->second + 1) +
                         " and " + std::to_string(i + 1) + ")");
    std::vector<nlohmann::json> picked;
    for (size_t i : chosen) {
      const std::string id = scored[i].contains("id") ? data::row_id_string(scored[i]["id"]) : std::to_string(i);
      size_t at = i;
      if (by_id) {
        auto it = index.find(id);
        if (it == index.end()) return error(o.data_path + ": no row with id " + id + " (from " + o.scored_path + ")");
        at = it->second;
      } else {
        // A line with a row_digest is of a row without an id, whose id is its index in the dataset (a
        // shard's lines are every Nth row), and the digest says which row that was.
        const auto digest = scored[i].find("row_digest");
        const bool digested = digest != scored[i].end() && digest->is_string();
        if (digested && !id.empty() && id.size() < 19 && id.find_first_not_of("0123456789") == std::string::npos) at = std::stoull(id);
        if (at >= source.size())
          return error(o.data_path + ": has " + std::to_string(source.size()) + " rows; " + o.scored_path + ":" +
                       std::to_string(i + 1) + " is of row " + std::to_string(at));
        if (digested && data::row_digest(source[at], std::to_string(at)) != digest->get<std::string>())
          return error(o.data_path + ": row " + std::to_string(at) + " is not the row " + o.scored_path + ":" +
                       std::to_string(i + 1) + " scored (its row_digest differs): pass the dataset that was scored");
      }
      picked.push_back(source[at]);
    }
    source = std::move(picked);
  } else {
    std::vector<nlohmann::json> picked;
    for (size_t i : chosen) picked.push_back(scored[i]);
    source = std::move(picked);
  }
  ARB_ASSIGN(auto writer, data::JsonlWriter::open(o.output_path, data::whole_file()));
  for (const nlohmann::json& row : source) ARB_TRY(writer.write(row));
  ARB_TRY(writer.close());
  return summary;
}

}  // namespace arbiter
