#include "score/reward_job.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <set>
#include <string>

#include "core/log.h"
#include "core/sigmoid.h"
#include "runtime/score_head.h"
#include "score/result_line.h"

namespace arbiter {

namespace {

const std::vector<std::string> kHelpSteerAttributes = {"helpfulness", "correctness", "coherence", "complexity", "verbosity"};

// A row's scalar for ranking: the weighted sum when weights are given, else the only output.
std::optional<double> scalar_of(const std::vector<double>& values, const std::optional<AttributeWeights>& weights) {
  if (weights) {
    double sum = 0;
    for (size_t i = 0; i < values.size(); ++i) sum += weights->weights[i] * values[i];
    return sum;
  }
  if (values.size() == 1) return values[0];
  return std::nullopt;
}

}  // namespace

Result<AttributeWeights> parse_attribute_weights(const std::string& spec, const std::vector<std::string>& labels) {
  AttributeWeights w;
  w.names = labels;
  w.weights.assign(labels.size(), 0.0);
  std::string text = spec;
  if (spec == "nemotron" || spec == "helpsteer2") {
    text = "helpfulness=0.30,correctness=0.74,coherence=0.46,complexity=0.47,verbosity=-0.33";
  }
  std::vector<std::string> parts;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  const bool named = text.find('=') != std::string::npos;
  if (!named && parts.size() != labels.size())
    return error("--attribute-weights: " + std::to_string(parts.size()) + " weights for " + std::to_string(labels.size()) +
                 " outputs");
  std::vector<bool> given(labels.size(), false);
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string name, value = parts[i];
    size_t index = i;
    if (named) {
      const size_t eq = parts[i].find('=');
      if (eq == std::string::npos) return error("--attribute-weights: '" + parts[i] + "' is not name=weight");
      name = parts[i].substr(0, eq);
      value = parts[i].substr(eq + 1);
      auto it = std::find(labels.begin(), labels.end(), name);
      if (it == labels.end()) return error("--attribute-weights: the model has no output named '" + name + "'");
      index = size_t(it - labels.begin());
      if (given[index]) return error("--attribute-weights: '" + name + "' is weighed twice");
    }
    given[index] = true;
    try {
      size_t used = 0;
      w.weights[index] = std::stod(value, &used);
      if (used != value.size()) throw std::invalid_argument(value);
    } catch (...) {
      return error("--attribute-weights: '" + value + "' is not a number");
    }
    // A NaN or infinite weight makes every score null (or infinite): a number of no meaning.
    if (!std::isfinite(w.weights[index])) return error("--attribute-weights: '" + value + "' is not a finite number");
  }
  return w;
}

RewardJob::RewardJob(const Model& model, std::shared_ptr<ConversationFormatter> formatter, RewardJobOptions options)
    : model_(model), formatter_(std::move(formatter)), options_(std::move(options)) {
  if (options_.head) {
    labels_ = options_.head->labels;
  } else if (options_.reward_token_id >= 0) {
    labels_ = {"score"};
  } else {
    labels_ = model_.config.label_names;
    const int64_t n = model_.config.num_labels;
    // transformers names unnamed outputs LABEL_0, LABEL_1, ...: treat those as no names at all.
    const bool default_names = std::all_of(labels_.begin(), labels_.end(),
                                           [](const std::string& l) { return l.rfind("LABEL_", 0) == 0; });
    if (default_names) labels_.clear();
    // Names an output shares with another (a malformed id2label) would merge them in the `attributes`
    // object and in --attribute-weights: the outputs are numbered instead.
    std::vector<std::string> sorted = labels_;
    std::sort(sorted.begin(), sorted.end());
    const bool repeated = std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end();
    // Unnamed five-output heads are most often HelpSteer2-style attribute heads; said, since nothing in
    // the model confirms it and --attribute-weights then weighs outputs by these names.
    if (labels_.empty() && n == 5) {
      labels_ = kHelpSteerAttributes;
      // Said once per model: a command that learns the output names first (--attribute-weights) builds a
      // job twice.
      static std::mutex warned_mutex;
      static std::set<std::string> warned;
      const std::lock_guard<std::mutex> lock(warned_mutex);
      if (warned.insert(model_.path).second)
        log_warn(model_.path + ": its 5 outputs have no names (id2label " +
                 (model_.config.label_names.empty() ? std::string("absent") : "LABEL_0..LABEL_4") +
                 "); they are read as HelpSteer2's attributes in its order: helpfulness, correctness, coherence, "
                 "complexity, verbosity");
    }
    if (repeated || int64_t(labels_.size()) != n) {
      labels_.clear();
      for (int64_t i = 0; i < n; ++i) labels_.push_back(n == 1 ? "score" : "output_" + std::to_string(i));
    }
  }
}

bool RewardJob::reads_steps() const {
  if (options_.head) return options_.head_reads_steps;
  return model_.config.process_reward || causal_steps();
}

ForwardOptions RewardJob::forward_options() const {
  ForwardOptions o;
  if (causal_steps()) {
    // [wrong, right] at each separator, the order a PRM head's two classes come in.
    o.logits = LogitsMode::kSelected;
    if (options_.step_label_token_ids.size() == 2)
      o.logit_token_ids = {options_.step_label_token_ids[1], options_.step_label_token_ids[0]};
  } else if (options_.head) {
    if (options_.head_layer < 0) o.final_norm = true;
    else o.capture_layers = {options_.head_layer};
  } else if (options_.reward_token_id >= 0) {
    o.logits = LogitsMode::kSelected;
    o.logit_token_ids = {options_.reward_token_id};
  } else if (reads_gated()) {
    o.final_norm = true;  // the gating network's row and the last token's, through the head on the host
  } else {
    o.score_head = true;
  }
  return o;
}

Status resolve_reward_tokens(RewardJobOptions& options, const Model& model, const ConversationFormatter* formatter) {
  if (options.head && !options.head_reads_steps) return Status::ok();
  const Tokenizer* tokenizer = formats_text(formatter) ? &formatter->tokenizer() : nullptr;
  auto need_tokenizer = [&](const std::string& what) -> Status {
    if (tokenizer) return Status::ok();
    return error("the model has no tokenizer to find " + what + " in (give token ids)");
  };
  if (model.config.process_reward || !options.step_label_tokens.empty() || !options.step_label_token_ids.empty() ||
      options.head_reads_steps) {
    if (options.step_turns) {
      if (!options.head_reads_steps && options.step_label_tokens.size() != 2)
        return error("steps as turns are answered with the right step's token: give it as text (--step-tokens)");
      if (!formats_text(formatter)) return error("the model has no tokenizer to format steps as turns with");
      ARB_ASSIGN(options.turn_opening, formatter->assistant_opening());
      if (!options.head_reads_steps) {
        ARB_ASSIGN(options.step_label_token_ids, resolve_step_label_tokens(*tokenizer, options.step_label_tokens));
      }
      return Status::ok();
    }
    if (options.step_tag.empty() && options.step_token_id < 0) options.step_tag = model.config.step_tag;
    if (options.step_token_id < 0) {
      ARB_TRY(need_tokenizer("the step separator '" + options.step_tag + "'"));
      ARB_ASSIGN(options.step_token_id, resolve_step_token(*tokenizer, options.step_tag));
    }
    if (options.step_label_token_ids.empty() && !options.step_label_tokens.empty()) {
      ARB_TRY(need_tokenizer("the step tokens"));
      ARB_ASSIGN(options.step_label_token_ids, resolve_step_label_tokens(*tokenizer, options.step_label_tokens));
    }
  }
  if (model.config.gating.enabled && !options.head) {
    ARB_TRY(need_tokenizer("the gating pattern"));
    ARB_ASSIGN(options.gating_pattern, tokenizer->encode(kGatingPatternText, /*add_special=*/false, /*parse_special=*/true));
  }
  return Status::ok();
}

Status RewardJob::mark_reads(SequenceInput& sequence, size_t expected_steps, size_t response_begin) const {
  const std::vector<int32_t>& tokens = sequence.tokens;
  if (reads_steps()) {
    if (causal_steps() && options_.step_label_token_ids.size() != 2) return error("the step tokens are not resolved");
    ARB_TRY(mark_step_reads(sequence, step_layout(), expected_steps, response_begin));
  } else if (reads_gated()) {
    // The gating network reads the last place the pattern starts (the end of the last user turn).
    const std::vector<int32_t>& pattern = options_.gating_pattern;
    if (pattern.empty()) return error("the gating pattern's tokens are not resolved");
    int64_t at = -1;
    for (int64_t i = int64_t(tokens.size()) - int64_t(pattern.size()); i >= 0 && at < 0; --i)
      if (std::equal(pattern.begin(), pattern.end(), tokens.begin() + i)) at = i;
    if (at < 0 || at + 1 >= int64_t(tokens.size()))
      return error("no end of a user turn followed by an assistant turn (Llama 3's '<|eot_id|><|start_header_id|>"
                   "assistant<|end_header_id|>'): the gating network reads there; format with the model's chat template");
    sequence.read_positions = {int32_t(at), int32_t(tokens.size() - 1)};
  } else if (options_.reward_token_id < 0 && !options_.head && model_.config.is_classifier() &&
             !model_.config.reward_at_eos && model_.config.pad_token_id >= 0) {
    // transformers' *ForSequenceClassification pools the last token that is not the pad token (all pad:
    // the first). Models fine-tuned with pad = EOS or end-of-turn were trained to be read there.
    const int64_t pad = model_.config.pad_token_id;
    size_t last = tokens.size();
    while (last > 1 && tokens[last - 1] == pad) --last;
    if (last < tokens.size()) sequence.read_positions = {int32_t(last - 1)};
  }
  return Status::ok();
}

StepLayout RewardJob::step_layout() const {
  StepLayout layout;
  layout.tag = options_.step_tag;
  layout.tag_id = options_.step_token_id;
  layout.join = options_.step_join;
  layout.split_at = options_.split_steps_at;
  if (options_.step_turns) {
    layout.turns = true;
    layout.answer = !options_.step_answer.empty()           ? options_.step_answer
                    : !options_.step_label_tokens.empty() ? options_.step_label_tokens[0]
                                                          : "+";
    layout.turn_opening = options_.turn_opening;
  }
  return layout;
}

Result<std::vector<SequenceInput>> RewardJob::prepare(const data::Example& example) {
  if (reads_steps()) {
    if (causal_steps() && options_.step_label_token_ids.size() != 2) return error("the step tokens are not resolved");
    return prepare_step_sequences(example, formatter_.get(), step_layout());
  }
  std::vector<SequenceInput> sequences;
  if (!example.input_ids.empty()) {
    if (options_.per_turn) return error("--per-turn scores the assistant turns of a conversation; this row comes as input_ids");
    SequenceInput sequence{example.input_ids, {}};
    ARB_TRY(fit_token_row(formatter_.get(), model_, sequence));
    sequences.push_back(std::move(sequence));
  } else {
    if (!formats_text(formatter_.get())) return no_tokenizer_for_text(model_);
    if (example.responses.empty()) return error("the row has no response to score");
    // The prompt's assistant turns first, each after the turns before it: these sequences begin alike, so
    // what they share is computed once (runtime/shared_prefix.h).
    for (size_t turn : assistant_turns(example)) {
      const std::vector<data::Turn> before(example.prompt_turns.begin(), example.prompt_turns.begin() + long(turn));
      const data::Turn& scored = example.prompt_turns[turn];
      ARB_ASSIGN(FormattedSequence formatted, formatter_->conversation(before, scored.content, scored.fields));
      sequences.push_back(sequence_of(std::move(formatted)));
    }
    for (size_t r = 0; r < example.responses.size(); ++r) {
      ARB_ASSIGN(FormattedSequence formatted, formatter_->conversation(example.prompt_turns, example.responses[r],
                                                                       data::fields_of_response(example, r)));
      sequences.push_back(sequence_of(std::move(formatted)));
    }
  }
  for (SequenceInput& sequence : sequences) ARB_TRY(mark_reads(sequence));
  return sequences;
}

const std::vector<float>& RewardJob::head_states(const SequenceOutput& out) const {
  return options_.head_layer < 0 ? out.final_norm : out.layer_states;
}

Result<std::vector<double>> RewardJob::head_outputs(const SequenceOutput& out) const {
  std::vector<double> values;
  if (options_.head) {
    const train::RewardHead& head = *options_.head;
    const std::vector<float>& x = head_states(out);  // [d]
    if (int64_t(x.size()) != head.dim)
      return error("the head expects " + std::to_string(head.dim) + " features, the model gives " +
                   std::to_string(x.size()));
    for (size_t k = 0; k < head.num_labels(); ++k) {
      double acc = head.bias.empty() ? 0.0 : head.bias[k];
      for (int64_t i = 0; i < head.dim; ++i) acc += head.row(k)[i] * double(x[size_t(i)]);
      // A binary head's score is a logit: its probability is what it says.
      values.push_back(head.objective == "binary" ? sigmoid(acc) : acc);
    }
  } else if (options_.reward_token_id >= 0) {
    if (out.logits.empty()) return error("the model gave no logit for the reward token");
    values.push_back(out.logits.back());  // the last read: the last token
  } else {
    values.assign(out.scores.end() - model_.config.num_labels, out.scores.end());
    if (options_.normalize_reward) values[0] = (values[0] - model_.config.reward_mean) / model_.config.reward_std;
  }
  for (double v : values)
    if (!std::isfinite(v)) return error("the model produced a non-finite score");
  return values;
}

nlohmann::json RewardJob::describe_response(const std::vector<double>& values) const {
  nlohmann::json j = nlohmann::json::object();
  if (values.size() > 1) {
    nlohmann::json attributes = nlohmann::json::object();
    for (size_t i = 0; i < values.size(); ++i) attributes[labels_[i]] = values[i];
    j["attributes"] = attributes;
  }
  if (auto s = scalar_of(values, options_.weights)) j["score"] = *s;
  return j;
}

Result<nlohmann::json> RewardJob::describe_steps(const SequenceOutput& out) const {
  std::vector<double> rewards;
  if (options_.head) {
    // A binary head on each separator's state (final-normed, or its layer's): its logit's sigmoid.
    const train::RewardHead& head = *options_.head;
    const std::vector<float>& x = head_states(out);  // [reads, d]
    if (int64_t(x.size()) != out.num_reads * head.dim)
      return error("the head expects " + std::to_string(head.dim) + " features per step");
    for (int64_t r = 0; r < out.num_reads; ++r) {
      // softmax([0, z])[1] = sigmoid(z): the same form as a two-class head's reward.
      const float wrong_right[2] = {0.0f, float(train::head_score(head, x.data() + r * head.dim))};
      rewards.push_back(step_reward(wrong_right));
    }
  } else if (!causal_steps() && model_.config.num_labels == 1) {
    // A value head (Skywork's PRM): one logit per separator, its sigmoid.
    if (int64_t(out.scores.size()) != out.num_reads) return error("the model gave no step reward at a separator");
    for (int64_t r = 0; r < out.num_reads; ++r) {
      const float wrong_right[2] = {0.0f, out.scores[size_t(r)]};
      rewards.push_back(step_reward(wrong_right));
    }
  } else {
    // [num_reads, 2]: the head's classes, or the step tokens' logits, both [wrong, right].
    const std::vector<float>& pairs = causal_steps() ? out.logits : out.scores;
    if (int64_t(pairs.size()) != out.num_reads * 2) return error("the model gave no step reward at a separator");
    for (int64_t r = 0; r < out.num_reads; ++r) rewards.push_back(step_reward(pairs.data() + r * 2));
  }
  for (double reward : rewards)
    if (!std::isfinite(reward)) return error("the model produced a non-finite step reward");
  nlohmann::json j = nlohmann::json::object();
  j["step_rewards"] = rewards;
  j["first_error_step"] = first_error_step(rewards, options_.step_threshold);
  j["score"] = aggregate_steps(rewards, options_.step_aggregate);
  return j;
}

Result<nlohmann::json> RewardJob::describe_gated(const SequenceOutput& out) const {
  const int64_t d = model_.config.hidden_size;
  if (out.num_reads != 2 || int64_t(out.final_norm.size()) != 2 * d)
    return error("a gated head needs two reads (where the prompt ends, the last token)");
  std::vector<double> rewards;
  const double score = gated_reward(model_, out.final_norm.data(), out.final_norm.data() + d, rewards);
  nlohmann::json attributes = nlohmann::json::object();
  for (size_t i = 0; i < rewards.size(); ++i) {
    if (!std::isfinite(rewards[i])) return error("the model produced a non-finite score");
    attributes[labels_[i]] = rewards[i];
  }
  if (!std::isfinite(score)) return error("the model produced a non-finite score");
  return nlohmann::json{{"attributes", attributes}, {"score", score}};
}

Result<nlohmann::json> RewardJob::describe(const SequenceOutput& out) const {
  if (reads_steps()) return describe_steps(out);
  if (reads_gated()) return describe_gated(out);
  ARB_ASSIGN(std::vector<double> values, head_outputs(out));
  return describe_response(values);
}

std::vector<size_t> RewardJob::assistant_turns(const data::Example& example) const {
  std::vector<size_t> turns;
  if (!options_.per_turn) return turns;
  for (size_t i = 0; i < example.prompt_turns.size(); ++i)
    if (example.prompt_turns[i].role == "assistant") turns.push_back(i);
  return turns;
}

Result<nlohmann::json> RewardJob::finish(const data::Example& example, std::vector<SequenceOutput>& outputs) {
  nlohmann::json line = {{"id", example.id}};
  // prepare() put the prompt's assistant turns (with --per-turn) before the responses.
  const size_t turns = example.input_ids.empty() ? assistant_turns(example).size() : 0;
  if (outputs.size() < turns) return error("the row's turns were not all scored");
  std::vector<nlohmann::json> described;
  for (const SequenceOutput& out : outputs) {
    ARB_ASSIGN(nlohmann::json result, describe(out));
    described.push_back(std::move(result));
  }
  if (options_.per_turn)
    line["turns"] = nlohmann::json(std::vector<nlohmann::json>(described.begin(), described.begin() + long(turns)));
  add_response_results(line, std::vector<nlohmann::json>(described.begin() + long(turns), described.end()), example,
                       "score");
  return line;
}

}  // namespace arbiter
