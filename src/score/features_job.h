// Feature extraction: the hidden state of one residual-stream layer (or the final-normed last layer, what
// a sequence-classification head reads) at each response's last token, collected for every row into a
// features file for `arbiter train head` (docs/formats.md, "Features files"). With a step layout, the
// state at every step separator instead, one feature row per step, labelled step_correct where the row
// says which steps are right (ProcessBench's first wrong step, or a step_labels list).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "score/dataset_runner.h"
#include "score/formatter.h"
#include "score/step_reads.h"
#include "train/features_file.h"

namespace arbiter {

// Checkpoints: once `checkpoint_rows` feature rows have gathered, they go to OUTPUT.parts/part-NNNNN.safetensors
// (at the end of a chunk of dataset rows), so an interrupted run keeps what it extracted and memory holds
// one part; close() joins the parts into OUTPUT and removes the folder. A resumed run reads the parts an
// interrupted one left, skips the dataset rows they hold and adds parts after them.
struct FeaturesFileOptions {
  std::string output_path;
  int64_t checkpoint_rows = 1024;
  bool resume = false;  // continue OUTPUT.parts; without it, a folder left there is an error
  // The options of the extraction, kept in every part and in the file; a resume over parts kept with
  // other options is refused.
  std::optional<RunSettings> settings;
  // A model pulled from the Hub: the source as given (hf://ORG/REPO...) and the commit(s) it was served at,
  // comma-separated; the file names them in place of the cache's path. Empty for a local model.
  std::string model_source, model_commit;
  // The model's own chat template (where it formats the rows), tokenizer and configuration digests: kept in
  // every part and the file; a resume over parts or a file kept with others is refused.
  ModelDigests model_digests;
  // --shard K/N: the rows whose index % shards == shard. Parts of another shard's rows (a resume given
  // another --shard) are refused before any row is extracted.
  int64_t shard = 0, shards = 1;
};

class FeaturesJob final : public RowJob {
 public:
  ~FeaturesJob() override;

 public:
  // layer: "final_norm" or "layerJ" with J in 0..L. steps: read at every separator (its tag_id resolved).
  static Result<std::unique_ptr<FeaturesJob>> create(const Model& model, std::shared_ptr<ConversationFormatter> formatter,
                                                     const std::string& layer, FeaturesFileOptions file,
                                                     std::optional<StepLayout> steps = std::nullopt);
  ForwardOptions forward_options() const override;
  Result<std::vector<SequenceInput>> prepare(const data::Example& example) override;
  Result<nlohmann::json> finish(const data::Example& example, std::vector<SequenceOutput>& outputs) override;
  // Whether the parts hold the row; an error when they hold its index as another row (the dataset changed).
  Result<bool> done(const data::Example& example) const override;
  Status checkpoint() override;
  Status close() override;

  // The folder of an output's checkpoint parts.
  static std::string parts_folder(const std::string& output_path) { return output_path + ".parts"; }

  // For a resume that finds the output finished: an error unless it was extracted from this model, at
  // this layer, with these options, from the rows of `run`'s input (each feature row's dataset row is
  // there, at its index, with its id; the file's header is read, not its values).
  Status check_finished(const std::string& path, const RunOptions& run) const;

 private:
  Result<nlohmann::json> finish_steps(const data::Example& example, std::vector<SequenceOutput>& outputs);
  // Ends a feature row whose R states were appended: its labels, id and dataset row.
  void close_row(const std::string& id, const data::Example& example, const std::map<std::string, double>& labels);

  const Model* model_ = nullptr;
  std::shared_ptr<ConversationFormatter> formatter_;
  int32_t layer_index_ = -1;  // -1: final_norm
  // Reads the parts an interrupted run left: their dataset rows are done.
  Status read_parts();
  // Writes the rows gathered since the last part as the next part, and lets them go.
  Status write_part();
  std::string part_path(int64_t index) const;

  std::string parts_folder_;
  // The parts folder held open and locked for the run: a second run with the same output is refused
  // instead of writing parts under the same names. -1: none.
  int parts_lock_fd_ = -1;
  bool parts_folder_created_ = false;  // made by this run, and removed by it when it wrote no part
  FeaturesFileOptions file_;
  std::optional<StepLayout> steps_;
  train::FeatureSet set_;  // the rows not yet in a part
  int64_t parts_written_ = 0;
  // One past the last input row this process was handed (a failed one too): with the parts' rows, how far
  // the extraction reached (FeatureSet::input_rows).
  int64_t rows_reached_ = 0;
  // The dataset rows the parts of an interrupted run hold, by row_index: the part, and the row's
  // fingerprint, or in parts written without fingerprints its first feature row's id.
  struct DoneRow {
    int64_t part = 0;
    std::string digest_or_id;
    bool has_digest = false;
  };
  std::map<int64_t, DoneRow> done_rows_;
  // Of done_rows_, those this run's input reached (done() found them): fewer, and the parts hold rows the
  // input no longer has.
  mutable size_t done_rows_reached_ = 0;
  int64_t digest_row_ = -1;  // the row whose fingerprint digest_ is: computed once for its many feature rows
  std::string digest_;
};

}  // namespace arbiter
