#include "score/preference_pairs.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "data/json_rows.h"
#include "data/row_digest.h"
#include "data/writer.h"
#include "score/select.h"

namespace arbiter {

namespace {

using nlohmann::json;

// The scores of a scored line's responses by `field`: `responses[i].field`, or the line's own field for
// a one-response row (whose fields are merged into the line).
Result<std::vector<double>> response_scores(const json& line, const std::string& field) {
  std::vector<double> scores;
  if (line.contains("responses") && line["responses"].is_array()) {
    for (size_t i = 0; i < line["responses"].size(); ++i) {
      const json* v = numeric_field(line["responses"][i], field);
      if (v == nullptr) return error("responses[" + std::to_string(i) + "] has no number '" + field + "'");
      scores.push_back(v->get<double>());
    }
  } else {
    const json* v = numeric_field(line, field);
    if (v == nullptr) return error("no number '" + field + "' (and no 'responses')");
    scores.push_back(v->get<double>());
  }
  for (double s : scores)
    if (!std::isfinite(s)) return error("a score '" + field + "' is not finite");
  return scores;
}

// A message as read: role, content, and its other fields (tool_calls, name, ...), so that scoring the
// written rows again reads the conversation that was scored.
json message_value(const std::string& role, const std::string& content, const nlohmann::ordered_json& fields) {
  json message = {{"role", role}, {"content", content}};
  for (auto it = fields.begin(); it != fields.end(); ++it) message[it.key()] = it.value();
  return message;
}

// A prompt as preference trainers read it: one user turn as a string, else the messages.
json prompt_value(const std::vector<data::Turn>& turns) {
  if (turns.size() == 1 && turns[0].role == "user" && turns[0].fields.empty()) return turns[0].content;
  json messages = json::array();
  for (const data::Turn& t : turns) messages.push_back(message_value(t.role, t.content, t.fields));
  return messages;
}

// A response: a string, or the assistant's message in the conversational layout, and always where the
// response came as a message with fields of its own (its tool calls), which a string would lose.
json response_value(const data::Example& ex, size_t response, bool conversational) {
  const nlohmann::ordered_json& fields = data::fields_of_response(ex, response);
  if (!conversational && fields.empty()) return ex.responses[response];
  return json::array({message_value("assistant", ex.responses[response], fields)});
}

}  // namespace

Result<PairsSummary> build_preference_pairs(const PairsOptions& o) {
  // Scores by id, from the whole scored file (a few numbers per row).
  std::map<std::string, std::vector<double>> scores_by_id;
  std::map<std::string, std::string> digests_by_id;  // the row_digest of lines of rows without ids
  {
    ARB_ASSIGN(data::JsonRowReader scored, data::JsonRowReader::open(o.scored_path));
    data::JsonRow row;
    while (true) {
      ARB_ASSIGN(const bool got, scored.next(row));
      if (!got) break;
      if (!row.value.is_object() || !row.value.contains("id"))
        return error(scored.where(row) + ": a scored line without 'id'");
      if (data::is_error_line(row.value)) continue;  // counted below as not scored
      auto scores = response_scores(row.value, o.field);
      if (!scores) return scores.status().with_context(scored.where(row));
      const std::string id = data::row_id_string(row.value["id"]);
      if (!scores_by_id.emplace(id, std::move(scores).value()).second)
        return error(scored.where(row) + ": id '" + id + "' appears twice in the scored file");
      if (const auto digest = row.value.find("row_digest"); digest != row.value.end() && digest->is_string())
        digests_by_id[id] = digest->get<std::string>();
    }
  }
  if (scores_by_id.empty()) return error(o.scored_path + ": no scored rows");

  ARB_ASSIGN(data::DatasetReader dataset, data::DatasetReader::open(o.data_path, o.reader));
  ARB_ASSIGN(data::JsonlWriter writer, data::JsonlWriter::open(o.output_path, data::whole_file()));
  PairsSummary summary;
  size_t matched = 0;
  std::set<std::string> paired_ids;
  std::string last_error;
  for (size_t rows_read = 0;; ++rows_read) {
    data::Example ex;
    const Result<bool> got = dataset.next(ex);
    if (!got.is_ok()) {
      // A row the scoring run could not read either (score --on-error skip wrote an error line for it, with
      // the row's own id, or its index where none could be read), or never read (a --limit or --shard run)
      // is not scored; one it scored is read otherwise here (another --schema or --field): an error, as is
      // one the reader cannot move past.
      const std::string id = ex.id.empty() ? std::to_string(rows_read) : ex.id;
      if (dataset.dataset_error() || scores_by_id.count(id) || got.message() == last_error) return got.status();
      last_error = got.message();
      ++summary.rows;
      ++summary.not_scored;
      continue;
    }
    if (!*got) break;
    ++summary.rows;
    const auto found = scores_by_id.find(ex.id);
    if (found == scores_by_id.end()) {
      ++summary.not_scored;
      continue;
    }
    if (!paired_ids.insert(ex.id).second)
      return error(o.data_path + ": id '" + ex.id + "' appears twice in the dataset (row " + std::to_string(ex.row_index + 1) +
                   "): its scores would make two pairs");
    ++matched;
    // A row without an id is matched by its index, which any dataset has: its digest says it is the same row.
    if (const auto digest = digests_by_id.find(ex.id); digest != digests_by_id.end() && digest->second != data::row_digest(ex))
      return error(o.data_path + ": row " + ex.id + " is not the row " + o.scored_path + " scored as row " + ex.id +
                   " (its row_digest differs): pass the dataset that was scored");
    const std::vector<double>& scores = found->second;
    if (scores.size() != ex.responses.size())
      return error(o.scored_path + ": row id " + ex.id + " has " + std::to_string(scores.size()) +
                   " scored responses, " + o.data_path + " has " + std::to_string(ex.responses.size()) +
                   " (read the dataset with the --schema / --field the scoring run used)");
    if (!o.best_only && scores.size() < 2) {
      ++summary.too_few_responses;
      continue;
    }
    // The first best and the first worst: ties keep the earlier response, so the choice is deterministic.
    const size_t best = size_t(std::max_element(scores.begin(), scores.end()) - scores.begin());
    const size_t worst = size_t(std::min_element(scores.begin(), scores.end()) - scores.begin());
    const json prompt = prompt_value(ex.prompt_turns);
    const bool conversational = prompt.is_array();
    json out = {{"id", ex.id}, {"prompt", prompt}};
    if (o.best_only) {
      out["response"] = response_value(ex, best, conversational);
      out["score"] = scores[best];
    } else {
      if (!(scores[best] - scores[worst] > o.min_margin)) {
        ++summary.below_margin;
        continue;
      }
      out["chosen"] = response_value(ex, best, conversational);
      out["rejected"] = response_value(ex, worst, conversational);
      out["score_chosen"] = scores[best];
      out["score_rejected"] = scores[worst];
    }
    ARB_TRY(writer.write(out));
    ++summary.written;
  }
  ARB_TRY(writer.close());
  summary.scored_not_in_data = scores_by_id.size() - matched;
  return summary;
}

}  // namespace arbiter
