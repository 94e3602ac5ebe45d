#include "score/judge_job.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/log.h"
#include "data/roles.h"
#include "score/listwise.h"
#include "score/pairwise.h"
#include "score/result_line.h"

namespace arbiter {

namespace {

// A message's text as a grading prompt quotes it: its content, then its tool calls as their JSON, so that
// the judge reads what was called (a turn that only calls tools has no content).
std::string quoted_message(const std::string& content, const nlohmann::ordered_json& fields) {
  if (!fields.contains("tool_calls")) return content;
  return content + (content.empty() ? "" : "\n") + "(tool calls: " + fields["tool_calls"].dump() + ")";
}

// The conversation before the response, as the judge's grading prompt quotes it.
std::string prompt_text(const std::vector<data::Turn>& turns) {
  if (turns.size() == 1 && !turns[0].fields.contains("tool_calls")) return turns[0].content;
  std::string text;
  for (const data::Turn& t : turns) {
    if (!text.empty()) text += "\n\n";
    text += data::speaker_label(t.role) + ": " + quoted_message(t.content, t.fields);
  }
  return text;
}

// Response `i` as the grading prompt quotes it: a response given as an assistant message that calls tools
// is judged with its calls, not as an empty answer.
std::string response_text(const data::Example& example, size_t i) {
  return quoted_message(example.responses[i], data::fields_of_response(example, i));
}

// Surrounding white space and SentencePiece's word-start marker are not part of a label.
std::string trim_label(std::string text) {
  const std::string marker = "\xe2\x96\x81";  // U+2581
  for (size_t at; (at = text.find(marker)) != std::string::npos;) text.erase(at, marker.size());
  const size_t first = text.find_first_not_of(" \t\n\r");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\n\r") - first + 1);
}

// Tokens that end an assistant turn in the common chat formats, where the vocabulary has them.
constexpr const char* kEndOfTurnTokens[] = {"<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<end_of_turn>",
                                            "<|endoftext|>", "<|end|>", "</s>", "<eos>"};

std::string string_field(const nlohmann::json& raw, std::initializer_list<const char*> names) {
  if (!raw.is_object()) return "";
  for (const char* name : names)
    if (raw.contains(name) && raw[name].is_string()) return raw[name].get<std::string>();
  return "";
}

}  // namespace

Result<JudgeScores> judge_scores(const std::vector<double>& final_logits,
                                 const std::vector<std::vector<double>>& per_layer_logits,
                                 const std::vector<double>& layer_weights, const std::vector<double>& values) {
  if (final_logits.size() != values.size()) return error("judge: logits and score values differ in length");
  for (double v : final_logits)
    if (!std::isfinite(v)) return error("judge: the model produced a non-finite score-token logit");
  JudgeScores s;
  const size_t best = size_t(std::max_element(final_logits.begin(), final_logits.end()) - final_logits.begin());
  s.vanilla = values[best];
  s.probabilities = train::softmax(final_logits);
  for (size_t k = 0; k < values.size(); ++k) s.expected += s.probabilities[k] * values[k];
  if (per_layer_logits.empty()) return s;  // final-layer scores only
  ARB_ASSIGN(s.lager, train::lager_expected_score(per_layer_logits, layer_weights, values));
  return s;
}

JudgeJob::JudgeJob(const Model& model, std::shared_ptr<ConversationFormatter> formatter, JudgeOptions options)
    : model_(model), formatter_(std::move(formatter)), options_(std::move(options)) {
  const size_t layers_plus_one = size_t(model_.config.num_layers + 1);
  if (options_.lager_weights) {
    layer_weights_ = options_.lager_weights->layer_weights;
  } else {
    layer_weights_ = train::uniform_lager_weights(layers_plus_one, options_.score_tokens.values).layer_weights;
  }
  if (!options_.generate) return;
  score_marker_ = options_.score_marker.value_or(options_.prompt_template.score_marker);
  const ScoreTokens& st = options_.score_tokens;
  for (size_t k = 0; k < st.ids.size(); ++k) score_spellings_[st.ids[k]] = k;
  const Tokenizer* tokenizer = formats_text(formatter_.get()) ? &formatter_->tokenizer() : nullptr;
  if (model_.config.eos_token_id >= 0) stop_token_ids_.push_back(int32_t(model_.config.eos_token_id));
  if (tokenizer == nullptr) return;
  if (tokenizer->eos_id()) stop_token_ids_.push_back(*tokenizer->eos_id());
  for (const char* name : kEndOfTurnTokens)
    if (auto id = tokenizer->token_to_id(name)) stop_token_ids_.push_back(*id);
  // A model may write a label with a leading space or as a word-start piece: any token whose text is
  // exactly a label counts as writing it (the logits read are still those of the score tokens).
  std::vector<std::string> labels;  // [K] as written, without spaces or word-start markers
  for (const std::string& label : st.labels) labels.push_back(trim_label(label));
  for (int32_t id = 0; id < tokenizer->vocab_size(); ++id) {
    if (tokenizer->is_special(id) || score_spellings_.count(id)) continue;
    auto text = tokenizer->decode({id}, false);
    if (!text) continue;
    const std::string written = trim_label(*text);
    if (written.empty()) continue;
    for (size_t k = 0; k < labels.size(); ++k)
      if (written == labels[k]) score_spellings_[id] = k;
  }
}

std::string JudgeJob::written_text(const std::vector<int32_t>& tokens) const {
  if (!formats_text(formatter_.get())) return "";
  auto text = formatter_->tokenizer().decode(tokens, true);
  return text ? *text : "";
}

bool JudgeJob::is_score_to_read(const std::vector<int32_t>& written) const {
  if (!score_spellings_.count(written.back())) return false;
  if (score_marker_.empty()) return true;
  const std::vector<int32_t> before(written.begin(), written.end() - 1);
  return written_text(before).find(score_marker_) != std::string::npos;
}

Result<std::vector<SequenceOutput>> JudgeJob::run_batch(Backend& backend, const std::vector<SequenceInput>& inputs) {
  if (!options_.generate) return backend.forward(inputs, forward_options());
  GenerateOptions g;
  g.max_new_tokens = options_.max_new_tokens;
  g.stop_token_ids = stop_token_ids_;
  g.read = forward_options();
  g.accept = [this](size_t, const std::vector<int32_t>& written, const SequenceOutput&) { return is_score_to_read(written); };
  ARB_ASSIGN(std::vector<Generation> generations, backend.generate(inputs, g));
  std::vector<SequenceOutput> outputs;
  for (Generation& generation : generations) {
    SequenceOutput out = std::move(generation.read);
    out.generated = std::move(generation.tokens);
    out.generation_end = generation.end;  // not kAccepted: no score was written, finish() fails the row
    outputs.push_back(std::move(out));
  }
  return outputs;
}

ForwardOptions JudgeJob::forward_options() const {
  ForwardOptions o;
  o.logits = LogitsMode::kSelected;
  o.logit_token_ids = options_.score_tokens.ids;
  if (!options_.lager) return o;
  for (int32_t l = 0; l <= model_.config.num_layers; ++l) o.capture_layers.push_back(l);
  o.layer_logits = true;
  o.lens = options_.lens;
  // Only the per-layer logits are needed, not the states themselves; they are small ([L+1, d] per read).
  return o;
}

std::map<std::string, std::string> JudgeJob::row_values(const data::Example& example) const {
  std::string scores;
  for (const std::string& label : options_.score_tokens.labels) scores += (scores.empty() ? "" : ", ") + label;
  std::string rubric = string_field(example.raw, {"rubric", "score_rubric"});
  if (rubric.empty()) rubric = options_.prompt_template.default_rubric;
  std::string reference = string_field(example.raw, {"reference_answer", "reference"});
  if (reference.empty()) reference = "(none given)";
  return {{"prompt", prompt_text(example.prompt_turns)}, {"rubric", rubric}, {"reference", reference}, {"scores", scores}};
}

Result<std::string> JudgeJob::grading_prompt(const data::Example& example, const std::string& response) const {
  const ScoreTokens& st = options_.score_tokens;
  std::map<std::string, std::string> values = row_values(example);
  values["response"] = response;
  // The labels of the lowest and highest values, however the labels are listed ("5,4,3,2,1" too): the
  // prompt's scale must say what the values read from it mean.
  const auto [lowest, highest] = std::minmax_element(st.values.begin(), st.values.end());
  values["min_score"] = st.labels[size_t(lowest - st.values.begin())];
  values["max_score"] = st.labels[size_t(highest - st.values.begin())];
  return fill_judge_template(options_.prompt_template.text, values);
}

Result<std::string> JudgeJob::pairwise_prompt(const data::Example& example, const std::string& first,
                                              const std::string& second) const {
  const std::vector<std::string>& labels = options_.score_tokens.labels;  // [2] or [3]: A, B, tie
  std::string verdicts = labels[0] + " if Response " + labels[0] + " is better, " + labels[1] + " if Response " +
                         labels[1] + " is better";
  if (labels.size() == 3) verdicts += ", " + labels[2] + " if they are equally good";
  std::map<std::string, std::string> values = row_values(example);
  values["response_a"] = first;
  values["response_b"] = second;
  values["label_a"] = labels[0];
  values["label_b"] = labels[1];
  values["verdicts"] = verdicts;
  if (labels.size() == 3) values["label_tie"] = labels[2];
  return fill_judge_template(options_.prompt_template.text, values);
}

Result<std::vector<SequenceInput>> JudgeJob::prepare(const data::Example& example) {
  std::vector<SequenceInput> sequences;
  const bool pairwise = options_.prompt_template.pairwise;
  if (!example.input_ids.empty()) {
    if (pairwise || options_.prompt_template.listwise)
      return error("a pairwise or listwise judge compares text responses; this row comes as input_ids");
    SequenceInput sequence{example.input_ids, {}};
    ARB_TRY(fit_token_row(formatter_.get(), model_, sequence));
    sequences.push_back(std::move(sequence));
    return sequences;
  }
  if (!formats_text(formatter_.get())) return no_tokenizer_for_text(model_);
  if (example.responses.empty()) return error("the row has no response to judge");
  std::vector<std::string> prompts;
  if (options_.prompt_template.listwise) {
    const size_t n = example.responses.size(), labels = options_.score_tokens.labels.size();
    if (n < 2) return error("a listwise judge needs two or more responses; this row has one");
    if (n > labels)
      return error("this row has " + std::to_string(n) + " responses and the judge " + std::to_string(labels) +
                   " labels (--score-tokens)");
    for (const std::vector<size_t>& order : listwise_orders(n, options_.both_orders)) {
      ARB_ASSIGN(std::string prompt, listwise_prompt(example, order));
      prompts.push_back(std::move(prompt));
    }
  } else if (pairwise) {
    if (example.responses.size() < 2)
      return error("a pairwise judge needs two or more responses; this row has one (a pointwise template judges it)");
    ARB_ASSIGN(const std::vector<Comparison> comparisons, comparisons_of(example));
    for (const Comparison& c : comparisons) {
      ARB_ASSIGN(std::string prompt, pairwise_prompt(example, response_text(example, c.first), response_text(example, c.second)));
      prompts.push_back(std::move(prompt));
    }
  } else {
    for (size_t i = 0; i < example.responses.size(); ++i) {
      ARB_ASSIGN(std::string prompt, grading_prompt(example, response_text(example, i)));
      prompts.push_back(std::move(prompt));
    }
  }
  for (const std::string& prompt : prompts) {
    ARB_ASSIGN(FormattedSequence formatted, formatter_->judge_prompt(prompt, options_.prompt_template.answer_prefix,
                                                                     options_.prompt_template.system_message));
    sequences.push_back(SequenceInput{std::move(formatted.tokens), {}});
  }
  return sequences;
}

Status JudgeJob::check_read(const SequenceOutput& out) const {
  const size_t k = options_.score_tokens.ids.size();
  const size_t layers_plus_one = size_t(model_.config.num_layers + 1);
  if (options_.generate && out.generation_end != GenerationEnd::kAccepted) {
    const GenerationEnd end = out.generation_end;
    std::string tail = written_text(out.generated);
    if (tail.size() > 160) tail = "..." + tail.substr(tail.size() - 160);
    return error("the model wrote " + std::to_string(out.generated.size()) +
                 (out.generated.size() == 1 ? " token" : " tokens") + " (ended by " +
                 generation_end_name(end) + ") without a score token" +
                 (score_marker_.empty() ? "" : " after '" + score_marker_ + "'") + ": \"" + tail + "\"");
  }
  if (out.logits.size() != k || out.layer_logits.size() != (options_.lager ? layers_plus_one * k : 0))
    return error("judge: unexpected output sizes from the backend");
  return Status::ok();
}

std::vector<std::vector<double>> JudgeJob::per_layer_logits(const SequenceOutput& out, size_t n) const {
  const size_t k = options_.score_tokens.ids.size();
  const size_t layers_plus_one = size_t(model_.config.num_layers + 1);
  std::vector<std::vector<double>> per_layer(layers_plus_one, std::vector<double>(n));
  for (size_t l = 0; l + 1 < layers_plus_one; ++l)
    for (size_t j = 0; j < n; ++j) per_layer[l][j] = out.layer_logits[l * k + j];
  // Row L is the final layer read as the model reads it, in either lens: its own logits, the ones the
  // vanilla and expected scores take, final softcap (Gemma 2) included. A lens row has no cap, and LAGER
  // weights all on layer L would not give the expected score.
  for (size_t j = 0; j < n; ++j) per_layer.back()[j] = out.logits[j];
  return per_layer;
}

Result<JudgeScores> JudgeJob::read_scores(const SequenceOutput& out, nlohmann::json& fields) const {
  const size_t k = options_.score_tokens.ids.size();
  ARB_TRY(check_read(out));
  std::vector<double> final_logits(out.logits.begin(), out.logits.end());
  // per_layer: [L+1][K], empty with --skip-lager (then no lager score)
  std::vector<std::vector<double>> per_layer;
  if (options_.lager) {
    per_layer = per_layer_logits(out, k);
  }
  ARB_ASSIGN(JudgeScores s, judge_scores(final_logits, per_layer, layer_weights_, options_.score_tokens.values));
  fields["vanilla"] = s.vanilla;
  fields["expected"] = s.expected;
  if (options_.lager) fields["lager"] = s.lager;
  fields["probabilities"] = s.probabilities;
  if (options_.per_layer) fields["per_layer_logits"] = per_layer;
  if (options_.generate) {
    fields["generated"] = written_text(out.generated);
    fields["generated_tokens"] = out.generated.size();
  }
  return s;
}

Result<nlohmann::json> JudgeJob::finish(const data::Example& example, std::vector<SequenceOutput>& outputs) {
  if (options_.prompt_template.pairwise) return finish_pairwise(example, outputs);
  if (options_.prompt_template.listwise) return finish_listwise(example, outputs);
  std::vector<nlohmann::json> per_response;
  for (const SequenceOutput& out : outputs) {
    nlohmann::json r = nlohmann::json::object();
    ARB_TRY(read_scores(out, r).status());
    per_response.push_back(std::move(r));
  }
  nlohmann::json line = {{"id", example.id}};
  if (options_.per_layer && options_.lager) line["score_values"] = options_.score_tokens.values;
  add_response_results(line, std::move(per_response), example, options_.rank_by);
  return line;
}

Result<std::vector<Comparison>> JudgeJob::comparisons_of(const data::Example& example) const {
  const size_t n = example.responses.size();
  if (!options_.chosen_against_rejected) return pairwise_comparisons(n, options_.both_orders);
  const size_t chosen = chosen_response_count(example);
  if (chosen == 0 || chosen >= n)
    return error("--pairs chosen-rejected compares chosen with rejected responses; this row has " +
                 (chosen == 0 ? std::string("no 'chosen' field") : "no rejected response"));
  return pairwise_comparisons(n, options_.both_orders, chosen);
}

Result<nlohmann::json> JudgeJob::finish_pairwise(const data::Example& example, std::vector<SequenceOutput>& outputs) {
  const size_t n = example.responses.size();
  ARB_ASSIGN(const std::vector<Comparison> comparisons, comparisons_of(example));
  if (outputs.size() != comparisons.size()) return error("judge: unexpected number of outputs from the backend");
  std::vector<ComparisonCredit> credits;
  nlohmann::json comparison_lines = nlohmann::json::array();
  const std::vector<double> ranking = human_ranking(example);
  for (size_t c = 0; c < comparisons.size(); ++c) {
    nlohmann::json fields = {{"a", comparisons[c].first}, {"b", comparisons[c].second}};
    // People's verdict on this comparison, as A's credit: what `train lager --human-field human` fits.
    if (auto human = human_credit(ranking, comparisons[c])) fields["human"] = *human;
    auto scores = read_scores(outputs[c], fields);
    if (!scores)
      return error("comparison of response " + std::to_string(comparisons[c].first) + " (A) with response " +
                   std::to_string(comparisons[c].second) + " (B): " + scores.message());
    credits.push_back({scores->vanilla, scores->expected, scores->lager});
    comparison_lines.push_back(std::move(fields));
  }
  const PairwiseSummary summary = summarize_comparisons(n, comparisons, credits);
  order_agreement_.pairs += summary.pairs_in_both_orders;
  order_agreement_.agreeing += summary.agreeing_pairs;
  std::vector<nlohmann::json> per_response;
  for (const ComparisonCredit& r : summary.responses) {
    nlohmann::json fields = {{"vanilla", r.vanilla}, {"expected", r.expected}};
    if (options_.lager) fields["lager"] = r.lager;
    per_response.push_back(std::move(fields));
  }
  nlohmann::json line = {{"id", example.id}};
  if (options_.per_layer && options_.lager) line["score_values"] = options_.score_tokens.values;
  add_response_results(line, std::move(per_response), example, options_.rank_by);
  line["comparisons"] = std::move(comparison_lines);
  if (summary.order_agreement >= 0) line["order_agreement"] = summary.order_agreement;
  return line;
}

Result<std::string> JudgeJob::listwise_prompt(const data::Example& example, const std::vector<size_t>& order) const {
  const std::vector<std::string>& labels = options_.score_tokens.labels;
  std::string block, label_list;
  for (size_t j = 0; j < order.size(); ++j) {
    block += (j ? "\n\n[Response " : "[Response ") + labels[j] + "]\n" + response_text(example, order[j]);
    label_list += (j == 0 ? "" : j + 1 == order.size() ? " or " : ", ") + labels[j];
  }
  std::map<std::string, std::string> values = row_values(example);
  values["responses"] = block;
  values["labels"] = label_list;
  values["n"] = std::to_string(order.size());
  return fill_judge_template(options_.prompt_template.text, values);
}

Result<nlohmann::json> JudgeJob::finish_listwise(const data::Example& example, std::vector<SequenceOutput>& outputs) {
  const size_t n = example.responses.size();
  const std::vector<std::vector<size_t>> orders = listwise_orders(n, options_.both_orders);
  if (outputs.size() != orders.size()) return error("judge: unexpected number of outputs from the backend");
  std::vector<ListwiseRead> reads;
  nlohmann::json order_lines = nlohmann::json::array();
  const std::vector<double> ranking = human_ranking(example);
  for (size_t o = 0; o < orders.size(); ++o) {
    const SequenceOutput& out = outputs[o];
    Status checked = check_read(out);
    if (!checked) return checked.with_context("order " + std::to_string(o));
    // Only the first n labels are shown; the others' logits are left out of the softmax.
    std::vector<double> final_logits(out.logits.begin(), out.logits.begin() + long(n));
    for (double v : final_logits)
      if (!std::isfinite(v)) return error("order " + std::to_string(o) + ": a non-finite label logit");
    ListwiseRead read;
    read.final_probabilities = train::softmax(final_logits);
    nlohmann::json line = {{"order", orders[o]}, {"probabilities", read.final_probabilities}};
    // The label people would name (their single best response's position): what `train lager
    // --human-field human` fits on listwise reads.
    if (const int best = human_best_position(ranking, orders[o]); best >= 0) line["human"] = best;
    if (options_.lager) {
      const std::vector<std::vector<double>> per_layer = per_layer_logits(out, n);
      ARB_ASSIGN(std::vector<double> combined, train::lager_combined_logits(per_layer, layer_weights_));
      read.lager_probabilities = train::softmax(combined);
      line["lager_probabilities"] = read.lager_probabilities;
      if (options_.per_layer) line["per_layer_logits"] = per_layer;
    }
    if (options_.generate) {
      line["generated"] = written_text(out.generated);
      line["generated_tokens"] = out.generated.size();
    }
    reads.push_back(std::move(read));
    order_lines.push_back(std::move(line));
  }
  const ListwiseSummary summary = summarize_listwise(n, orders, reads);
  if (summary.order_agreement >= 0) {
    ++order_agreement_.listwise_rows;
    order_agreement_.listwise_agreement_sum += summary.order_agreement;
  }
  std::vector<nlohmann::json> per_response;
  for (size_t i = 0; i < n; ++i) {
    nlohmann::json fields = {{"vanilla", summary.vanilla[i]}, {"expected", summary.expected[i]}};
    if (options_.lager) fields["lager"] = summary.lager[i];
    per_response.push_back(std::move(fields));
  }
  nlohmann::json line = {{"id", example.id}};
  add_response_results(line, std::move(per_response), example, options_.rank_by);
  line["orders"] = std::move(order_lines);
  if (summary.order_agreement >= 0) line["order_agreement"] = summary.order_agreement;
  return line;
}

}  // namespace arbiter
