#include "score/select.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <string_view>
#include <unordered_map>

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

// What select keeps of one scored line: its score and what finds its dataset row. The lines themselves
// are not held (a parsed JSON line takes 4-22 times its text): the kept ones are read again to be written.
struct ScoredLine {
  double value = 0;
  bool has_value = false;
  bool has_id = false;
  std::string id;          // row_id_string of its "id"
  std::string row_digest;  // its "row_digest" (written for rows without an id of their own), or ""
};

struct ScoredIndex {
  std::deque<ScoredLine> lines;  // a deque: the id map below holds views of the lines' ids
  std::vector<size_t> candidates;  // lines with a finite score
  size_t without_score = 0;
  std::string first_line_keys;  // for the message when no line has the field
};

Result<ScoredIndex> index_scored(const SelectOptions& o) {
  ARB_ASSIGN(auto reader, data::JsonRowReader::open(o.scored_path));
  ScoredIndex index;
  // One row scored twice (shards concatenated with an overlap) would be kept, or counted, twice.
  std::unordered_map<std::string_view, size_t> line_of_id;
  data::JsonRow row;
  for (;;) {
    ARB_ASSIGN(bool got, reader.next(row));
    if (!got) break;
    const size_t i = index.lines.size();
    const nlohmann::json& scored = row.value;
    if (!scored.is_object())
      return error(reader.where(row) + ": a scored line must be a JSON object, not " + scored.type_name());
    if (i == 0)
      for (const auto& [key, value] : scored.items()) index.first_line_keys += (index.first_line_keys.empty() ? "" : ", ") + key;
    ScoredLine& line = index.lines.emplace_back();
    if (const nlohmann::json* v = numeric_field(scored, o.field)) {
      line.value = v->get<double>();
      line.has_value = std::isfinite(line.value);
    } else {
      // An error line, a row the run could not score that way, or a null (what `score` writes for a score
      // that is not finite): no score to rank by.
      const nlohmann::json* present = data::find_field(scored, o.field);
      if (!data::is_error_line(scored) && present != nullptr && !present->is_null())
        return error(reader.where(row) + ": field '" + o.field + "' is not a number");
    }
    if (line.has_value) index.candidates.push_back(i); else ++index.without_score;
    if (const auto id = scored.find("id"); id != scored.end()) {
      line.has_id = true;
      line.id = data::row_id_string(*id);
      if (const auto [it, fresh] = line_of_id.emplace(line.id, i); !fresh)
        return error(o.scored_path + ": id '" + line.id + "' appears twice (lines " + std::to_string(it->second + 1) +
                     " and " + std::to_string(i + 1) + ")");
    }
    if (const auto digest = scored.find("row_digest"); digest != scored.end() && digest->is_string())
      line.row_digest = digest->get<std::string>();
  }
  return index;
}

// How many of the ranked candidates --top or --threshold keeps.
Result<size_t> rows_to_keep(const SelectOptions& o, const std::vector<size_t>& ranked, const ScoredIndex& index) {
  if (o.has_threshold) {
    size_t keep = 0;
    for (size_t i : ranked) keep += o.bottom ? index.lines[i].value <= o.threshold : index.lines[i].value >= o.threshold;
    return keep;
  }
  if (o.top.empty()) return error("give --top N, --top P% or --threshold X");
  const std::string bad = "--top must be a positive count or a percentage in (0, 100], not '" + o.top + "'";
  if (o.top.back() == '%') {
    // P% of n rows, rounded up, computed exactly: in floating point 7% of 100 is 7.000000000000001,
    // which rounds up to 8. P is a decimal with up to 9 places: P% of n = digits * n / (100 * 10^places).
    const std::string number = o.top.substr(0, o.top.size() - 1);
    const size_t point = number.find('.');
    const std::string whole = number.substr(0, point), fraction = point == std::string::npos ? "" : number.substr(point + 1);
    const auto all_digits = [](const std::string& t) { return t.find_first_not_of("0123456789") == std::string::npos; };
    if ((whole.empty() && fraction.empty()) || !all_digits(whole) || !all_digits(fraction) || whole.size() > 3 ||
        fraction.size() > 9 || (point != std::string::npos && fraction.empty()))
      return error(bad);
    unsigned __int128 digits = 0, scale = 100;
    for (char c : whole + fraction) digits = digits * 10 + unsigned(c - '0');
    for (size_t i = 0; i < fraction.size(); ++i) scale *= 10;
    if (digits == 0 || digits > scale) return error(bad);
    return size_t((digits * ranked.size() + scale - 1) / scale);
  }
  size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(o.top, &used);
  } catch (...) {
    return error(bad);
  }
  if (used != o.top.size() || n <= 0) return error(bad);
  return std::min(ranked.size(), size_t(n));
}

// Writes the chosen scored lines (line indices, ascending), read again from the file. A line that no longer
// reads as it did (the file was rewritten meanwhile) is an error, not another row written.
Status write_scored_lines(const SelectOptions& o, const ScoredIndex& index, const std::vector<size_t>& chosen,
                          data::JsonlWriter& writer) {
  ARB_ASSIGN(auto reader, data::JsonRowReader::open(o.scored_path));
  data::JsonRow row;
  size_t line = 0;
  for (size_t want : chosen) {
    for (;; ++line) {
      ARB_ASSIGN(bool got, reader.next(row));
      if (!got)
        return error(o.scored_path + ": ended before line " + std::to_string(want + 1) +
                     " on the second read: the file changed while select read it");
      if (line == want) break;
    }
    ++line;
    const nlohmann::json* v = row.value.is_object() ? numeric_field(row.value, o.field) : nullptr;
    if (v == nullptr || v->get<double>() != index.lines[want].value)
      return error(reader.where(row) + ": not the line select ranked (its '" + o.field +
                   "' differs): the file changed while select read it");
    ARB_TRY(writer.write(row.value, row.text));
  }
  return Status::ok();
}

// Writes the output rows in the order of their slots as they arrive in any order: a row whose turn has
// come is written at once, one ahead of its turn waits as text. Datasets in the scored file's order (the
// usual case) hold nothing; shards' lines (every Nth row) hold at most the rows between turns.
class SlotWriter {
 public:
  SlotWriter(data::JsonlWriter& writer, size_t slots) : writer_(writer), filled_(slots, false) {}

  // `text`: the row's line as read (JsonRow::text), written as it is; empty for rows of other formats.
  Status place(size_t slot, const nlohmann::json& row, const std::string& text) {
    filled_[slot] = true;
    if (slot != next_) {
      waiting_.emplace(slot, text.empty() ? data::dump_json(row) : text);
      return Status::ok();
    }
    ARB_TRY(writer_.write(row, text));
    ++next_;
    for (auto it = waiting_.begin(); it != waiting_.end() && it->first == next_; it = waiting_.erase(it), ++next_) {
      ARB_ASSIGN(nlohmann::json waited, data::parse_json(it->second));
      ARB_TRY(writer_.write(waited, it->second));
    }
    return Status::ok();
  }
  bool filled(size_t slot) const { return filled_[slot]; }
  // The first slot no row came for, or the slot count when all came.
  size_t first_empty() const { return size_t(std::find(filled_.begin(), filled_.end(), false) - filled_.begin()); }

 private:
  data::JsonlWriter& writer_;
  std::vector<bool> filled_;
  std::map<size_t, std::string> waiting_;
  size_t next_ = 0;
};

// Writes --data's rows for the chosen scored lines, in the scored lines' order. A dataset row is known as
// the scoring run knew it: by its id (--field id=NAME names the field, as for the scoring run), or, having
// none, by its index in the dataset; a scored line by its "id". A scored line without an id (a file made
// elsewhere) is of the dataset row at its own position. A line with a row_digest (written for a row
// without an id of its own) is checked against the row it is matched with. The dataset is read once, as
// a stream.
Status write_dataset_rows(const SelectOptions& o, const ScoredIndex& index, const std::vector<size_t>& chosen,
                          data::JsonlWriter& writer) {
  ARB_ASSIGN(auto reader, data::JsonRowReader::open(o.data_path));
  SlotWriter slots(writer, chosen.size());
  std::unordered_map<std::string, size_t> slot_of_id;
  std::unordered_map<size_t, size_t> slot_of_position;
  for (size_t k = 0; k < chosen.size(); ++k) {
    const ScoredLine& line = index.lines[chosen[k]];
    if (line.has_id)
      slot_of_id.emplace(line.id, k);
    else
      slot_of_position.emplace(chosen[k], k);
  }
  // An id twice in the dataset would pick one of two rows silently (1 and "1" are one id, as the writer
  // compares them).
  std::unordered_map<std::string, size_t> row_of_id;
  size_t rows = 0, rows_with_id = 0;
  data::JsonRow row;
  for (;; ++rows) {
    ARB_ASSIGN(bool got, reader.next(row));
    if (!got) break;
    const nlohmann::json& data_row = row.value;
    const bool own_id = data_row.is_object() && data_row.contains(o.id_field) && !data_row[o.id_field].is_null();
    rows_with_id += own_id;
    const std::string id = own_id ? data::row_id_string(data_row[o.id_field]) : std::to_string(rows);
    if (const auto [it, fresh] = row_of_id.emplace(id, rows); !fresh)
      return error(o.data_path + ": id '" + id + "' appears twice (rows " + std::to_string(it->second + 1) + " and " +
                   std::to_string(rows + 1) + (own_id ? "" : ", the second without an id, known by its index") + ")");
    size_t slot = 0;
    if (const auto by_id = slot_of_id.find(id); by_id != slot_of_id.end())
      slot = by_id->second;
    else if (const auto by_position = slot_of_position.find(rows); by_position != slot_of_position.end())
      slot = by_position->second;
    else
      continue;
    const size_t line = chosen[slot];
    const std::string& digest = index.lines[line].row_digest;
    if (!digest.empty() && data::row_digest(data_row, std::to_string(rows)) != digest)
      return error(o.data_path + ": row " + std::to_string(rows) + " is not the row " + o.scored_path + ":" +
                   std::to_string(line + 1) + " scored (its row_digest differs): pass the dataset that was scored");
    ARB_TRY(slots.place(slot, data_row, row.text));
  }
  const size_t missing = slots.first_empty();
  if (missing == chosen.size()) return Status::ok();
  const size_t line = chosen[missing];
  if (!index.lines[line].has_id)
    return error(o.data_path + ": has " + std::to_string(rows) + " rows; " + o.scored_path + ":" + std::to_string(line + 1) +
                 ", a line without an id, is of its row " + std::to_string(line));
  const std::string& id = index.lines[line].id;
  std::string hint;
  if (rows == 0) hint = ": it has no rows";
  else if (rows_with_id == 0)
    hint = ": its rows have no '" + o.id_field + "' field, so they are known by index (0 to " + std::to_string(rows - 1) +
           "); if the scoring run took ids from another field, name it with --field id=NAME";
  return error(o.data_path + ": no row with id " + id + " (" + o.scored_path + ":" + std::to_string(line + 1) + ")" + hint);
}

// select reads --input twice (to rank, then to write the kept lines): a pipe cannot be read again.
Status check_readable_twice(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return error(path + ": select reads --input twice (to rank its lines, then to write the kept ones), and this is not "
                        "a regular file (a pipe?): write it to a file first");
  return Status::ok();
}

}  // namespace

Result<SelectSummary> select_rows(const SelectOptions& o) {
  if (o.has_threshold && !std::isfinite(o.threshold))
    return error("--threshold must be a finite number, not " + std::to_string(o.threshold));
  ARB_TRY(check_readable_twice(o.scored_path));
  ARB_ASSIGN(ScoredIndex index, index_scored(o));
  SelectSummary summary;
  summary.rows = index.lines.size();
  summary.without_score = index.without_score;
  if (index.candidates.empty() && !index.lines.empty())
    return error(o.scored_path + ": no line has a number in '" + o.field + "' (the fields a line has: " +
                 index.first_line_keys + ")");
  if (index.candidates.empty()) return error(o.scored_path + ": no row has a numeric field '" + o.field + "'");

  // Best first; ties keep file order, so the selection is deterministic.
  std::vector<size_t> ranked = index.candidates;
  std::stable_sort(ranked.begin(), ranked.end(), [&](size_t a, size_t b) {
    return o.bottom ? index.lines[a].value < index.lines[b].value : index.lines[a].value > index.lines[b].value;
  });
  ARB_ASSIGN(const size_t keep, rows_to_keep(o, ranked, index));
  std::vector<size_t> chosen(ranked.begin(), ranked.begin() + long(keep));
  summary.kept = keep;
  summary.cutoff = keep > 0 ? index.lines[chosen.back()].value : 0;
  std::sort(chosen.begin(), chosen.end());  // output in input order

  ARB_ASSIGN(auto writer, data::JsonlWriter::open(o.output_path, data::whole_file()));
  if (o.data_path.empty())
    ARB_TRY(write_scored_lines(o, index, chosen, writer));
  else
    ARB_TRY(write_dataset_rows(o, index, chosen, writer));
  ARB_TRY(writer.close());
  return summary;
}

}  // namespace arbiter
