#include "eval/score_files.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "data/json_rows.h"
#include "data/writer.h"

namespace arbiter::eval {
namespace {

using nlohmann::json;

Result<double> number_at(const json& row, const std::string& field) {
  const json* value = data::find_field(row, field);
  if (value == nullptr) return error("missing field '" + field + "'");
  if (value->is_array() && value->size() == 1) value = &value->at(0);
  if (!value->is_number()) return error("field '" + field + "' is " + value->type_name() + ", expected a number");
  return value->get<double>();
}

Result<std::vector<double>> numbers_at(const json& value, const std::string& field) {
  if (!value.is_array()) return error("field '" + field + "' is " + value.type_name() + ", expected a list of numbers");
  std::vector<double> out;
  for (const json& item : value) {
    const json* v = &item;
    if (v->is_array() && v->size() == 1) v = &v->at(0);
    if (!v->is_number()) return error("field '" + field + "' holds " + v->type_name() + ", expected numbers");
    out.push_back(v->get<double>());
  }
  return out;
}

Result<std::string> string_at(const json& row, const std::string& field) {
  const json* found = data::find_field(row, field);
  if (found == nullptr) return error("missing field '" + field + "'");
  const json& value = *found;
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  return error("field '" + field + "' is " + value.type_name() + ", expected a string");
}

// Calls add(row, position, out) for each row of the file (position: its 0-based index among the file's
// rows, error lines counted), which appends what the row holds (one item or several), prefixing errors
// with the row's place. The error lines a scoring run writes for rows it could not score are counted and
// left out.
//
// A row whose `id_field` repeats an earlier row's is an error naming both: a benchmark counts each of its
// rows once, and a repeated id means outputs were joined twice (shards concatenated with overlap, a run
// appended to a finished one), which would weigh those rows double without a sign.
//
// `where`, when given, holds the place of the row being added ("FILE:LINE") while add runs.
template <typename T, typename Add>
Result<std::vector<T>> read_row_items(const std::string& path, Add add, size_t* error_rows,
                                      const std::string& id_field = "id", std::string* where = nullptr) {
  ARB_ASSIGN(data::JsonRowReader rows, data::JsonRowReader::open(path));
  std::vector<T> out;
  data::JsonRow row;
  std::unordered_map<std::string, std::string> seen;  // id -> where its row is
  if (error_rows) *error_rows = 0;
  while (true) {
    ARB_ASSIGN(const bool got, rows.next(row));
    if (!got) break;
    if (data::is_error_line(row.value)) {
      if (error_rows) ++*error_rows;
      continue;
    }
    if (row.value.is_object() && row.value.contains(id_field) && !row.value.at(id_field).is_null()) {
      const json& id = row.value.at(id_field);
      const std::string key = id.is_string() ? id.get<std::string>() : id.dump();
      const auto [earlier, first] = seen.emplace(key, rows.where(row));
      if (!first)
        return error(rows.where(row) + ": id '" + key + "' appears twice (first at " + earlier->second +
                     "): each row is counted once; were outputs joined twice?");
    }
    if (where) *where = rows.where(row);
    Status added = add(row.value, row.row_index, out);
    if (!added) return added.with_context(rows.where(row));
  }
  return out;
}

// One item per row: parse(row, position).
template <typename T, typename Parse>
Result<std::vector<T>> read_rows(const std::string& path, Parse parse, size_t* error_rows,
                                 const std::string& id_field = "id") {
  return read_row_items<T>(path, [&](const json& row, size_t position, std::vector<T>& out) -> Status {
    ARB_ASSIGN(T item, parse(row, position));
    out.push_back(std::move(item));
    return Status();
  }, error_rows, id_field);
}

Result<LayerRow> layer_row(const json& item, const std::string& human_field, const json& score_values) {
  LayerRow out;
  if (!item.is_object() || !item.contains("per_layer_logits")) return error("missing field 'per_layer_logits'");
  const json& layers = item.at("per_layer_logits");
  if (!layers.is_array()) return error("field 'per_layer_logits' is not a list of lists");
  for (const json& layer : layers) {
    ARB_ASSIGN(std::vector<double> logits, numbers_at(layer, "per_layer_logits"));
    out.per_layer_logits.push_back(std::move(logits));
  }
  ARB_ASSIGN(out.score_values, numbers_at(score_values, "score_values"));
  ARB_ASSIGN(out.human, number_at(item, human_field));
  return out;
}

// A listwise judge's order with people's best response at label `human`: its logits with that label's
// column moved first (the others keep their order), scored as best-first (LayerRow::best_first).
Result<LayerRow> listwise_layer_row(const json& order, const std::string& human_field) {
  const json one = json::array({1});
  ARB_ASSIGN(LayerRow out, layer_row(order, human_field, one));
  const size_t labels = out.per_layer_logits.empty() ? 0 : out.per_layer_logits[0].size();
  if (out.human != std::floor(out.human) || out.human < 0 || out.human >= double(labels))
    return error("field '" + human_field + "' (" + std::to_string(out.human) + ") is not a label position in 0.." +
                 std::to_string(int64_t(labels) - 1));
  const size_t best = size_t(out.human);
  for (std::vector<double>& logits : out.per_layer_logits) {
    if (logits.size() != labels) return error("field 'per_layer_logits' has layers of different lengths");
    std::rotate(logits.begin(), logits.begin() + long(best), logits.begin() + long(best) + 1);
  }
  out.score_values.assign(labels, 0.0);
  if (labels > 0) out.score_values[0] = 1.0;
  out.human = 1.0;
  out.best_first = true;
  return out;
}

// The items of a pairwise (`comparisons`) or listwise (`orders`) judge's row that carry the human field,
// each read by make_item.
template <class MakeItem>
Status judged_items(const json& row, const char* list, const std::string& human_field, size_t group,
                    const std::string& where, const MakeItem& make_item, std::vector<LayerRow>& out) {
  const json& items = row.at(list);
  if (!items.is_array()) return error(std::string("field '") + list + "' is not a list");
  for (size_t c = 0; c < items.size(); ++c) {
    if (!items[c].is_object() || !items[c].contains(human_field)) continue;
    Result<LayerRow> item = make_item(items[c]);
    if (!item) return error(std::string(list) + "[" + std::to_string(c) + "]: " + item.message());
    item->group = group;
    item->where = where + " (" + list + "[" + std::to_string(c) + "])";
    out.push_back(std::move(item).value());
  }
  return Status();
}

// A row's key, for files compared row by row.
Status push_key(const json& row, const std::string& id_field, size_t position, RowKeys* keys) {
  if (!keys) return Status();
  std::string id;
  if (row.is_object() && row.contains(id_field)) {
    ARB_ASSIGN(id, string_at(row, id_field));
    keys->index_ids = keys->index_ids && row.contains("row_digest");
  }
  keys->ids.push_back(std::move(id));
  keys->positions.push_back(position);
  return Status();
}

}  // namespace

Result<std::vector<PreferenceRow>> read_preference_rows(const std::string& path, const PreferenceFields& fields,
                                                        size_t* error_rows, RowKeys* keys) {
  if (keys) *keys = RowKeys{};
  return read_rows<PreferenceRow>(path, [&](const json& row, [[maybe_unused]] size_t position) -> Result<PreferenceRow> {
    PreferenceRow out;
    ARB_TRY(push_key(row, fields.id, position, keys));
    if (!fields.subset.empty()) {
      ARB_ASSIGN(out.subset, string_at(row, fields.subset));
    }
    ARB_ASSIGN(out.chosen, number_at(row, fields.chosen));
    ARB_ASSIGN(out.rejected, number_at(row, fields.rejected));
    return out;
  }, error_rows, fields.id);
}

Result<std::vector<BestOfNRow>> read_best_of_n_rows(const std::string& path, const BestOfNFields& fields,
                                                     size_t* error_rows, RowKeys* keys) {
  if (keys) *keys = RowKeys{};
  return read_rows<BestOfNRow>(path, [&](const json& row, [[maybe_unused]] size_t position) -> Result<BestOfNRow> {
    BestOfNRow out;
    ARB_TRY(push_key(row, fields.id, position, keys));
    ARB_ASSIGN(out.subset, string_at(row, fields.subset));
    if (row.contains(fields.id)) {
      ARB_ASSIGN(out.id, string_at(row, fields.id));
    }
    if (!row.contains(fields.scores)) return error("missing field '" + fields.scores + "'");
    ARB_ASSIGN(out.scores, numbers_at(row.at(fields.scores), fields.scores));
    // score and judge write, for a row of several chosen (correct) completions, their count as num_chosen;
    // RewardBench 2's own rows carry num_correct, which a scored line copies and which comes first.
    std::string count_field = fields.num_correct;
    if (!row.contains(count_field) && count_field == "num_correct" && row.contains("num_chosen")) count_field = "num_chosen";
    if (row.contains(count_field)) {
      const json& n = row.at(count_field);
      if (!n.is_number_integer()) return error("field '" + count_field + "' is not an integer");
      out.num_correct = n.get<int>();
    }
    return out;
  }, error_rows, fields.id);
}

namespace {

// [chosen][rejected]: each chosen response's mean credit against each rejected one over the comparisons
// of the two (A's credit as written; as B, one minus it).
Result<std::vector<std::vector<double>>> chosen_rejected_credit(const json& comparisons, size_t chosen, size_t n,
                                                                const std::string& score) {
  if (!comparisons.is_array()) return error("field 'comparisons' is not a list");
  const size_t rejected = n - chosen;
  std::vector<std::vector<double>> sum(chosen, std::vector<double>(rejected, 0.0)), count = sum;
  for (const json& c : comparisons) {
    if (!c.is_object() || !c.contains("a") || !c.contains("b") || !c["a"].is_number_unsigned() ||
        !c["b"].is_number_unsigned())
      return error("a comparison without response indices 'a' and 'b': " + c.dump().substr(0, 200));
    Result<double> read = number_at(c, score);
    if (!read.is_ok())
      return error("a comparison: " + read.message() +
                   (score == "lager" ? " (a judge run without LAGER writes none: --comparison-score expected)" : ""));
    const double credit = *read;
    const size_t a = c["a"].get<size_t>(), b = c["b"].get<size_t>();
    if (a >= n || b >= n) return error("a comparison names response " + std::to_string(std::max(a, b)) + " of " + std::to_string(n));
    if (a < chosen && b >= chosen) {
      sum[a][b - chosen] += credit;
      count[a][b - chosen] += 1;
    } else if (b < chosen && a >= chosen) {
      sum[b][a - chosen] += 1.0 - credit;
      count[b][a - chosen] += 1;
    }
  }
  for (size_t i = 0; i < chosen; ++i)
    for (size_t j = 0; j < rejected; ++j) {
      if (count[i][j] == 0)
        return error("no comparison of chosen response " + std::to_string(i) + " with rejected response " +
                     std::to_string(chosen + j) + " (judge with --pairs chosen-rejected or all)");
      sum[i][j] /= count[i][j];
    }
  return sum;
}

}  // namespace

Result<std::vector<RmBenchRow>> read_rm_bench_rows(const std::string& path, const RmBenchFields& fields,
                                                   size_t* error_rows, RowKeys* keys) {
  if (keys) *keys = RowKeys{};
  size_t styles = 0;  // the first row's: every row must have as many
  return read_rows<RmBenchRow>(path, [&](const json& row, [[maybe_unused]] size_t position) -> Result<RmBenchRow> {
    RmBenchRow out;
    ARB_TRY(push_key(row, fields.id, position, keys));
    if (!row.contains(fields.scores)) return error("missing field '" + fields.scores + "'");
    ARB_ASSIGN(const std::vector<double> scores, numbers_at(row.at(fields.scores), fields.scores));
    if (!row.contains(fields.num_chosen))
      return error("missing field '" + fields.num_chosen + "' (how many of '" + fields.scores +
                   "' are chosen responses; `arbiter score` writes it for rows that list them)");
    const json& n = row.at(fields.num_chosen);
    if (!n.is_number_integer() || n.get<int64_t>() < 1 || n.get<int64_t>() >= int64_t(scores.size()))
      return error("field '" + fields.num_chosen + "' is " + n.dump() + ": expected 1.." + std::to_string(scores.size() - 1));
    const size_t chosen = size_t(n.get<int64_t>());
    if (2 * chosen != scores.size())
      return error(std::to_string(chosen) + " chosen and " + std::to_string(scores.size() - chosen) +
                   " rejected scores: an RM-Bench row holds one of each per style");
    if (styles == 0) styles = chosen;
    if (chosen != styles)
      return error(std::to_string(chosen) + " styles, where the first row has " + std::to_string(styles));
    out.chosen.assign(scores.begin(), scores.begin() + std::ptrdiff_t(chosen));
    out.rejected.assign(scores.begin() + std::ptrdiff_t(chosen), scores.end());
    if (row.contains(fields.domain)) {
      ARB_ASSIGN(out.domain, string_at(row, fields.domain));
    }
    if (fields.use_comparisons && row.contains("comparisons")) {
      ARB_ASSIGN(out.credit, chosen_rejected_credit(row.at("comparisons"), chosen, scores.size(), fields.comparison_score));
    }
    return out;
  }, error_rows, fields.id);
}

Result<std::vector<PreferencePair>> read_preference_pairs(const std::string& path, const std::string& score_field,
                                                          const std::string& strength_field, size_t* error_rows,
                                                          RowKeys* keys, const std::string& id_field) {
  if (keys) *keys = RowKeys{};
  return read_rows<PreferencePair>(path, [&](const json& row, [[maybe_unused]] size_t position) -> Result<PreferencePair> {
    ARB_TRY(push_key(row, id_field, position, keys));
    if (!row.is_object() || !row.contains("responses") || !row.at("responses").is_array() ||
        row.at("responses").size() != 2)
      return error("expected 'responses' with two entries (a scored preference pair)");
    PreferencePair out;
    ARB_ASSIGN(out.score_1, number_at(row.at("responses")[0], score_field));
    ARB_ASSIGN(out.score_2, number_at(row.at("responses")[1], score_field));
    // A chosen / rejected pair (its line has score_chosen) prefers its first response, as `features` reads
    // it: strength -1.
    if (!row.contains(strength_field) && row.contains("score_chosen")) {
      out.strength = -1;
      return out;
    }
    ARB_ASSIGN(out.strength, number_at(row, strength_field));
    // HelpSteer2-Preference's and HelpSteer3's scale: accuracy is reported per strength, so another scale
    // would be bucketed wrongly.
    if (out.strength != std::round(out.strength) || std::fabs(out.strength) > 3)
      return error("field '" + strength_field + "' is " + row.at(strength_field).dump() +
                   ": a preference strength is a whole number from -3 to 3");
    return out;
  }, error_rows, id_field);
}

Result<std::vector<StepRewardRow>> read_step_reward_rows(const std::string& path, const std::string& label_field,
                                                         size_t* error_rows, RowKeys* keys,
                                                         const std::string& id_field) {
  if (keys) *keys = RowKeys{};
  return read_rows<StepRewardRow>(path, [&](const json& row, [[maybe_unused]] size_t position) -> Result<StepRewardRow> {
    ARB_TRY(push_key(row, id_field, position, keys));
    if (!row.is_object() || !row.contains("step_rewards"))
      return error("missing field 'step_rewards' (`arbiter score` writes it with a process reward model)");
    StepRewardRow out;
    ARB_ASSIGN(out.rewards, numbers_at(row.at("step_rewards"), "step_rewards"));
    if (out.rewards.empty()) return error("field 'step_rewards' is empty");
    ARB_ASSIGN(const double label, number_at(row, label_field));
    if (label != std::floor(label) || label < -1 || label >= double(out.rewards.size()))
      return error("field '" + label_field + "' is " + row.at(label_field).dump() + ": expected -1 (no wrong step) or a step index 0.." +
                   std::to_string(out.rewards.size() - 1));
    out.first_error = int64_t(label);
    if (row.contains("subset")) {
      ARB_ASSIGN(out.subset, string_at(row, "subset"));
    }
    // Per-step labels: numbers, null for a step without one.
    if (row.contains("human_step_labels") && !row.at("human_step_labels").is_null()) {
      const json& labels = row.at("human_step_labels");
      if (!labels.is_array() || labels.size() != out.rewards.size())
        return error("field 'human_step_labels' must list one label per step (" + std::to_string(out.rewards.size()) + ")");
      for (const json& l : labels) {
        if (!l.is_null() && !l.is_number()) return error("field 'human_step_labels' holds " + l.dump() + ", not a number");
        out.step_labels.push_back(l.is_null() ? std::nan("") : l.get<double>());
      }
    }
    return out;
  }, error_rows, id_field);
}

namespace {

// The items one judged row gives: itself, or each comparison (pairwise) or order (listwise) that carries
// the human label.
Status add_layer_items(const json& row, const std::string& human_field, size_t group, const std::string& where,
                       std::vector<LayerRow>& out) {
  // A listwise judge's row: each order that carries the human label is one item.
  if (row.is_object() && row.contains("orders")) {
    return judged_items(row, "orders", human_field, group, where,
                        [&](const json& order) { return listwise_layer_row(order, human_field); }, out);
  }
  if (!row.is_object() || (!row.contains("per_layer_logits") && !row.contains("comparisons")))
    return error("missing field 'per_layer_logits' (a judge run writes it with --per-layer)");
  if (!row.contains("score_values"))
    return error("missing field 'score_values' (a judge run writes it with --per-layer)");
  // A pairwise judge's row: each comparison that carries the human label is one item.
  if (row.contains("comparisons")) {
    return judged_items(row, "comparisons", human_field, group, where,
                        [&](const json& c) { return layer_row(c, human_field, row.at("score_values")); }, out);
  }
  ARB_ASSIGN(LayerRow item, layer_row(row, human_field, row.at("score_values")));
  item.group = group;
  item.where = where;
  out.push_back(std::move(item));
  return Status();
}

}  // namespace

Result<std::vector<LayerRow>> read_layer_rows(const std::string& path, const std::string& human_field,
                                              size_t* error_rows) {
  size_t group = 0;
  std::string where;
  ARB_ASSIGN(std::vector<LayerRow> rows, read_row_items<LayerRow>(path, [&](const json& row, size_t, std::vector<LayerRow>& out) -> Status {
    ++group;
    const size_t first_item = out.size();
    ARB_TRY(add_layer_items(row, human_field, group, where, out));
    const std::string id = row.is_object() && row.contains("id") ? data::row_id_string(row.at("id")) : "";
    for (size_t i = first_item; i < out.size(); ++i) out[i].id = id;
    return Status();
  }, error_rows, "id", &where));
  // A listwise read's target is "people's best comes first", a rated or pairwise item's a score: one
  // fit or one measure over both would mean neither.
  const auto listwise = std::count_if(rows.begin(), rows.end(), [](const LayerRow& r) { return r.best_first; });
  if (listwise > 0 && size_t(listwise) < rows.size())
    return error(path + ": mixes " + std::to_string(listwise) + " listwise reads with " +
                 std::to_string(rows.size() - size_t(listwise)) + " rated or pairwise items; use one kind of judge run");
  return rows;
}

}  // namespace arbiter::eval
