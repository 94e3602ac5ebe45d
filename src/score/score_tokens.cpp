#include "score/score_tokens.h"

#include <charconv>

#include "core/log.h"

namespace arbiter {

namespace {

bool parse_int(const std::string& s, int& value) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool parse_number(const std::string& s, double& value) {
  try {
    size_t used = 0;
    value = std::stod(s, &used);
    return used == s.size();
  } catch (...) {
    return false;
  }
}

}  // namespace

Result<ScoreTokens> resolve_score_tokens(const Tokenizer& tokenizer, const std::string& spec) {
  ScoreTokens st;
  const size_t dots = spec.find("..");
  if (dots != std::string::npos) {
    int lo = 0, hi = 0;
    if (!parse_int(spec.substr(0, dots), lo) || !parse_int(spec.substr(dots + 2), hi) || hi < lo || hi - lo > 100)
      return error("score tokens: '" + spec + "' is not a range such as 1..5 (ascending, at most 101 values)");
    for (int v = lo; v <= hi; ++v) {
      st.labels.push_back(std::to_string(v));
      st.values.push_back(v);
    }
  } else {
    for (size_t start = 0; start <= spec.size();) {
      size_t end = spec.find(',', start);
      if (end == std::string::npos) end = spec.size();
      st.labels.push_back(spec.substr(start, end - start));
      start = end + 1;
    }
    bool all_numbers = true;
    for (const std::string& label : st.labels) {
      double v = 0;
      all_numbers = all_numbers && parse_number(label, v);
      st.values.push_back(v);
    }
    if (!all_numbers)
      for (size_t i = 0; i < st.labels.size(); ++i) st.values[i] = double(i + 1);
  }
  if (st.labels.size() < 2) return error("score tokens: need at least two labels, got '" + spec + "'");
  for (const std::string& label : st.labels) {
    if (label.empty()) return error("score tokens: an empty label in '" + spec + "'");
    ARB_ASSIGN(std::vector<int32_t> ids, tokenizer.encode(label, false, false));
    // SentencePiece tokenizers may start a word with a lone "▁" piece.
    if (ids.size() > 1 && tokenizer.id_to_token(ids[0]) == "\xE2\x96\x81") ids.erase(ids.begin());
    if (ids.empty()) return error("score tokens: label '" + label + "' tokenizes to nothing");
    if (ids.size() > 1)
      log_warn("score token '" + label + "' is " + std::to_string(ids.size()) + " tokens; its first token ('" +
               tokenizer.id_to_token(ids[0]) + "') stands for it");
    for (size_t i = 0; i < st.ids.size(); ++i) {
      if (st.ids[i] != ids[0]) continue;
      // "1" and "10" on a tokenizer that writes numbers digit by digit (Qwen's): say what works there.
      int a = 0, b = 0;
      const bool digits = parse_int(st.labels[i], a) && parse_int(label, b) && st.labels[i].size() != label.size();
      return error("score tokens: labels '" + st.labels[i] + "' and '" + label + "' start with the same token ('" +
                   tokenizer.id_to_token(ids[0]) + "'), so one next-token distribution cannot tell them apart" +
                   (digits ? " (this tokenizer writes numbers digit by digit: use one-token labels such as 0..9 or "
                             "A,B,C, or --score-token-ids)"
                           : ""));
    }
    st.ids.push_back(ids[0]);
  }
  return st;
}

Result<ScoreTokens> score_tokens_from_ids(const Tokenizer* tokenizer, const std::vector<int32_t>& ids,
                                          const std::vector<double>& values) {
  if (ids.size() < 2) return error("score tokens: need at least two ids");
  // One token for two scores would split its probability between them.
  for (size_t i = 0; i < ids.size(); ++i)
    for (size_t j = i + 1; j < ids.size(); ++j)
      if (ids[i] == ids[j])
        return error("score tokens: id " + std::to_string(ids[i]) + " is given twice (scores " + std::to_string(i + 1) +
                     " and " + std::to_string(j + 1) + ")");
  ScoreTokens st;
  st.ids = ids;
  st.values = values;
  if (st.values.empty())
    for (size_t i = 0; i < ids.size(); ++i) st.values.push_back(double(i + 1));
  if (st.values.size() != ids.size()) return error("score tokens: as many values as ids are needed");
  for (int32_t id : ids) st.labels.push_back(tokenizer ? tokenizer->id_to_token(id) : std::to_string(id));
  return st;
}

}  // namespace arbiter
