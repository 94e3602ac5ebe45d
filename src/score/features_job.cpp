#include "score/features_job.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <cmath>
#include <limits>
#include <map>

#include "core/log.h"
#include "data/reader.h"
#include "data/row_digest.h"
#include "data/schema.h"
#include "model/fingerprint.h"

namespace arbiter {

Result<std::unique_ptr<FeaturesJob>> FeaturesJob::create(const Model& model,
                                                         std::shared_ptr<ConversationFormatter> formatter,
                                                         const std::string& layer, FeaturesFileOptions file,
                                                         std::optional<StepLayout> steps) {
  if (file.checkpoint_rows < 1) return error("--checkpoint-rows must be at least 1");
  if (steps && !steps->resolved()) return error("features: the step separator's token is not resolved");
  auto job = std::unique_ptr<FeaturesJob>(new FeaturesJob());
  job->steps_ = std::move(steps);
  job->model_ = &model;
  job->formatter_ = std::move(formatter);
  job->parts_folder_ = parts_folder(file.output_path);
  job->file_ = std::move(file);
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
  job->set_.model = job->file_.model_source.empty() ? model.path : job->file_.model_source;
  job->set_.model_fingerprint = model_fingerprint(model);
  job->set_.model_commit = job->file_.model_commit;
  job->set_.model_digests = job->file_.model_digests;
  job->set_.dim = model.config.hidden_size;
  job->set_.settings = job->file_.settings;
  std::error_code ec;
  const bool interrupted = std::filesystem::exists(job->parts_folder_, ec);
  if (!interrupted) {
    std::filesystem::create_directories(job->parts_folder_, ec);
    if (ec) return error(job->parts_folder_ + ": cannot create: " + ec.message());
    job->parts_folder_created_ = true;
  }
  job->parts_lock_fd_ = ::open(job->parts_folder_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (job->parts_lock_fd_ >= 0 && ::flock(job->parts_lock_fd_, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    job->parts_folder_created_ = false;  // the other run's
    return error(job->file_.output_path + ": another process is writing these features (a run with the same output, "
                 "its parts in " + job->parts_folder_ + "); wait for it to finish, or write to another file");
  }
  if (interrupted) {
    if (!job->file_.resume)
      return error(job->parts_folder_ + ": holds the features of an interrupted run: --resume continues it (or "
                   "remove the folder to start over)");
    ARB_TRY(job->read_parts());
  }
  return job;
}

FeaturesJob::~FeaturesJob() {
  // A run that stopped before its first part leaves no folder that the next run would take for an
  // interrupted one.
  std::error_code ec;
  if (parts_folder_created_ && parts_written_ == 0 && std::filesystem::is_empty(parts_folder_, ec))
    std::filesystem::remove(parts_folder_, ec);
  if (parts_lock_fd_ >= 0) ::close(parts_lock_fd_);
}

std::string FeaturesJob::part_path(int64_t index) const {
  char name[32];
  std::snprintf(name, sizeof name, "part-%05lld.safetensors", static_cast<long long>(index));
  return (std::filesystem::path(parts_folder_) / name).string();
}

Status FeaturesJob::read_parts() {
  for (;; ++parts_written_) {
    const std::string path = part_path(parts_written_);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) break;
    ARB_ASSIGN(const train::FeatureSet part, train::read_features(path));
    // A part of another extraction would make a file that mixes them.
    if (!part.same_model_as(set_) || part.layer != set_.layer || part.dim != set_.dim)
      return error(path + ": extracted from " + part.model + " at " + part.layer + ", not " + set_.model + " at " +
                   set_.layer + ": resume with the same model and --layer, or remove " + parts_folder_);
    if (const auto edited = describe_digest_differences(part.model_digests, set_.model_digests); !edited.empty()) {
      std::string message = path + ": the model's files were edited since the interrupted run:";
      for (const std::string& d : edited) message += "\n  " + d;
      return error(message + "\nresume with the model as it was, or remove " + parts_folder_ + " to start over");
    }
    if (part.settings && set_.settings)
      if (const auto differences = describe_setting_differences(*part.settings, *set_.settings); !differences.empty()) {
        std::string message = path + ": the interrupted run was given other options than this one:";
        for (const std::string& d : differences) message += "\n  " + d;
        return error(message + "\nresume with the same options, or remove " + parts_folder_ + " to start over");
      }
    if (part.row_index.empty()) return error(path + ": no row_index: not a part this command wrote");
    if (file_.shards > 1)
      for (const int32_t row : part.row_index)
        if (row % file_.shards != file_.shard)
          return error(path + " holds row " + std::to_string(row) + ", which --shard " + std::to_string(file_.shard) + "/" +
                       std::to_string(file_.shards) + " does not read: the interrupted run was given another --shard "
                       "(or none); resume with its --shard, or remove " + parts_folder_ + " to start over");
    if (set_.responses == 0) set_.responses = part.responses;
    const bool digests = !part.row_digests.empty();
    for (size_t i = 0; i < part.row_index.size(); ++i)
      done_rows_.emplace(part.row_index[i],
                         DoneRow{parts_written_, digests ? part.row_digests[i] : part.ids.empty() ? "" : part.ids[i], digests});
  }
  log_info("resuming: " + std::to_string(done_rows_.size()) + " rows already in " + std::to_string(parts_written_) +
           " parts in " + parts_folder_);
  return Status::ok();
}

namespace {

// A feature row's id is its dataset row's id, or that id with "/responseR" and "/stepK" after it.
bool id_belongs_to(const std::string& feature_id, const std::string& row_id) {
  return feature_id.rfind(row_id, 0) == 0 && (feature_id.size() == row_id.size() || feature_id[row_id.size()] == '/');
}

}  // namespace

Result<bool> FeaturesJob::done(const data::Example& example) const {
  const auto it = done_rows_.find(int64_t(example.row_index));
  if (it == done_rows_.end()) return false;
  const DoneRow& held = it->second;
  const bool same = held.has_digest ? held.digest_or_id == data::row_digest(example) : id_belongs_to(held.digest_or_id, example.id);
  if (!same)
    return error(part_path(held.part) + " holds row " + std::to_string(example.row_index) + " of a different dataset (" +
                 (held.has_digest ? "other content or id; here id '" + example.id + "'"
                                  : "id '" + held.digest_or_id + "', here '" + example.id + "'") +
                 "): the dataset changed since the interrupted run; resume with the same dataset and options, or "
                 "remove " + parts_folder_ + " to start over");
  ++done_rows_reached_;
  return true;
}

Status FeaturesJob::write_part() {
  std::error_code ec;
  std::filesystem::create_directories(parts_folder_, ec);
  if (ec) return error(parts_folder_ + ": cannot create: " + ec.message());
  ARB_TRY(train::write_features(part_path(parts_written_), set_));
  ++parts_written_;
  // Label names stay, so that every later part carries them (NaN where its rows have none).
  set_.rows = 0;
  set_.features.clear();
  set_.ids.clear();
  set_.row_index.clear();
  set_.row_digests.clear();
  set_.prompt_hashes.clear();
  for (auto& [name, column] : set_.labels) column.clear();
  return Status::ok();
}

Status FeaturesJob::checkpoint() {
  if (set_.rows < file_.checkpoint_rows) return Status::ok();
  return write_part();
}

ForwardOptions FeaturesJob::forward_options() const {
  ForwardOptions o;
  if (layer_index_ < 0) o.final_norm = true;
  else o.capture_layers = {layer_index_};
  return o;
}

Result<std::vector<SequenceInput>> FeaturesJob::prepare(const data::Example& example) {
  rows_reached_ = std::max(rows_reached_, int64_t(example.row_index) + 1);
  // Labels are kept as F32: a larger one would be infinite there, and train head would refuse the file.
  for (const auto& [name, value] : example.labels)
    if (!std::isfinite(value) || std::fabs(value) > double(std::numeric_limits<float>::max()))
      return error("label '" + name + "' (" + std::to_string(value) + ") is outside what a label can be (a finite "
                   "32-bit float)");
  if (steps_) {
    set_.responses = 1;  // a feature row per step
    return prepare_step_sequences(example, formatter_.get(), *steps_);
  }
  std::vector<SequenceInput> sequences;
  if (!example.input_ids.empty()) {
    SequenceInput sequence{example.input_ids, {}};
    ARB_TRY(fit_token_row(formatter_.get(), *model_, sequence));
    sequences.push_back(std::move(sequence));
  } else {
    if (!formats_text(formatter_.get())) return no_tokenizer_for_text(*model_);
    if (example.responses.empty()) return error("the row has no response");
    for (size_t r = 0; r < example.responses.size(); ++r) {
      ARB_ASSIGN(FormattedSequence formatted, formatter_->conversation(example.prompt_turns, example.responses[r],
                                                                       data::fields_of_response(example, r)));
      sequences.push_back(sequence_of(std::move(formatted)));
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

void FeaturesJob::close_row(const std::string& id, const data::Example& example,
                            const std::map<std::string, double>& labels) {
  // Every row carries every label name seen so far; a label a row lacks is NaN (the trainer drops it).
  for (const auto& [name, value] : labels) {
    auto& column = set_.labels[name];
    column.resize(size_t(set_.rows), std::numeric_limits<double>::quiet_NaN());
    column.push_back(value);
  }
  ++set_.rows;
  for (auto& [name, column] : set_.labels) column.resize(size_t(set_.rows), std::numeric_limits<double>::quiet_NaN());
  set_.ids.push_back(id);
  set_.row_index.push_back(int32_t(example.row_index));
  // A row with many feature rows (steps) is fingerprinted once.
  if (digest_row_ != int64_t(example.row_index)) {
    digest_ = data::row_digest(example);
    digest_row_ = int64_t(example.row_index);
  }
  set_.row_digests.push_back(digest_);
  set_.prompt_hashes.push_back(data::prompt_hash(example));
}

namespace {

// Whether each step is right, as far as the row says: its per-step labels (a step_labels list, Math-Shepherd's
// "+" / "-"), else ProcessBench's first wrong step (the steps before it right, it wrong, those after it
// unknown: NaN). Empty when the row says nothing.
Result<std::vector<double>> step_correctness(const data::Example& example, size_t steps) {
  if (!example.step_labels.empty()) {
    if (example.step_labels.size() != steps)
      return error(std::to_string(example.step_labels.size()) + " step labels for " + std::to_string(steps) + " steps read");
    return example.step_labels;
  }
  auto it = example.labels.find("first_error_step");
  if (it == example.labels.end()) return std::vector<double>{};
  std::vector<double> out(steps, std::numeric_limits<double>::quiet_NaN());
  const int64_t first_error = int64_t(it->second);
  for (size_t k = 0; k < steps; ++k)
    if (first_error < 0 || int64_t(k) < first_error) out[k] = 1.0;
    else if (int64_t(k) == first_error) out[k] = 0.0;
  return out;
}

}  // namespace

Result<nlohmann::json> FeaturesJob::finish_steps(const data::Example& example, std::vector<SequenceOutput>& outputs) {
  std::vector<double> correct;
  if (outputs.size() == 1) {
    ARB_ASSIGN(correct, step_correctness(example, size_t(outputs[0].num_reads)));
  }
  for (size_t r = 0; r < outputs.size(); ++r) {
    const SequenceOutput& out = outputs[r];
    const std::vector<float>& states = layer_index_ < 0 ? out.final_norm : out.layer_states;  // [reads, d]
    if (int64_t(states.size()) != out.num_reads * set_.dim) return error("features: unexpected state size from the backend");
    for (int64_t k = 0; k < out.num_reads; ++k) {
      std::string id = example.id;
      if (outputs.size() > 1) id += "/response" + std::to_string(r);
      id += "/step" + std::to_string(k);
      std::map<std::string, double> labels;
      if (!correct.empty()) labels["step_correct"] = correct[size_t(k)];
      set_.features.insert(set_.features.end(), states.begin() + k * set_.dim, states.begin() + (k + 1) * set_.dim);
      close_row(id, example, labels);
    }
  }
  return nlohmann::json{{"id", example.id}};
}

Result<nlohmann::json> FeaturesJob::finish(const data::Example& example, std::vector<SequenceOutput>& outputs) {
  if (steps_) return finish_steps(example, outputs);
  for (const SequenceOutput& out : outputs) {
    const std::vector<float>& row = layer_index_ < 0 ? out.final_norm : out.layer_states;
    if (int64_t(row.size()) != set_.dim) return error("features: unexpected state size from the backend");
    set_.features.insert(set_.features.end(), row.begin(), row.end());
  }
  std::map<std::string, double> labels = example.labels;
  if (outputs.size() == 2 && is_chosen_rejected_pair(example.raw) && !labels.count("preference_strength"))
    labels["preference_strength"] = kChosenFirstStrength;
  close_row(example.id, example, labels);
  return nlohmann::json{{"id", example.id}};
}

namespace {

// Each feature row of `done` names a row of the input, by index, with the id it had there
// (id_belongs_to): a file extracted from another dataset, or from a longer one, is named at its first row
// that does not match. The rows this run reads (the first --limit, of them --shard's) must be the file's:
// one holding another shard's rows, rows past the limit, or whose extraction stopped before this run's
// last row (a longer input, a larger --limit) is not this run's output, however finished.
Status check_finished_rows(const std::string& path, const train::FeatureSet& done, const RunOptions& run) {
  if (done.row_index.empty() || done.ids.size() != done.row_index.size()) return Status::ok();
  ARB_ASSIGN(data::DatasetReader reader, data::DatasetReader::open(run.input, run.reader));
  const auto ours = [&](int64_t row) { return run.shards <= 1 || row % run.shards == run.shard; };
  size_t at = 0;            // the next feature row to match
  int64_t last_ours = -1;   // the last row this run reads (an unreadable one never reaches an extraction)
  std::string last_error;
  for (int64_t row = 0; run.limit <= 0 || row < run.limit; ++row) {
    data::Example example;
    Result<bool> got = reader.next(example);
    if (got.is_ok() && !*got) break;
    if (!got.is_ok()) {
      // A row the run could not read has no features (it failed, or was skipped); a reader that cannot move
      // past its error repeats it.
      if (reader.dataset_error() || got.message() == last_error) return got.status();
      last_error = got.message();
      continue;
    }
    const bool held = at < done.row_index.size() && done.row_index[at] == int32_t(example.row_index);
    if (!ours(int64_t(example.row_index))) {
      if (held)
        return error(path + " is finished, but holds row " + std::to_string(example.row_index) + ", which --shard " +
                     std::to_string(run.shard) + "/" + std::to_string(run.shards) +
                     " does not read: write another file, or remove it to extract again");
      continue;
    }
    last_ours = int64_t(example.row_index);
    while (at < done.row_index.size() && done.row_index[at] == int32_t(example.row_index)) {
      const std::string& id = done.ids[at];
      if (!id_belongs_to(id, example.id))
        return error(path + " is finished, but from other rows: its feature row " + std::to_string(at) +
                     " is row " + std::to_string(example.row_index) + " with id '" + id + "', where " + run.input +
                     " has id '" + example.id + "' there; write another file, or remove it to extract again");
      ++at;
    }
    if (at < done.row_index.size() && done.row_index[at] < int32_t(example.row_index))
      return error(path + " is finished, but not from " + run.input + "'s rows in order (feature row " +
                   std::to_string(at) + " is row " + std::to_string(done.row_index[at]) + ")");
  }
  if (at < done.row_index.size())
    return error(path + " is finished, but holds rows past the " +
                 (run.limit > 0 ? std::to_string(run.limit) + " rows this run reads (--limit)" : "end of " + run.input) +
                 " (feature row " + std::to_string(at) + " is row " + std::to_string(done.row_index[at]) +
                 "): write another file, or remove it to extract again");
  // How far the extraction read (its failed rows included): a file from before it was kept cannot say.
  if (done.input_rows >= 0 && last_ours >= done.input_rows)
    return error(path + " is finished, but its extraction read the input's first " + std::to_string(done.input_rows) +
                 " rows, and this run reads rows to " + std::to_string(last_ours) + " (a longer input, or a larger "
                 "--limit): write the other rows to another file, or remove it to extract again");
  return Status::ok();
}

}  // namespace

Status FeaturesJob::check_finished(const std::string& path, const RunOptions& run) const {
  ARB_ASSIGN(const train::FeatureSet done, train::read_features_header(path));
  std::vector<std::string> differences;
  if (!done.same_model_as(set_))
    differences.push_back("model: '" + done.model + "' (" + done.model_fingerprint + ") there, '" + set_.model + "' (" +
                          set_.model_fingerprint + ") now");
  if (done.layer != set_.layer) differences.push_back("layer: " + done.layer + " there, " + set_.layer + " now");
  if (done.settings && set_.settings)
    for (std::string& d : describe_setting_differences(*done.settings, *set_.settings, "there", "now"))
      differences.push_back(std::move(d));
  for (std::string& d : describe_digest_differences(done.model_digests, set_.model_digests, "there", "now"))
    differences.push_back(std::move(d));
  if (differences.empty()) return check_finished_rows(path, done, run);
  std::string listed;
  for (const std::string& d : differences) listed += "\n  " + d;
  return error(path + " is finished, but by another extraction than this one:" + listed +
               "\nwrite another file, or remove it to extract again");
}

Status FeaturesJob::close() {
  int64_t input_rows = rows_reached_;
  for (const auto& [row, done] : done_rows_) input_rows = std::max(input_rows, int64_t(row) + 1);
  if (parts_written_ == 0) {
    if (set_.rows == 0) return error("features: no rows were read");
    set_.row_digests.clear();  // only parts carry them
    set_.input_rows = input_rows;
    return train::write_features(file_.output_path, set_);
  }
  if (done_rows_reached_ < done_rows_.size())
    return error(parts_folder_ + " holds " + std::to_string(done_rows_.size()) + " rows, of which this run's input reached " +
                 std::to_string(done_rows_reached_) + " (a shorter input, --limit, or another --shard): the joined file would "
                 "hold rows this run does not; resume with the input and options that began it, or remove the folder "
                 "to start over");
  if (set_.rows > 0) ARB_TRY(write_part());
  // The parts in order, as one file (a label first seen in a later part is NaN for the rows before it).
  std::vector<std::string> parts;
  for (int64_t p = 0; p < parts_written_; ++p) parts.push_back(part_path(p));
  if (Status joined = train::join_feature_files(parts, file_.output_path, input_rows, set_.settings); !joined.is_ok())
    return error(joined.message() + " (the rows extracted are kept in " + parts_folder_ +
                 ": train head reads them as they are, --features '" + parts_folder_ + "/part-*.safetensors')");
  std::error_code ec;
  std::filesystem::remove_all(parts_folder_, ec);
  if (ec) log_warn(parts_folder_ + ": cannot remove the checkpoint parts: " + ec.message());
  return Status::ok();
}

}  // namespace arbiter
