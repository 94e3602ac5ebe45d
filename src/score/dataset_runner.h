// Runs a model over a dataset: rows are read in chunks, turned into sequences by a RowJob, packed into
// forward passes by a token budget, and written back in input order as one JSONL line per row, with
// resume, per-row errors and progress. Reward scoring, judging and feature extraction are RowJobs.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/example.h"
#include "data/reader.h"
#include "runtime/backend.h"

namespace arbiter {

class RowJob {
 public:
  virtual ~RowJob() = default;
  // What every forward pass of this job must produce.
  virtual ForwardOptions forward_options() const = 0;
  // Runs one batch of this job's sequences: one forward pass, unless the job needs more (a judge that
  // lets the model write first decodes).
  virtual Result<std::vector<SequenceOutput>> run_batch(Backend& backend, const std::vector<SequenceInput>& inputs) {
    return backend.forward(inputs, forward_options());
  }
  // The sequences one row needs (one per response, usually).
  virtual Result<std::vector<SequenceInput>> prepare(const data::Example& example) = 0;
  // The output line of the row, from its sequences' outputs (same order as prepare returned them).
  virtual Result<nlohmann::json> finish(const data::Example& example, std::vector<SequenceOutput>& outputs) = 0;
  // Whether a resumed run has this row already, in a file of the job's own (the JSONL output's rows are
  // known to the runner). An error when that file holds the row as something else (the dataset changed).
  virtual Result<bool> done(const data::Example& example) const { return false; }
  // Called after each chunk of rows is finished and written: a job that writes its own file keeps what
  // it has there, so that an interrupted run loses at most the chunk in flight.
  virtual Status checkpoint() { return Status::ok(); }
  // Called once after the last row (e.g. to write a features file).
  virtual Status close() { return Status::ok(); }
};

enum class OnError { kSkip, kFail };

struct RunOptions {
  std::string input;
  std::string output;  // JSONL of one line per row; empty: no line output (the job writes its own file)
  data::ReaderOptions reader;
  bool resume = false;
  OnError on_error = OnError::kFail;
  int64_t max_batch_tokens = 0;  // tokens per forward pass; 0: the backend's preferred_batch_tokens()
  // Rows read, tokenized and written together; with the backend's batch size, scaled as it is above 4096
  // tokens, so that a chunk still fills its passes.
  int64_t chunk_rows = 64;
  int64_t limit = 0;                // stop after this many rows (0: all)
  // Of the rows (the first `limit` when given), only those whose index % shards == shard: one of several
  // processes sharing a dataset. Another shard's rows are read and passed over, not written.
  int64_t shard = 0, shards = 1;
  std::string progress_label = "scoring";
  // Called once the output is taken over and before any line is written (a fresh one when it is emptied,
  // as its first line comes; a resumed one once read), so that what is kept beside it (a run record) never
  // describes an older file, and a run that fails before its first line leaves both as they were.
  std::function<Status()> on_output_opened;
};

struct RunSummary {
  int64_t rows_written = 0, rows_skipped_done = 0, rows_failed = 0, tokens = 0;
  int64_t computed_tokens = 0;  // tokens the forward passes computed: shared prefixes once
  // Rows written whose sequences --max-length truncation cut, and of them those where a response's own end
  // went (the model then read a reward where the response does not end).
  int64_t rows_truncated = 0, rows_response_end_cut = 0;
  double seconds = 0;
};

Result<RunSummary> run_dataset(Backend& backend, RowJob& job, const RunOptions& options);

Result<OnError> parse_on_error(const std::string& name);

}  // namespace arbiter
