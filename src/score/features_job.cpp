#include "score/features_job.h"

#include <charconv>
#include <limits>
#include <map>

#include "data/schema.h"

namespace arbiter {

Result<std::unique_ptr<FeaturesJob>> FeaturesJob::create(const Model& model,
                                                         std::shared_ptr<ConversationFormatter> formatter,
                                                         const std::string& layer, std::string output_path) {
  auto job = std::unique_ptr<FeaturesJob>(new FeaturesJob());
  job->model_ = &model;
  job->formatter_ = std::move(formatter);
  job->output_path_ = std::move(output_path);
  const int64_t layers = model.config.num_layers;
  if (layer == "final" || layer == "final_norm") {
    job->set_.layer = "final_norm";
  } else {
    std::string digits = layer.rfind("layer", 0) == 0 ? layer.substr(5) : layer;
    int value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || ptr != digits.data() + digits.size())
      return error("--layer must be final or a layer index 0.." + std::to_string(layers) + " (negative counts from the end)");
    if (value < 0) value += int(layers) + 1;
    if (value < 0 || value > layers) return error("--layer " + layer + " is outside 0.." + std::to_string(layers));
    job->layer_index_ = value;
    job->set_.layer = "layer" + std::to_string(value);
  }
  job->set_.model = model.path;
  job->set_.dim = model.config.hidden_size;
  return job;
}

ForwardOptions FeaturesJob::forward_options() const {
  ForwardOptions o;
  if (layer_index_ < 0) o.final_norm = true;
  else o.capture_layers = {layer_index_};
  return o;
}

Result<std::vector<SequenceInput>> FeaturesJob::prepare(const data::Example& example) {
  std::vector<SequenceInput> sequences;
  if (!example.input_ids.empty()) {
    sequences.push_back(SequenceInput{example.input_ids, {}});
  } else {
    if (example.responses.empty()) return error("the row has no response");
    for (const std::string& response : example.responses) {
      ARB_ASSIGN(FormattedSequence formatted, formatter_->conversation(example.prompt_turns, response));
      sequences.push_back(SequenceInput{std::move(formatted.tokens), {}});
    }
  }
  if (set_.responses == 0) set_.responses = int64_t(sequences.size());
  if (int64_t(sequences.size()) != set_.responses)
    return error("row has " + std::to_string(sequences.size()) + " responses, earlier rows had " +
                 std::to_string(set_.responses) + " (a features file holds the same number per row)");
  return sequences;
}

namespace {

// A chosen / rejected pair (RewardBench's rows, and preference data published as conversations) says
// which response is better, not by how much. Its features get preference_strength -1: response 1 (the
// chosen one, read first) preferred, by the smallest strength; so `train head --objective bt` trains on
// such data, and bt-scaled / bt-margin weigh every pair alike.
constexpr double kChosenFirstStrength = -1.0;

bool is_chosen_rejected_pair(const nlohmann::json& raw) {
  if (!raw.is_object() || !raw.contains("chosen") || !raw.contains("rejected")) return false;
  const nlohmann::json &chosen = raw["chosen"], &rejected = raw["rejected"];
  // RewardBench 2 lists its completions: a pair only when it has one of each.
  if (data::lists_completions(chosen) || data::lists_completions(rejected))
    return data::lists_completions(chosen) && data::lists_completions(rejected) && chosen.size() == 1 &&
           rejected.size() == 1;
  return true;
}

}  // namespace

Result<nlohmann::json> FeaturesJob::finish(const data::Example& example, std::vector<SequenceOutput>& outputs) {
  for (const SequenceOutput& out : outputs) {
    const std::vector<float>& row = layer_index_ < 0 ? out.final_norm : out.layer_states;
    if (int64_t(row.size()) != set_.dim) return error("features: unexpected state size from the backend");
    set_.features.insert(set_.features.end(), row.begin(), row.end());
  }
  // Every row carries every label name seen so far; a label a row lacks is NaN (the trainer drops it).
  std::map<std::string, double> labels = example.labels;
  if (outputs.size() == 2 && is_chosen_rejected_pair(example.raw) && !labels.count("preference_strength"))
    labels["preference_strength"] = kChosenFirstStrength;
  for (const auto& [name, value] : labels) {
    auto& column = set_.labels[name];
    column.resize(size_t(set_.rows), std::numeric_limits<double>::quiet_NaN());
    column.push_back(value);
  }
  ++set_.rows;
  for (auto& [name, column] : set_.labels) column.resize(size_t(set_.rows), std::numeric_limits<double>::quiet_NaN());
  set_.ids.push_back(example.id);
  set_.row_index.push_back(int32_t(example.row_index));
  return nlohmann::json{{"id", example.id}};
}

Status FeaturesJob::close() {
  if (set_.rows == 0) return error("features: no rows were read");
  return train::write_features(output_path_, set_);
}

}  // namespace arbiter
