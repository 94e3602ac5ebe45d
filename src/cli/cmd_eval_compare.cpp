// eval compare: systems scored on the same rows, side by side. Is reward model B better than A on this
// benchmark, is LAGER better than the vanilla score on these labels, or is the difference one that another
// sample of rows could undo? Each system's statistic with a bootstrap interval, and each one's difference
// from the first (the baseline) with a paired bootstrap interval and p-value (eval/paired.h).
//
// The systems are files (--pred a.jsonl --pred b.jsonl: two reward models' runs), fields of one file
// (--pred judged.jsonl --fields vanilla,expected,lager: a judge's three scores), or both (every field of
// every file). The statistic:
//   --human-field F (labels in --human, default the first --pred file): spearman (default), kendall, pearson
//   --metric accuracy:    the share of chosen / rejected rows whose chosen response scores higher
//                         (McNemar's exact test besides)
//   --metric rewardbench: RewardBench v1's section-weighted score of such rows
//   --metric rewardbench2: RewardBench 2's score of best-of-N rows (each row's completion scores, the correct
//                         ones first), the mean over subsets with Ties scored as RewardBench 2 scores it
//   --metric preference:  accuracy on graded preference pairs (HelpSteer2-Preference, HelpSteer3), with
//                         McNemar's exact test
//   --metric rmbench[-hard|-normal|-easy]: RM-Bench's average (or hard, normal, easy) accuracy, the mean
//                         over domains
//   --metric processbench: ProcessBench's F1 of the first wrong step, the mean over subsets (McNemar's
//                         exact test on the rows' verdicts besides)
// Rows are paired by id; error lines, and ids some source lacks, are left out and counted.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cli/eval_subcommand.h"
#include "cli/option_checks.h"
#include "cli/output_format.h"
#include "core/log.h"
#include "data/json_rows.h"
#include "data/values.h"
#include "data/writer.h"
#include "eval/metrics.h"
#include "eval/paired.h"
#include "eval/report.h"
#include "eval/report_builders.h"
#include "eval/process_bench.h"
#include "eval/rewardbench.h"
#include "eval/rm_bench.h"
#include "eval/score_files.h"

namespace arbiter::cli {
namespace {

using nlohmann::json;

struct CompareArgs {
  std::vector<std::string> preds;
  std::vector<std::string> fields;
  std::string human_path, human_field;
  std::string metric;
  std::string id_field = "id";
  std::string strength_field = "human_preference_strength";
  eval::PreferenceFields pref;
  double threshold = std::nan("");  // processbench (not given: 0.5)
  std::string comparison_score;     // rmbench, a pairwise judge's rows (not given: lager)
  bool no_comparisons = false;      // rmbench
  std::string ties = "wrong";       // accuracy, rewardbench: what a tied pair counts for (wrong or half)
  std::string process_label_field;  // processbench (not given: human_first_error_step)
  std::string scores_field = "scores";  // rewardbench2
  int bootstrap = 1000;
  uint64_t seed = 0;
  double level = 0.95;
  bool as_json = false;
  std::string report_dir;
};

// Below this many rows, a warning that the bootstrap's figures are rough.
constexpr size_t kFewRows = 30;

bool is_correlation(const std::string& metric) { return metric == "spearman" || metric == "kendall" || metric == "pearson"; }

// One source of rows: a system's file and field, or the human labels; its ids in file order.
struct Source {
  std::string what;  // how messages name it ("a.jsonl field 'lager'")
  std::vector<std::string> ids;
  size_t error_rows = 0;
  bool by_position = false;  // its rows have no ids: `ids` are their positions in the file
  bool bare = false;         // a JSON array of numbers, which cannot hold ids
  bool index_ids = false;    // its ids are dataset row indices (a scoring run's lines with row_digest)
};

// The rows every source holds, in the first source's order: for each source, the position of each such row
// in it. An id twice in one source is an error; rows some source lacks are left out, counted in a warning.
// Sources without ids pair by position, which means something only while they hold the same rows: two
// of different lengths (an item missing from one) would pair every row after the gap with another row's.
Result<std::vector<std::vector<size_t>>> join_sources(const std::vector<Source>& sources, const std::string& id_field) {
  // A file known by position pairs with one whose ids are its rows' indices (a scoring run's output of a
  // dataset without ids), never with one of ids of its own: item numbers from 1 would pair every row with
  // its neighbour's.
  const auto position_source = std::find_if(sources.begin(), sources.end(), [](const Source& s) { return s.by_position; });
  const auto named_source = std::find_if(sources.begin(), sources.end(), [](const Source& s) { return !s.by_position && !s.index_ids; });
  if (position_source != sources.end() && named_source != sources.end())
    return error(position_source->what + " has no ids (its rows are known by position) and " + named_source->what +
                 " has ids of its own: they cannot be paired row by row; give both files ids, or neither");
  const Source* first_by_position = nullptr;
  for (const Source& source : sources) {
    if (!source.by_position) continue;
    // An id field asked for by name that a file's rows lack is a misspelling, not a file without ids.
    if (id_field != "id" && !source.bare)
      return error(source.what + ": its rows have no '" + id_field + "' (--id-field)");
    const size_t rows = source.ids.size() + source.error_rows;
    if (first_by_position == nullptr) {
      first_by_position = &source;
    } else if (rows != first_by_position->ids.size() + first_by_position->error_rows) {
      return error(first_by_position->what + " has " + std::to_string(first_by_position->ids.size() + first_by_position->error_rows) +
                   " rows and " + source.what + " " + std::to_string(rows) + ", and neither has ids: rows are paired by "
                   "position, which pairs every row after a missing one with another row's; give the rows ids "
                   "(--id-field) or make the files hold the same rows");
    }
  }
  std::vector<std::unordered_map<std::string, size_t>> position(sources.size());
  for (size_t s = 0; s < sources.size(); ++s)
    for (size_t i = 0; i < sources[s].ids.size(); ++i)
      if (!position[s].emplace(sources[s].ids[i], i).second)
        return error(sources[s].what + ": id '" + sources[s].ids[i] + "' appears twice");
  std::vector<std::vector<size_t>> rows(sources.size());
  for (const std::string& id : sources[0].ids) {
    bool everywhere = true;
    for (size_t s = 1; s < sources.size() && everywhere; ++s) everywhere = position[s].count(id) > 0;
    if (!everywhere) continue;
    for (size_t s = 0; s < sources.size(); ++s) rows[s].push_back(position[s].at(id));
  }
  const size_t kept = rows[0].size();
  std::string left_out;
  for (const Source& source : sources) {
    if (source.ids.size() > kept) left_out += "; " + std::to_string(source.ids.size() - kept) + " rows of " + source.what;
    if (source.error_rows > 0) left_out += "; " + std::to_string(source.error_rows) + " error lines of " + source.what;
  }
  if (kept == 0) return error("the sources share no row id: " + sources[0].what + " and the others");
  if (!left_out.empty())
    log_warn("compared the " + std::to_string(kept) + " rows every source holds; left out" + left_out.substr(1));
  return rows;
}

struct System {
  std::string name, file, field;
};

// How a table names the files: by their names where those tell them apart, else by their paths.
std::vector<std::string> file_labels(const std::vector<std::string>& files) {
  std::vector<std::string> names;
  for (const std::string& file : files) names.push_back(std::filesystem::path(file).filename().string());
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t j = i + 1; j < names.size(); ++j)
      if (names[i] == names[j]) return files;
  return names;
}

// --pred x --fields: every field of every file, named as briefly as tells them apart.
std::vector<System> list_systems(const std::vector<std::string>& files, const std::vector<std::string>& fields) {
  const std::vector<std::string> labels = file_labels(files);
  std::vector<System> systems;
  for (size_t f = 0; f < files.size(); ++f)
    for (const std::string& field : fields) {
      std::string name = files.size() == 1 ? field : fields.size() == 1 ? labels[f] : labels[f] + ":" + field;
      systems.push_back({name, files[f], field});
    }
  return systems;
}

// The statistic of each system on resampled rows, for compare_paired.
struct Prepared {
  std::vector<System> systems;
  std::string statistic;  // what the numbers are ("spearman with human_helpfulness")
  bool by_position = true;  // every source's rows were known by position (no ids)
  eval::SystemStatistic statistic_fn;
  size_t rows = 0;
  // accuracy: each system's right / wrong per row, for McNemar's test
  std::vector<std::vector<char>> right;
};

// A file of bare numbers (a JSON array, as the LAGER paper's score files are) is known by position; a file
// of objects gives `field` by row id.
Result<data::KeyedColumn> read_scores(const std::string& path, const std::string& field, const std::string& id_field,
                                      bool* bare = nullptr) {
  ARB_ASSIGN(data::JsonRowReader rows, data::JsonRowReader::open(path));
  data::JsonRow first;
  ARB_ASSIGN(const bool any, rows.next(first));
  if (bare) *bare = any && first.value.is_number();
  if (!any || !first.value.is_number()) return data::read_keyed_number_column(path, field, id_field);
  data::KeyedColumn column;
  ARB_ASSIGN(column.values, data::read_number_column(path, ""));
  for (size_t i = 0; i < column.values.size(); ++i) column.ids.push_back(std::to_string(i));
  return column;
}

Result<Prepared> prepare_correlation(const CompareArgs& args) {
  Prepared out;
  const std::vector<std::string> fields = args.fields.empty() ? std::vector<std::string>{"score"} : args.fields;
  out.systems = list_systems(args.preds, fields);
  const std::string human_path = args.human_path.empty() ? args.preds.front() : args.human_path;
  std::vector<Source> sources;
  std::vector<std::vector<double>> values;
  for (System& system : out.systems) {
    bool bare = false;
    ARB_ASSIGN(data::KeyedColumn column, read_scores(system.file, system.field, args.id_field, &bare));
    out.by_position = out.by_position && (bare || column.by_index);
    if (bare) {
      if (fields.size() > 1) return error(system.file + ": bare numbers, one system: --fields names fields of objects");
      system.field = "";
    }
    sources.push_back({system.file + (bare ? "" : " field '" + system.field + "'"), std::move(column.ids), column.error_rows,
                       bare || column.by_index, bare, !bare && !column.by_index && column.index_ids});
    values.push_back(std::move(column.values));
  }
  bool human_bare = false;
  ARB_ASSIGN(data::KeyedColumn human, read_scores(human_path, args.human_field, args.id_field, &human_bare));
  out.by_position = out.by_position && (human_bare || human.by_index);
  sources.push_back({human_path + (args.human_field.empty() ? "" : " field '" + args.human_field + "'"),
                     std::move(human.ids), human.error_rows, human_bare || human.by_index, human_bare,
                     !human_bare && !human.by_index && human.index_ids});
  ARB_ASSIGN(const auto rows, join_sources(sources, args.id_field));

  // [system][row] and [row], in the joined order.
  auto paired_values = std::make_shared<std::vector<std::vector<double>>>(values.size());
  for (size_t s = 0; s < values.size(); ++s)
    for (const size_t i : rows[s]) (*paired_values)[s].push_back(values[s][i]);
  auto labels = std::make_shared<std::vector<double>>();
  for (const size_t i : rows.back()) labels->push_back(human.values[i]);
  if (eval::is_constant(*labels)) return error(human_path + ": the human labels '" + args.human_field + "' of the compared rows are all equal: no correlation is defined");
  out.rows = labels->size();
  out.statistic = args.metric + " with " + (args.human_field.empty() ? human_path : args.human_field);

  const std::string metric = args.metric;
  out.statistic_fn = [paired_values, labels, metric](size_t s, std::span<const size_t> rows) -> double {
    std::vector<double> x, y;
    x.reserve(rows.size());
    y.reserve(rows.size());
    for (const size_t i : rows) {
      x.push_back((*paired_values)[s][i]);
      y.push_back((*labels)[i]);
    }
    const Result<double> r = metric == "spearman" ? eval::spearman(x, y)
                             : metric == "kendall" ? eval::kendall_tau_b(x, y)
                                                   : eval::pearson(x, y);
    return r.is_ok() ? *r : std::nan("");
  };
  return out;
}

// Accuracy from each system's right / wrong verdicts ([system][row]) on the rows drawn.
eval::SystemStatistic share_right(const std::vector<std::vector<char>>& verdicts) {
  auto right = std::make_shared<std::vector<std::vector<char>>>(verdicts);
  return [right](size_t s, std::span<const size_t> rows) {
    size_t correct = 0;
    for (const size_t i : rows) correct += size_t((*right)[s][i]);
    return double(correct) / double(rows.size());
  };
}

// A file's rows are known by position (a file without ids, as a dataset without ids is).
bool known_by_position(const eval::RowKeys& keys) { return !keys.ids.empty() && keys.ids.front().empty(); }

// A scored file's row keys as join_sources takes them: ids, or for a file whose first row has none, the
// rows' positions in the file (error lines counted, so that one leaves its own row out and shifts no other).
Result<Source> source_of(const std::string& file, const eval::RowKeys& keys, size_t error_rows,
                         const std::string& id_field) {
  const bool by_position = known_by_position(keys);
  Source source{file, {}, error_rows, by_position, false, !by_position && keys.index_ids};
  for (size_t i = 0; i < keys.ids.size(); ++i) {
    if (keys.ids[i].empty() != by_position)
      return error(file + ": row " + std::to_string(keys.positions[i] + 1) + (by_position ? " has" : " has no") + " '" +
                   id_field + "', where the rows before it have " + (by_position ? "none" : "one") +
                   ": give every row an id, or none");
    source.ids.push_back(by_position ? std::to_string(keys.positions[i]) : keys.ids[i]);
  }
  return source;
}

// The rows of each --pred file, one system each, by read(file, &error_rows, &keys); `sources` gets what
// join_sources pairs them by, and `out` whether they are known by position.
template <class Row, class Read>
Result<std::vector<std::vector<Row>>> read_pred_files(const CompareArgs& args, Prepared& out, std::vector<Source>& sources,
                                                      const Read& read) {
  std::vector<std::vector<Row>> rows_of;
  for (const std::string& file : args.preds) {
    size_t error_rows = 0;
    eval::RowKeys keys;
    ARB_ASSIGN(std::vector<Row> rows, read(file, &error_rows, &keys));
    ARB_ASSIGN(Source source, source_of(file, keys, error_rows, args.id_field));
    out.by_position = out.by_position && known_by_position(keys);
    sources.push_back(std::move(source));
    rows_of.push_back(std::move(rows));
  }
  return rows_of;
}

// Graded preference pairs (HelpSteer2-Preference, HelpSteer3): right when the response people preferred
// scores higher; pairs people rated even (strength 0) say nothing and are left out, as eval preference does.
Result<Prepared> prepare_graded_preferences(const CompareArgs& args) {
  Prepared out;
  const std::vector<std::string> fields = args.fields.empty() ? std::vector<std::string>{"score"} : args.fields;
  out.systems = list_systems(args.preds, fields);
  std::vector<Source> sources;
  std::vector<std::vector<eval::PreferencePair>> read;
  for (const System& system : out.systems) {
    size_t error_rows = 0;
    eval::RowKeys keys;
    ARB_ASSIGN(std::vector<eval::PreferencePair> pairs,
               eval::read_preference_pairs(system.file, system.field, args.strength_field, &error_rows, &keys, args.id_field));
    ARB_ASSIGN(Source source, source_of(system.file + " field '" + system.field + "'", keys, error_rows, args.id_field));
    out.by_position = out.by_position && known_by_position(keys);
    sources.push_back(std::move(source));
    read.push_back(std::move(pairs));
  }
  ARB_ASSIGN(const auto rows, join_sources(sources, args.id_field));
  out.statistic = "accuracy on graded preferences (the preferred response scored higher; even pairs left out)";
  std::vector<size_t> kept;  // joined rows people did not rate even
  for (size_t r = 0; r < rows[0].size(); ++r) {
    const double strength = read[0][rows[0][r]].strength;
    for (size_t s = 1; s < read.size(); ++s)
      if (read[s][rows[s][r]].strength != strength)
        return error(sources[s].what + ": row '" + sources[s].ids[rows[s][r]] + "' has another " + args.strength_field +
                     " than in " + sources[0].what + ": the files are not of the same pairs");
    if (strength != 0.0) kept.push_back(r);
  }
  if (kept.size() < 2) return error(args.preds.front() + ": fewer than 2 pairs with a preference to compare on");
  out.rows = kept.size();
  for (size_t s = 0; s < read.size(); ++s) {
    std::vector<char> right;
    for (const size_t r : kept) {
      const eval::PreferencePair& p = read[s][rows[s][r]];
      right.push_back(p.strength < 0 ? p.score_1 > p.score_2 : p.score_2 > p.score_1);
    }
    out.right.push_back(std::move(right));
  }
  out.statistic_fn = share_right(out.right);
  return out;
}

Result<Prepared> prepare_preferences(const CompareArgs& args) {
  if (!args.fields.empty())
    return error("--fields: accuracy and rewardbench read --chosen-field and --rejected-field of each --pred file "
                 "(--metric preference takes fields)");
  Prepared out;
  out.systems = list_systems(args.preds, {""});
  eval::PreferenceFields fields = args.pref;
  fields.id = args.id_field;
  if (args.metric == "accuracy") fields.subset = "";  // plain accuracy needs no subsets
  std::vector<Source> sources;
  ARB_ASSIGN(const auto read, read_pred_files<eval::PreferenceRow>(args, out, sources, [&](const std::string& file, size_t* errors, eval::RowKeys* keys) {
    return eval::read_preference_rows(file, fields, errors, keys);
  }));
  ARB_ASSIGN(auto rows, join_sources(sources, args.id_field));
  if (args.metric == "rewardbench") {
    // Rows of a subset the leaderboard does not weigh count in no section: left out, as eval rewardbench
    // leaves them out of its score (every file must say so of the same rows, checked below).
    std::vector<std::vector<size_t>> weighed(rows.size());
    size_t unweighed = 0;
    for (size_t r = 0; r < rows[0].size(); ++r) {
      if (!eval::rewardbench_v1_subset_index(read[0][rows[0][r]].subset)) {
        for (size_t s = 1; s < rows.size(); ++s)
          if (read[s][rows[s][r]].subset != read[0][rows[0][r]].subset)
            return error(out.systems[s].file + ": row '" + sources[s].ids[rows[s][r]] + "' is in subset '" +
                         read[s][rows[s][r]].subset + "', in " + out.systems[0].file + " in '" +
                         read[0][rows[0][r]].subset + "': the files are not of the same RewardBench rows");
        ++unweighed;
        continue;
      }
      for (size_t s = 0; s < rows.size(); ++s) weighed[s].push_back(rows[s][r]);
    }
    if (weighed[0].empty())
      return error(out.systems[0].file + ": no row is in a RewardBench v1 subset (field '" + args.pref.subset +
                   "'); --metric accuracy compares plain accuracy");
    if (unweighed > 0)
      log_warn("left out " + std::to_string(unweighed) + " rows of subsets RewardBench v1 does not weigh (as eval "
               "rewardbench leaves them out of its score)");
    rows = std::move(weighed);
  }
  auto paired = std::make_shared<std::vector<std::vector<eval::PreferenceRow>>>(read.size());
  for (size_t s = 0; s < read.size(); ++s)
    for (const size_t i : rows[s]) (*paired)[s].push_back(read[s][i]);
  out.rows = rows[0].size();
  // Each row's verdicts ([system][row]), and for RewardBench its subset's index: all a resample needs.
  struct Verdicts {
    std::vector<std::vector<char>> right, tie;
    std::vector<std::vector<uint8_t>> subset;
  };
  auto verdicts = std::make_shared<Verdicts>();
  verdicts->right.resize(read.size());
  verdicts->tie.resize(read.size());
  for (size_t s = 0; s < read.size(); ++s) {
    for (const eval::PreferenceRow& row : (*paired)[s]) {
      verdicts->right[s].push_back(row.chosen > row.rejected);
      verdicts->tie[s].push_back(row.chosen == row.rejected);
    }
  }
  const bool ties_half = args.ties == "half";
  // McNemar's test counts rows right in one system and not the other: with ties worth half, a row is
  // neither, so the test is left out rather than run on other verdicts than the figure's.
  if (!ties_half) out.right = verdicts->right;
  if (args.metric == "accuracy") {
    if (!ties_half) {
      out.statistic = "accuracy (chosen above rejected; a tie is wrong)";
      out.statistic_fn = share_right(out.right);
      return out;
    }
    out.statistic = "accuracy (chosen above rejected; a tie is half right)";
    out.statistic_fn = [verdicts](size_t s, std::span<const size_t> rows) {
      double credit = 0.0;
      for (const size_t i : rows) credit += verdicts->right[s][i] ? 1.0 : verdicts->tie[s][i] ? 0.5 : 0.0;
      return credit / double(rows.size());
    };
    return out;
  }
  // RewardBench v1: every compared row must belong to a subset the leaderboard weighs, the same in every file.
  verdicts->subset.resize(read.size());
  for (size_t s = 0; s < paired->size(); ++s) {
    for (size_t r = 0; r < (*paired)[s].size(); ++r) {
      const eval::PreferenceRow& row = (*paired)[s][r];
      const std::optional<size_t> index = eval::rewardbench_v1_subset_index(row.subset);
      // A row weighs in its subset: files that put one row in different subsets are not of the same rows.
      if (!index || (s > 0 && verdicts->subset[0][r] != *index))
        return error(out.systems[s].file + ": row '" + sources[s].ids[rows[s][r]] + "' is in subset '" + row.subset +
                     "', in " + out.systems[0].file + " in '" + (*paired)[0][r].subset +
                     "': the files are not of the same RewardBench rows");
      verdicts->subset[s].push_back(uint8_t(*index));
    }
  }
  out.statistic = std::string("RewardBench v1 score (mean of the section scores; a tie is ") +
                  (ties_half ? "half right)" : "wrong)");
  const eval::TieCredit credit = ties_half ? eval::TieCredit::kHalf : eval::TieCredit::kNone;
  out.statistic_fn = [verdicts, credit](size_t s, std::span<const size_t> rows) {
    std::vector<eval::V1SubsetTally> tallies(eval::rewardbench_v1_subset_count());
    for (const size_t i : rows) {
      eval::V1SubsetTally& t = tallies[verdicts->subset[s][i]];
      ++t.n;
      t.correct += verdicts->right[s][i];
      t.ties += verdicts->tie[s][i];
    }
    return eval::rewardbench_v1_overall(tallies, credit);
  };
  return out;
}

// RewardBench 2 rows (best-of-N: each row's completion scores, the correct ones first): its overall
// score recomputed on each resample. The bootstrap draws rows, except that a Ties prompt's ref and tied
// rows are drawn together (its score compares them), paired across files by the prompt id. No McNemar's
// test: Ties prompts are not one verdict each.
Result<Prepared> prepare_rewardbench2(const CompareArgs& args) {
  if (!args.fields.empty())
    return error("--fields: RewardBench 2 rows keep each system's scores in '" + args.scores_field +
                 "'; compare several --pred files");
  Prepared out;
  out.systems = list_systems(args.preds, {""});
  eval::BestOfNFields fields;
  fields.id = args.id_field;
  fields.subset = args.pref.subset;
  fields.scores = args.scores_field;
  std::vector<Source> sources;
  std::vector<std::vector<eval::BestOfNRow>> read;
  std::vector<eval::V2Units> units;
  for (const std::string& file : args.preds) {
    size_t error_rows = 0;
    eval::RowKeys keys;
    ARB_ASSIGN(std::vector<eval::BestOfNRow> rows, eval::read_best_of_n_rows(file, fields, &error_rows, &keys));
    ARB_ASSIGN(Source source, source_of(file, keys, error_rows, args.id_field));
    Result<eval::V2Units> file_units = eval::rewardbench_v2_units(rows);
    if (!file_units) return error(file + ": " + file_units.message());
    // A unit is known by its row's key, a Ties prompt by its id (its rows' ids are "ref:N" and "tied:N").
    std::vector<std::string> unit_keys;
    for (const eval::V2Unit& unit : file_units->units)
      unit_keys.push_back(unit.subset < 0 ? "Ties prompt " + std::to_string(unit.prompt) : source.ids[unit.row]);
    source.ids = std::move(unit_keys);
    out.by_position = out.by_position && known_by_position(keys);
    sources.push_back(std::move(source));
    read.push_back(std::move(rows));
    units.push_back(std::move(file_units).value());
  }
  ARB_ASSIGN(const auto joined, join_sources(sources, args.id_field));
  // [system][joined unit], each row's subset renumbered to the first file's; a row must be of the same
  // subset and shape in every file (each file was scored on its own copy of the benchmark).
  const std::vector<std::string>& subsets = units[0].subsets;
  auto paired = std::make_shared<std::vector<std::vector<eval::V2Unit>>>(read.size());
  for (size_t s = 0; s < read.size(); ++s) {
    for (size_t r = 0; r < joined[s].size(); ++r) {
      eval::V2Unit unit = units[s].units[joined[s][r]];
      const eval::V2Unit& first = units[0].units[joined[0][r]];
      if ((unit.subset < 0) != (first.subset < 0))
        return error(out.systems[s].file + ": row '" + sources[s].ids[joined[s][r]] +
                     "' is in the Ties subset in one file and not in the other: the files are not of the same "
                     "RewardBench 2 rows");
      if (unit.subset >= 0) {
        const eval::BestOfNRow& row = read[s][unit.row];
        const eval::BestOfNRow& first_row = read[0][first.row];
        if (row.subset != first_row.subset || row.scores.size() != first_row.scores.size() ||
            row.num_correct != first_row.num_correct)
          return error(out.systems[s].file + ": row '" + sources[s].ids[joined[s][r]] + "' (subset '" + row.subset +
                       "', " + std::to_string(row.scores.size()) + " completions, " + std::to_string(row.num_correct) +
                       " correct) is not as in " + out.systems[0].file + " (subset '" + first_row.subset + "', " +
                       std::to_string(first_row.scores.size()) + ", " + std::to_string(first_row.num_correct) +
                       "): the files are not of the same RewardBench 2 rows");
        unit.subset = first.subset;
      } else if (unit.has_ref != first.has_ref || unit.has_tied != first.has_tied) {
        return error(out.systems[s].file + ": Ties prompt " + std::to_string(unit.prompt) +
                     " has other groups (ref, tied) than in " + out.systems[0].file +
                     ": the files are not of the same RewardBench 2 rows");
      }
      (*paired)[s].push_back(unit);
    }
  }
  out.rows = joined[0].size();
  out.statistic = "RewardBench 2 score (mean of the subset scores, Ties by its own; a Ties prompt's rows count as one "
                  "row, drawn together)";
  const size_t subset_count = subsets.size();
  out.statistic_fn = [paired, subset_count](size_t s, std::span<const size_t> drawn) {
    return eval::rewardbench_v2_overall((*paired)[s], subset_count, drawn);
  };
  return out;
}

bool is_rm_bench(const std::string& metric) { return metric.starts_with("rmbench"); }

// RM-Bench's figures, the mean over domains as eval rmbench prints them: --metric rmbench is the average,
// rmbench-hard / -normal / -easy the one named.
double rm_bench_figure(const eval::RmBenchScores& scores, const std::string& metric) {
  if (metric == "rmbench-hard") return scores.hard;
  if (metric == "rmbench-normal") return scores.normal;
  if (metric == "rmbench-easy") return scores.easy;
  return scores.average;
}

// RM-Bench rows (`arbiter score` of RM-Bench: each row's chosen and rejected scores by style): the figure
// recomputed on each resample of the rows, domains weighed equally as RM-Bench does. No McNemar's test:
// a row is k x k comparisons, not one verdict.
Result<Prepared> prepare_rm_bench(const CompareArgs& args) {
  if (!args.fields.empty())
    return error("--fields: RM-Bench rows keep each system's scores in 'scores'; compare several --pred files");
  Prepared out;
  out.systems = list_systems(args.preds, {""});
  eval::RmBenchFields fields;
  fields.id = args.id_field;
  if (!args.comparison_score.empty()) fields.comparison_score = args.comparison_score;
  fields.use_comparisons = !args.no_comparisons;
  std::vector<Source> sources;
  ARB_ASSIGN(const auto read, read_pred_files<eval::RmBenchRow>(args, out, sources, [&](const std::string& file, size_t* errors, eval::RowKeys* keys) {
    return eval::read_rm_bench_rows(file, fields, errors, keys);
  }));
  ARB_ASSIGN(const auto rows, join_sources(sources, args.id_field));
  // Each row's right comparisons by region ([system][row]), and its domain's index: a resample only sums them.
  auto counts = std::make_shared<std::vector<std::vector<eval::RmBenchRowCounts>>>(read.size());
  auto domain_of = std::make_shared<std::vector<uint32_t>>();
  std::map<std::string, uint32_t> domains;
  for (const size_t i : rows[0]) domains.emplace(eval::rm_bench_domain(read[0][i].domain), 0);
  uint32_t next = 0;
  for (auto& entry : domains) entry.second = next++;
  for (size_t s = 0; s < read.size(); ++s) {
    std::vector<eval::RmBenchRow> joined;
    for (size_t r = 0; r < rows[s].size(); ++r) {
      const eval::RmBenchRow& row = read[s][rows[s][r]];
      const eval::RmBenchRow& first = read[0][rows[0][r]];
      if (row.domain != first.domain || row.chosen.size() != first.chosen.size())
        return error(sources[s].what + ": row '" + sources[s].ids[rows[s][r]] + "' has another domain or number of "
                     "styles than in " + sources[0].what + ": the files are not of the same RM-Bench rows");
      (*counts)[s].push_back(eval::rm_bench_row_counts(row));
      if (s == 0) domain_of->push_back(domains.at(eval::rm_bench_domain(row.domain)));
      joined.push_back(row);
    }
    // The figure on all rows must be defined (k = 1 leaves hard and easy empty), and the rows scorable as
    // eval rmbench scores them: an error says why here.
    auto all = eval::score_rm_bench(joined);
    if (!all) return all.status().with_context(args.preds[s]);
    if (std::isnan(rm_bench_figure(all->overall, args.metric)))
      return error(args.preds[s] + ": " + args.metric + " is not defined for rows of " + std::to_string(all->styles) +
                   " style (no pair of different styles)");
  }
  out.rows = rows[0].size();
  const size_t styles = read[0][rows[0][0]].chosen.size();
  const std::string metric = args.metric;
  out.statistic = metric == "rmbench" ? "RM-Bench average accuracy (mean of domains)"
                                      : "RM-Bench " + metric.substr(8) + " accuracy (mean of domains)";
  const size_t domain_count = domains.size();
  out.statistic_fn = [counts, domain_of, domain_count, styles, metric](size_t s, std::span<const size_t> drawn) {
    std::vector<eval::RmBenchRowCounts> summed(domain_count);
    std::vector<size_t> rows_in(domain_count, 0);
    for (const size_t i : drawn) {
      const uint32_t d = (*domain_of)[i];
      const eval::RmBenchRowCounts& c = (*counts)[s][i];
      summed[d].hard += c.hard;
      summed[d].normal += c.normal;
      summed[d].easy += c.easy;
      ++rows_in[d];
    }
    // The mean over the domains this resample holds, as eval rmbench takes it over those the file holds.
    eval::RmBenchScores mean;
    size_t present = 0;
    for (size_t d = 0; d < domain_count; ++d) present += rows_in[d] > 0;
    for (size_t d = 0; d < domain_count; ++d) {
      if (rows_in[d] == 0) continue;
      const eval::RmBenchFigures f = eval::rm_bench_figures(summed[d], rows_in[d], styles);
      mean.hard += f.hard / double(present);
      mean.normal += f.normal / double(present);
      mean.easy += f.easy / double(present);
      mean.average += f.average / double(present);
    }
    return rm_bench_figure(mean, metric);
  };
  return out;
}

// ProcessBench rows (a process reward model's step_rewards and the human first wrong step): the F1 of
// the first error found at --threshold, the mean over the subsets where rows name them (ProcessBench's
// average; rows without one are left out of it, as eval processbench leaves them), else over all rows.
// Recomputed on each resample from each row's verdict; McNemar's test compares the verdicts (the first
// error named exactly, or none on a right solution), not F1.
Result<Prepared> prepare_process_bench(const CompareArgs& args) {
  if (!args.fields.empty())
    return error("--fields: ProcessBench rows keep each system's rewards in 'step_rewards'; compare several --pred files");
  const double threshold = std::isnan(args.threshold) ? 0.5 : args.threshold;
  if (!(threshold > 0.0 && threshold < 1.0)) return error("--threshold must be between 0 and 1");
  const std::string label_field = args.process_label_field.empty() ? "human_first_error_step" : args.process_label_field;
  Prepared out;
  out.systems = list_systems(args.preds, {""});
  std::vector<Source> sources;
  ARB_ASSIGN(const auto read, read_pred_files<eval::StepRewardRow>(args, out, sources, [&](const std::string& file, size_t* errors, eval::RowKeys* keys) {
    return eval::read_step_reward_rows(file, label_field, errors, keys, args.id_field);
  }));
  ARB_ASSIGN(const auto rows, join_sources(sources, args.id_field));
  // Each joined row's group (its subset's index; none: left out) and kind, from the first file.
  std::map<std::string, uint32_t> subset_index;
  for (const size_t i : rows[0])
    if (!read[0][i].subset.empty()) subset_index.emplace(read[0][i].subset, 0);
  uint32_t next = 0;
  for (auto& entry : subset_index) entry.second = next++;
  struct RowKind {
    int64_t group = -1;  // -1: left out of a mean over subsets
    bool erroneous = false;
  };
  auto kinds = std::make_shared<std::vector<RowKind>>();
  for (size_t r = 0; r < rows[0].size(); ++r) {
    const eval::StepRewardRow& first = read[0][rows[0][r]];
    for (size_t s = 1; s < read.size(); ++s) {
      const eval::StepRewardRow& row = read[s][rows[s][r]];
      if (row.first_error != first.first_error || row.subset != first.subset)
        return error(sources[s].what + ": row '" + sources[s].ids[rows[s][r]] + "' has another label or subset than in " +
                     sources[0].what + ": the files are not of the same ProcessBench rows");
    }
    const int64_t group = subset_index.empty() ? 0 : first.subset.empty() ? -1 : int64_t(subset_index.at(first.subset));
    kinds->push_back({group, first.first_error >= 0});
  }
  for (size_t s = 0; s < read.size(); ++s) {
    std::vector<char> right;
    for (const size_t i : rows[s]) {
      const eval::StepRewardRow& row = read[s][i];
      right.push_back(eval::predicted_first_error(row.rewards, threshold) == row.first_error);
    }
    out.right.push_back(std::move(right));
  }
  out.rows = rows[0].size();
  const size_t groups = subset_index.empty() ? 1 : subset_index.size();
  out.statistic = "ProcessBench F1 at threshold " + fixed(threshold, 2) +
                  (subset_index.empty() ? "" : " (mean over " + std::to_string(groups) + " subsets)");
  auto right = std::make_shared<std::vector<std::vector<char>>>(out.right);
  out.statistic_fn = [right, kinds, groups](size_t s, std::span<const size_t> drawn) {
    // Per group: solutions with a wrong step and those found; right solutions and those left unflagged.
    std::vector<std::array<size_t, 4>> counts(groups, {0, 0, 0, 0});
    for (const size_t i : drawn) {
      const RowKind& kind = (*kinds)[i];
      if (kind.group < 0) continue;
      std::array<size_t, 4>& c = counts[size_t(kind.group)];
      const size_t at = kind.erroneous ? 0 : 2;
      ++c[at];
      c[at + 1] += size_t((*right)[s][i]);
    }
    double sum = 0.0;
    for (const auto& c : counts) {
      const double found = c[0] ? double(c[1]) / double(c[0]) : std::nan("");
      const double clean = c[2] ? double(c[3]) / double(c[2]) : std::nan("");
      sum += eval::process_bench_f1(found, clean);
    }
    return sum / double(groups);
  };
  return out;
}

std::string signed_fixed(double v, int decimals) { return (v >= 0 ? "+" : "") + fixed(v, decimals); }

std::string interval_text(const eval::Interval& ci, bool with_sign) {
  auto f = [&](double v) { return with_sign ? signed_fixed(v, 4) : fixed(v, 4); };
  return "[" + f(ci.lo) + ", " + f(ci.hi) + "]";
}

// A bootstrap p-value below 0.001 says only that, and one at the least the resamples can tell
// (1 / (resamples + 1): no resampled difference crossed zero) says it is at most that; an exact test's is
// shown as small as it is.
std::string p_text(double p, bool exact, int resamples = 0) {
  if (std::isnan(p)) return "-";
  if (p < 0.001 && !exact) return "<0.001";
  if (!exact && resamples > 0 && p <= 1.0 / double(resamples + 1) * (1.0 + 1e-9)) {
    char floor[32];
    std::snprintf(floor, sizeof floor, "<=%.2g", p);
    return floor;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, p < 0.001 ? "%.1e" : "%.3f", p);
  return buf;
}

Status run_compare(CompareArgs args) {
  if (args.preds.empty()) return error("--pred: give the scored files of the systems to compare");
  const bool human_given = !args.human_field.empty() || !args.human_path.empty();
  if (args.metric.empty()) {
    if (!human_given)
      return error("give --human-field (or --human: correlation with human labels) or --metric accuracy / "
                   "rewardbench (chosen / rejected rows)");
    args.metric = "spearman";
  }
  if (is_correlation(args.metric) && !human_given)
    return error("--metric " + args.metric + " correlates with human labels: give --human-field (or --human)");
  if (!is_correlation(args.metric) && (!args.human_field.empty() || !args.human_path.empty()))
    return error("--metric " + args.metric + " compares scored pairs, not human labels: --human and --human-field are "
                 "for correlations");
  if (args.metric != "processbench" && (!std::isnan(args.threshold) || !args.process_label_field.empty()))
    return error("--threshold and --label-field are for --metric processbench");
  if (!is_rm_bench(args.metric) && (!args.comparison_score.empty() || args.no_comparisons))
    return error("--comparison-score and --no-comparisons are for --metric rmbench (a pairwise judge's rows)");
  if (args.ties != "wrong" && args.metric != "accuracy" && args.metric != "rewardbench")
    return error("--ties is for --metric accuracy and rewardbench (chosen / rejected pairs; RewardBench 2 gives a "
                 "tie at the top its own share)");
  if (args.scores_field != "scores" && args.metric != "rewardbench2")
    return error("--scores-field is for --metric rewardbench2");
  const bool takes_fields = is_correlation(args.metric) || args.metric == "preference";
  const size_t fields = takes_fields ? std::max<size_t>(1, args.fields.size()) : 1;
  if (args.preds.size() * fields < 2)
    return error("one system to compare: give several --pred files, or several --fields of one");
  Result<Prepared> prepared = is_correlation(args.metric)      ? prepare_correlation(args)
                              : args.metric == "preference" ? prepare_graded_preferences(args)
                              : is_rm_bench(args.metric)    ? prepare_rm_bench(args)
                              : args.metric == "processbench" ? prepare_process_bench(args)
                              : args.metric == "rewardbench2" ? prepare_rewardbench2(args)
                                                            : prepare_preferences(args);
  if (!prepared) return prepared.status();
  const Prepared& p = *prepared;

  std::vector<std::string> names;
  for (const System& s : p.systems) names.push_back(s.name);
  eval::BootstrapOptions options;
  options.resamples = args.bootstrap;
  options.seed = args.seed;
  options.level = args.level;
  if (const std::string few = eval::few_resamples_warning(options); !few.empty()) log_warn(few);
  ARB_ASSIGN(const eval::PairedComparison result, eval::compare_paired(names, p.rows, p.statistic_fn, options));
  // Percentile bootstrap intervals cover less than they claim on few rows (each resample holds few distinct rows).
  if (p.rows < kFewRows)
    log_warn("only " + std::to_string(p.rows) + " rows: the bootstrap intervals and p-values are rough at this size" +
             (p.right.empty() ? "" : " (McNemar's test is exact)"));
  std::vector<eval::McNemarResult> mcnemar;
  for (size_t s = 1; s < p.right.size(); ++s) {
    ARB_ASSIGN(eval::McNemarResult m, eval::mcnemar_exact(p.right[0], p.right[s]));
    mcnemar.push_back(m);
  }

  eval::ComparisonSource source{.metric = args.metric, .statistic = p.statistic};
  for (const System& system : p.systems) {
    source.files.push_back(system.file);
    source.fields.push_back(system.field);
  }
  if (is_correlation(args.metric)) {
    source.human_file = args.human_path.empty() ? args.preds.front() : args.human_path;
    source.human_field = args.human_field;
  }
  source.paired_by = p.by_position ? std::string("position") : "'" + args.id_field + "'";
  source.bootstrap = options;
  if (!args.report_dir.empty()) {
    ARB_TRY(eval::write_report(eval::comparison_report(result, mcnemar, source), args.report_dir));
    std::fprintf(stderr, "report written to %s/report.html\n", args.report_dir.c_str());
  }
  if (args.as_json) {
    print_line(data::dump_json(eval::comparison_json(result, mcnemar, source)));
    return Status::ok();
  }

  const std::string percent = eval::level_percent(args.level);
  print_line(p.statistic + ", " + std::to_string(result.rows) + " rows paired by " + source.paired_by + ", " +
             std::to_string(result.resamples) + " paired bootstrap resamples (seed " + std::to_string(args.seed) + ")");
  size_t width = 8;
  for (const std::string& name : names) width = std::max(width, name.size());
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-*s  %9s  %-18s  %10s  %-20s  %8s%s", int(width), "system", "value",
                (percent + "% interval").c_str(), "difference", (percent + "% interval").c_str(),
                "p", p.right.empty() ? "" : "  McNemar: only baseline / only it right, p");
  print_line(buf);
  for (size_t s = 0; s < result.systems.size(); ++s) {
    const eval::SystemResult& r = result.systems[s];
    std::string tail = "(baseline)";
    if (s > 0) {
      const eval::DifferenceResult& d = result.differences[s - 1];
      std::snprintf(buf, sizeof buf, "%10s  %-20s  %8s", signed_fixed(d.difference, 4).c_str(),
                    interval_text(d.ci, true).c_str(), p_text(d.p_value, false, d.ci.resamples_used).c_str());
      tail = buf;
      if (!mcnemar.empty())
        tail += "  " + std::to_string(mcnemar[s - 1].only_baseline) + " / " + std::to_string(mcnemar[s - 1].only_system) +
                ", " + p_text(mcnemar[s - 1].p_value, true);
    }
    std::snprintf(buf, sizeof buf, "%-*s  %9s  %-18s  ", int(width), r.name.c_str(), fixed(r.value, 4).c_str(),
                  interval_text(r.ci, false).c_str());
    print_line(buf + tail);
  }
  for (const eval::SystemResult& r : result.systems)
    if (!std::isfinite(r.value))
      print_line(r.name + ": " + p.statistic + " is undefined on these rows" +
                 (is_correlation(args.metric) ? " (its scores are all equal)" : "") +
                 "; its differences are too");
  return Status::ok();
}

}  // namespace

EvalSubcommand add_compare_subcommand(CLI::App& eval) {
  auto args = std::make_shared<CompareArgs>();
  CLI::App* app = eval.add_subcommand(
      "compare", "systems scored on the same rows side by side: each difference from the first with a paired "
                 "bootstrap interval and p-value (correlations, accuracy, RewardBench v1 and 2, RM-Bench, ProcessBench)");
  app->add_option("--pred", args->preds,
                  "a scored file (repeat for several; the first is the baseline): JSONL / JSON / Parquet")
      ->required();
  app->add_option("--fields", args->fields,
                  "correlations and preference: the fields holding the systems' scores, each a system (default: "
                  "score; a judge's vanilla,expected,lager)")
      ->delimiter(',');
  app->add_option("--human", args->human_path,
                  "correlations: the file of human labels (default: the first --pred; a JSON array of numbers pairs "
                  "by position)");
  app->add_option("--human-field", args->human_field, "correlations: the field holding the human label (objects)");
  app->add_option("--metric", args->metric,
                  "spearman (the default with --human-field), kendall, pearson; accuracy or rewardbench (v1) of "
                  "chosen / rejected rows; preference: accuracy on graded preference pairs (HelpSteer2-Preference, "
                  "HelpSteer3: responses[i][FIELD] and the human strength); rmbench (average), rmbench-hard, "
                  "rmbench-normal, rmbench-easy: RM-Bench's accuracies, the mean over domains; processbench: "
                  "ProcessBench's F1 of the first wrong step (the mean over subsets); rewardbench2: RewardBench 2's "
                  "score of best-of-N rows (--scores-field, correct completions first)")
      ->check(CLI::IsMember({"spearman", "kendall", "pearson", "accuracy", "rewardbench", "rewardbench2", "preference",
                             "rmbench", "rmbench-hard", "rmbench-normal", "rmbench-easy", "processbench"}));
  app->add_option("--id-field", args->id_field, "rows are paired by this id (rows without ids: by position)")
      ->capture_default_str();
  app->add_option("--chosen-field", args->pref.chosen, "accuracy / rewardbench: chosen score field")->capture_default_str();
  app->add_option("--rejected-field", args->pref.rejected, "accuracy / rewardbench: rejected score field")
      ->capture_default_str();
  app->add_option("--subset-field", args->pref.subset, "rewardbench, rewardbench2: field naming the subset")
      ->capture_default_str();
  app->add_option("--scores-field", args->scores_field,
                  "rewardbench2: each row's completion scores, the correct ones first (how many: num_correct, else "
                  "num_chosen as score and judge write it)")
      ->capture_default_str();
  app->add_option("--ties", args->ties,
                  "accuracy / rewardbench: a pair whose chosen and rejected scores are equal counts as wrong or half "
                  "right, as eval rewardbench --ties (half leaves McNemar's test out: a tie is neither right nor wrong)")
      ->capture_default_str()
      ->check(CLI::IsMember({"wrong", "half"}));
  app->add_option("--strength-field", args->strength_field, "preference: the human strength, -3..3, negative prefers response 1")
      ->capture_default_str();
  app->add_option("--comparison-score", args->comparison_score,
                  "rmbench, a pairwise judge's rows: the credit (lager, expected or vanilla) that decides each chosen / "
                  "rejected comparison (default lager)")
      ->check(CLI::IsMember({"lager", "expected", "vanilla"}));
  app->add_flag("--no-comparisons", args->no_comparisons,
                "rmbench, a pairwise judge's rows: compare the responses' win rates (scores) instead of each pair's verdict");
  app->add_option("--threshold", args->threshold,
                  "processbench: a step rewarded at or below this is the predicted first error (default 0.5)");
  app->add_option("--label-field", args->process_label_field,
                  "processbench: the human first wrong step, -1 for none (default human_first_error_step)");
  app->add_option("--bootstrap", args->bootstrap, "paired bootstrap resamples")
      ->capture_default_str()
      ->check(positive_number());
  app->add_option("--seed", args->seed, "bootstrap seed")->capture_default_str()->check(non_negative_number());
  app->add_option("--level", args->level, "the intervals' coverage")->capture_default_str()->check(number_in(0.5, 0.999));
  app->add_flag("--json", args->as_json, "print one JSON object");
  app->add_option("--report", args->report_dir, "also write report.json, report.md, SVG figures and report.html into DIR");
  return {app, [args]() { return run_compare(*args); }};
}

}  // namespace arbiter::cli
