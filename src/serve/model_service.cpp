#include "serve/model_service.h"

#include <algorithm>
#include <cmath>

#include "core/log.h"
#include "core/sigmoid.h"
#include "model/fingerprint.h"

namespace arbiter::serve {

namespace {

using nlohmann::json;

// `written`: tokens a judge generated (--generate) before its score.
json usage(int64_t tokens, int64_t written = 0) {
  return json{{"prompt_tokens", tokens}, {"total_tokens", tokens + written}, {"completion_tokens", written},
              {"prompt_tokens_details", nullptr}};
}

std::vector<double> softmax(const std::vector<double>& x) {
  const double top = *std::max_element(x.begin(), x.end());
  std::vector<double> p(x.size());
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += p[i] = std::exp(x[i] - top);
  for (double& v : p) v /= sum;
  return p;
}

}  // namespace

Result<Mode> parse_mode(const std::string& name) {
  if (name == "reward") return Mode::kReward;
  if (name == "judge") return Mode::kJudge;
  return error("--mode must be reward or judge, not '" + name + "'");
}

const char* mode_name(Mode mode) { return mode == Mode::kReward ? "reward" : "judge"; }

Result<std::unique_ptr<ModelService>> ModelService::create(std::shared_ptr<const Model> model, ServiceOptions options) {
  std::unique_ptr<ModelService> s(new ModelService(std::move(model), std::move(options)));
  s->fingerprint_ = model_fingerprint(*s->model_);
  auto formatter = ConversationFormatter::create(*s->model_, s->options_.format);
  if (formatter) s->formatter_ = std::move(formatter).value();
  else s->formatter_error_ = formatter.message();
  s->max_sequence_tokens_ = s->options_.max_sequence_tokens > 0 ? s->options_.max_sequence_tokens
                            : s->formatter_                      ? s->formatter_->max_length()
                                                                 : s->model_->config.max_position_embeddings;
  if (s->max_sequence_tokens_ <= 0) s->max_sequence_tokens_ = 4096;
  if (s->options_.mode == Mode::kReward) {
    const RewardJobOptions& r = s->options_.reward;
    if (!r.head && r.reward_token_id < 0 && r.step_label_tokens.empty() && r.step_label_token_ids.empty() &&
        !s->model_->config.is_classifier())
      return error(s->model_->path + ": not a sequence-classification model (serve it with --mode judge, or give "
                   "--head, --reward-token-id or --step-tokens)");
    RewardJobOptions& reward = s->options_.reward;
    if (Status resolved = resolve_reward_tokens(reward, *s->model_, s->formatter_.get()); !resolved)
      return resolved.with_context(s->model_->path + (s->formatter_ ? "" : " (" + s->formatter_error_ + ")"));
    s->reward_job_ = std::make_unique<RewardJob>(*s->model_, s->formatter_, reward);
  } else {
    if (s->formatter_) ARB_TRY(s->formatter_->check_system_message(s->options_.judge.prompt_template.system_message));
    JudgeOptions plain = s->options_.judge, per_layer = s->options_.judge;
    plain.per_layer = false;
    per_layer.per_layer = true;
    s->judge_job_ = std::make_unique<JudgeJob>(*s->model_, s->formatter_, plain);
    s->judge_job_per_layer_ = std::make_unique<JudgeJob>(*s->model_, s->formatter_, per_layer);
  }
  return s;
}

RowJob& ModelService::job() const {
  if (reward_job_) return *reward_job_;
  return *judge_job_;
}

Result<std::vector<SequenceOutput>> ModelService::run_batch(Backend& backend, const std::vector<SequenceInput>& inputs) const {
  return job().run_batch(backend, inputs);
}

json ModelService::describe() const {
  json j = {{"id", options_.model_name},
            {"object", "model"},
            {"owned_by", "arbiter"},
            {"mode", mode_name(options_.mode)},
            {"max_model_len", max_sequence_tokens_},
            {"tokenizer", formatter_ != nullptr},
            {"fingerprint", fingerprint_}};
  if (reward_job_) j["labels"] = reward_job_->labels();
  if (judge_job_) {
    j["score_labels"] = options_.judge.score_tokens.labels;
    j["score_values"] = options_.judge.score_tokens.values;
  }
  return j;
}

Status ModelService::check_sequence(const SequenceInput& sequence, const std::string& where) const {
  const int64_t n = int64_t(sequence.tokens.size());
  if (n == 0) return error(where + ": no tokens to score");
  if (n > max_sequence_tokens_)
    return error(where + ": " + std::to_string(n) + " tokens, more than the limit of " +
                 std::to_string(max_sequence_tokens_) + " per sequence");
  const int64_t vocab = model_->config.vocab_size;
  for (size_t i = 0; i < sequence.tokens.size(); ++i)
    if (sequence.tokens[i] < 0 || sequence.tokens[i] >= vocab)
      return error(where + ": token " + std::to_string(i) + " is id " + std::to_string(sequence.tokens[i]) +
                   ", outside the vocabulary of " + std::to_string(vocab));
  return Status::ok();
}

Result<std::vector<int32_t>> ModelService::encode(const std::string& text, bool add_special, const std::string& where) const {
  if (!formatter_) return error(where + ": this model has no tokenizer (" + formatter_error_ + "); send token ids");
  auto tokens = formatter_->tokenizer().encode(text, add_special, /*parse_special=*/true);
  if (!tokens) return tokens.status().with_context(where);
  return tokens;
}

Result<Prepared> ModelService::prepare_examples(const std::vector<data::Example>& items, const std::string& field) const {
  Prepared p;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string where = field + "[" + std::to_string(i) + "]";
    if (items[i].input_ids.empty() && !formatter_)
      return error(where + ": this model has no tokenizer (" + formatter_error_ + "); send token ids");
    auto sequences = job().prepare(items[i]);
    if (!sequences) return sequences.status().with_context(where);
    p.first.push_back(p.sequences.size());
    p.tokens_cut.push_back(0);
    p.response_end_cut.push_back(false);
    for (SequenceInput& s : *sequences) {
      ARB_TRY(check_sequence(s, where));
      p.tokens += int64_t(s.tokens.size());
      p.tokens_cut.back() += s.tokens_cut;
      if (s.response_end_cut) p.response_end_cut.back() = true;
      p.sequences.push_back(std::move(s));
    }
  }
  p.first.push_back(p.sequences.size());
  return p;
}

bool ModelService::has_classes() const {
  return !(reward_job_ && (reward_job_->reads_steps() || reward_job_->reads_gated()));
}

Status ModelService::mark_reads(SequenceInput& sequence, const std::string& where, size_t response_begin) const {
  if (!reward_job_) return Status::ok();
  return reward_job_->mark_reads(sequence, 0, response_begin).with_context(where);
}

Result<size_t> ModelService::response_begin(const std::string& query, const std::string& prompt,
                                            const std::vector<int32_t>& tokens, const std::string& where) const {
  const size_t at = prompt.empty() ? std::string::npos : query.find(prompt);
  if (at == std::string::npos) {
    // The trainer formats the prompt one way and decodes the query another (a BOS, spaces): read every
    // separator, as without prompts, and say so once.
    if (!prompt.empty() && !warned_prompt_not_found_.exchange(true))
      log_warn(where + ": the query does not hold its prompt's text; step separators are read in the whole query "
               "(warned once)");
    return size_t(0);
  }
  // A token that spans the boundary belongs to the response: the prompt's own tokens are those the two
  // encodings share from the start.
  ARB_ASSIGN(std::vector<int32_t> prompt_tokens, encode(query.substr(0, at + prompt.size()), /*add_special=*/false, where));
  size_t shared = 0;
  while (shared < prompt_tokens.size() && shared < tokens.size() && prompt_tokens[shared] == tokens[shared]) ++shared;
  return shared;
}

namespace {

// `text` without the runs of `a` or `b` it starts with (and, with `at_end`, those it ends with).
std::string_view strip_runs(std::string_view text, const std::string& a, const std::string& b, bool at_end) {
  for (bool cut = true; cut;) {
    cut = false;
    for (const std::string* t : {&a, &b})
      if (!t->empty() && text.substr(0, t->size()) == *t) text.remove_prefix(t->size()), cut = true;
  }
  for (bool cut = at_end; cut;) {
    cut = false;
    for (const std::string* t : {&a, &b})
      if (!t->empty() && text.size() >= t->size() && text.substr(text.size() - t->size()) == *t)
        text.remove_suffix(t->size()), cut = true;
  }
  return text;
}

}  // namespace

std::optional<std::pair<std::string, std::string>> ModelService::eos_and_pad() const {
  const Tokenizer& tokenizer = formatter_->tokenizer();
  if (!tokenizer.eos_id()) return std::nullopt;
  const std::string eos = tokenizer.id_to_token(*tokenizer.eos_id());
  return std::make_pair(eos, tokenizer.pad_id() ? tokenizer.id_to_token(*tokenizer.pad_id()) : eos);
}

std::string ModelService::openrlhf_query(const std::string& query) const {
  const auto tokens = eos_and_pad();
  if (!tokens) return query;
  return std::string(strip_runs(query, tokens->first, tokens->second, /*at_end=*/true)) + tokens->first;
}

std::string ModelService::openrlhf_prompt(const std::string& prompt) const {
  const auto tokens = eos_and_pad();
  return tokens ? std::string(strip_runs(prompt, tokens->first, tokens->second, /*at_end=*/false)) : prompt;
}

Result<Prepared> ModelService::prepare_queries(const RewardRequest& request) const {
  // As OpenRLHF's reward server (serve_rm.py): the pad and EOS tokens a query starts or ends with are
  // removed (a trainer decodes its left-padded batches whole) and one EOS is appended; the text is then
  // tokenized as it is (no special tokens added; a chat template and BOS are the client's), cut on the
  // right at the maximum length, and read at its last token, the EOS, whatever the pad token is.
  Prepared p;
  // Known before anything runs: a multi-output head without weights has no single reward to answer with.
  if (reward_job_ && !reward_job_->gives_one_score())
    return error("the model has " + std::to_string(reward_job_->labels().size()) +
                 " outputs and no way to combine them: start the server with --attribute-weights");
  for (size_t i = 0; i < request.queries.size(); ++i) {
    const std::string where = "query[" + std::to_string(i) + "]";
    if (!formatter_) return error(where + ": this model has no tokenizer (" + formatter_error_ + "); send token ids");
    const std::string query = openrlhf_query(request.queries[i]);
    ARB_ASSIGN(std::vector<int32_t> tokens, encode(query, /*add_special=*/false, where));
    const int64_t max_length = formatter_->max_length();
    const int64_t cut = std::max<int64_t>(0, int64_t(tokens.size()) - max_length);
    // A process reward model's steps past the cut would go unread, and the reward of the steps before it
    // would pass for the whole solution's: refused, as /v1/score and `arbiter score` refuse it.
    if (cut > 0 && reward_job_ && reward_job_->reads_steps())
      return error(where + ": " + std::to_string(tokens.size()) + " tokens, more than the maximum length " +
                   std::to_string(max_length) + ": the steps past the cut would not be read (start the server with a "
                   "larger --max-length, or send shorter solutions)");
    if (cut > 0) tokens.resize(size_t(max_length));
    p.tokens_cut.push_back(cut);
    size_t begin = 0;
    if (!request.prompts.empty() && reward_job_ && reward_job_->reads_steps()) {
      // The prompt as the query now begins: the pad and EOS run a trainer's decoding put before both is gone.
      ARB_ASSIGN(begin, response_begin(query, openrlhf_prompt(request.prompts[i]), tokens, where));
    }
    SequenceInput s{std::move(tokens), {}};
    ARB_TRY(mark_reads(s, where, begin));
    // OpenRLHF reads the last token its tokenizer's attention mask covers: the appended EOS even where it
    // is also the pad token, which a classifier's own read would pass over.
    if (reward_job_ && !reward_job_->reads_steps() && !reward_job_->reads_gated()) s.read_positions.clear();
    ARB_TRY(check_sequence(s, where));
    p.first.push_back(p.sequences.size());
    p.tokens += int64_t(s.tokens.size());
    p.sequences.push_back(std::move(s));
  }
  p.first.push_back(p.sequences.size());
  return p;
}

Result<Prepared> ModelService::prepare_pooling(const PoolingRequest& request) const {
  Prepared p;
  auto add = [&](SequenceInput s, const std::string& where) -> Status {
    if (request.truncate_prompt_tokens > 0 && int64_t(s.tokens.size()) > request.truncate_prompt_tokens)
      s.tokens.erase(s.tokens.begin(), s.tokens.end() - request.truncate_prompt_tokens);
    ARB_TRY(mark_reads(s, where));
    ARB_TRY(check_sequence(s, where));
    p.first.push_back(p.sequences.size());
    p.tokens += int64_t(s.tokens.size());
    p.sequences.push_back(std::move(s));
    return Status::ok();
  };
  if (!request.messages.empty()) {
    if (request.messages.back().role != "assistant")
      return error("messages: the last message must be the response to score (role 'assistant')");
    if (!formatter_) return error("messages: this model has no tokenizer (" + formatter_error_ + "); send token ids");
    std::vector<data::Turn> prompt(request.messages.begin(), request.messages.end() - 1);
    auto formatted = formatter_->conversation(prompt, request.messages.back().content, request.messages.back().fields);
    if (!formatted) return formatted.status().with_context("messages");
    ARB_TRY(add(SequenceInput{std::move(formatted->tokens), {}}, "messages"));
  }
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    const std::string where = request.inputs.size() == 1 ? "input" : "input[" + std::to_string(i) + "]";
    const TextOrTokens& in = request.inputs[i];
    if (in.tokenized) {
      ARB_TRY(add(SequenceInput{in.tokens, {}}, where));
    } else {
      ARB_ASSIGN(std::vector<int32_t> tokens, encode(in.text, request.add_special_tokens, where));
      ARB_TRY(add(SequenceInput{std::move(tokens), {}}, where));
    }
  }
  p.first.push_back(p.sequences.size());
  return p;
}

Result<std::vector<json>> ModelService::finish_items(RowJob& job, const std::vector<data::Example>& items,
                                                     const Prepared& prepared, std::vector<SequenceOutput>& outputs) const {
  std::vector<json> results;
  for (size_t i = 0; i < items.size(); ++i) {
    std::vector<SequenceOutput> own(std::make_move_iterator(outputs.begin() + long(prepared.first[i])),
                                    std::make_move_iterator(outputs.begin() + long(prepared.first[i + 1])));
    auto finished = job.finish(items[i], own);
    if (!finished) return finished.status().with_context("items[" + std::to_string(i) + "]");
    json line = std::move(finished).value();
    line.erase("id");
    // What --max-length truncation cut, as the offline commands' lines say it.
    if (i < prepared.tokens_cut.size() && prepared.tokens_cut[i] > 0) line["truncated_tokens"] = prepared.tokens_cut[i];
    if (i < prepared.response_end_cut.size() && prepared.response_end_cut[i]) line["response_end_cut"] = true;
    line["index"] = i;
    results.push_back(std::move(line));
  }
  return results;
}

Result<json> ModelService::score_response(const std::vector<data::Example>& items, const Prepared& prepared,
                                          std::vector<SequenceOutput>& outputs) const {
  ARB_ASSIGN(std::vector<json> data, finish_items(*reward_job_, items, prepared, outputs));
  return json{{"object", "list"}, {"model", options_.model_name}, {"labels", reward_job_->labels()},
              {"data", data}, {"usage", usage(prepared.tokens)}};
}

Result<json> ModelService::judge_response(const JudgeRequest& request, const Prepared& prepared,
                                          std::vector<SequenceOutput>& outputs) const {
  // --per-layer at start-up adds the logits to every answer; a request's "per_layer" to its own.
  JudgeJob& job = request.per_layer || options_.judge.per_layer ? *judge_job_per_layer_ : *judge_job_;
  int64_t written = 0;
  for (const SequenceOutput& out : outputs) written += int64_t(out.generated.size());
  ARB_ASSIGN(std::vector<json> data, finish_items(job, request.items, prepared, outputs));
  for (json& d : data) d.erase("score_values");  // said once, below
  return json{{"object", "list"}, {"model", options_.model_name},
              {"score_labels", options_.judge.score_tokens.labels}, {"score_values", options_.judge.score_tokens.values},
              {"data", data}, {"usage", usage(prepared.tokens, written)}};
}

Result<std::vector<double>> ModelService::head_values(SequenceOutput& output) const {
  data::Example example;
  std::vector<SequenceOutput> one;
  one.push_back(std::move(output));
  ARB_ASSIGN(json line, reward_job_->finish(example, one));
  std::vector<double> values;
  if (line.contains("step_rewards")) {
    values = line["step_rewards"].get<std::vector<double>>();
  } else if (line.contains("attributes")) {
    for (const std::string& label : reward_job_->labels()) values.push_back(line["attributes"][label].get<double>());
  } else if (line.contains("score")) {
    values.push_back(line["score"].get<double>());
  }
  if (values.empty()) return error("the reward job gave no outputs");
  return values;
}

Result<json> ModelService::reward_response(const Prepared& prepared, std::vector<SequenceOutput>& outputs) const {
  json rewards = json::array(), extra = json::object();
  // A process reward model's reward is its steps' aggregate; the steps travel beside it, one list per query.
  json step_rewards = json::array(), first_errors = json::array();
  const std::vector<std::string>& labels = reward_job_->labels();
  for (SequenceOutput& out : outputs) {
    data::Example example;
    std::vector<SequenceOutput> one;
    one.push_back(std::move(out));
    ARB_ASSIGN(json line, reward_job_->finish(example, one));
    if (!line.contains("score"))
      return error("the model has " + std::to_string(labels.size()) +
                   " outputs and no way to combine them: start the server with --attribute-weights");
    rewards.push_back(line["score"]);
    // Several outputs travel in extra_logs, one list per attribute, which OpenRLHF logs as they are.
    if (line.contains("attributes"))
      for (const std::string& label : labels) extra[label].push_back(line["attributes"][label]);
    if (line.contains("step_rewards")) {
      step_rewards.push_back(line["step_rewards"]);
      first_errors.push_back(line["first_error_step"]);
    }
  }
  json response = {{"rewards", rewards}, {"scores", rewards}, {"extra_logs", extra}};
  // An outcome model's query over the maximum length is cut on the right, as OpenRLHF's server cuts it; the
  // answer says how many tokens each lost (0 for those not cut) when any was.
  if (std::any_of(prepared.tokens_cut.begin(), prepared.tokens_cut.end(), [](int64_t n) { return n > 0; }))
    response["truncated_tokens"] = prepared.tokens_cut;
  if (!step_rewards.empty()) {
    response["step_rewards"] = step_rewards;
    response["first_error_step"] = first_errors;
  }
  return response;
}

Result<json> ModelService::pooling_response(const Prepared& prepared, std::vector<SequenceOutput>& outputs,
                                            bool classify) const {
  const std::vector<std::string>& labels = reward_job_->labels();
  json data = json::array();
  for (size_t i = 0; i < outputs.size(); ++i) {
    ARB_ASSIGN(std::vector<double> values, head_values(outputs[i]));
    if (!classify) {
      data.push_back(json{{"index", i}, {"object", "pooling"}, {"data", values}});
      continue;
    }
    // vLLM's default activation for a classifier: softmax over several classes, sigmoid over one.
    std::vector<double> probs = values.size() == 1 ? std::vector<double>{sigmoid(values[0])} : softmax(values);
    const size_t best = values.size() == 1 ? 0 : size_t(std::max_element(probs.begin(), probs.end()) - probs.begin());
    data.push_back(json{{"index", i}, {"label", best < labels.size() ? json(labels[best]) : json(nullptr)},
                        {"probs", probs}, {"num_classes", probs.size()}});
  }
  return json{{"object", "list"}, {"model", options_.model_name}, {"data", data}, {"usage", usage(prepared.tokens)}};
}

}  // namespace arbiter::serve
