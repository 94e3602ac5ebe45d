#include "score/dataset_runner.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <sys/stat.h>

#include "core/log.h"
#include "core/progress.h"
#include "data/json_rows.h"
#include "data/reader.h"
#include "data/row_digest.h"
#include "data/writer.h"
#include "runtime/batcher.h"
#include "runtime/shared_prefix.h"

namespace arbiter {

namespace {

struct PendingRow {
  data::Example example;
  std::string failure;                   // non-empty: the row failed and gets an error line
  std::vector<SequenceInput> sequences;  // what prepare() returned
  std::vector<SequenceOutput> outputs;
};

// Counts the rows of a file cheaply for the progress total (only for plain JSONL; Parquet files say how
// many they hold; others stay unknown).
// A regular file's size and modification time (nanoseconds).
struct FileState {
  int64_t size = 0, modified = 0;
  bool operator!=(const FileState& other) const { return size != other.size || modified != other.modified; }
};

std::optional<FileState> file_state(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileState{int64_t(st.st_size), int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

int64_t count_lines(const std::string& path) {
  if (path.size() < 6 || path.substr(path.size() - 6) != ".jsonl") return 0;
  // A FIFO or pipe can be read once, by the reader: counting would drain it first.
  if (!file_state(path)) return 0;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return 0;
  int64_t lines = 0;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    for (size_t i = 0; i < n; ++i) lines += buf[i] == '\n';
  std::fclose(f);
  return lines;
}

// Every row's id before any row runs, where the dataset can be read twice (files, not a pipe): two rows of
// one id found only near the end of a long run would stop it after the rows before them were scored. Row
// errors are the run's to report (as error lines, or a stop); only a clash of ids is reported here. A long
// check shows its progress once it has taken a few seconds.
Status check_row_ids(const RunOptions& options) {
  const Result<std::vector<std::string>> files = data::files_named_by(options.input);
  if (!files) return Status::ok();  // the run's own reader says what is wrong with the input
  for (const std::string& file : *files)
    if (!file_state(file)) return Status::ok();
  Result<data::DatasetReader> reader = data::DatasetReader::open(options.input, options.reader);
  if (!reader) return Status::ok();
  const auto start = std::chrono::steady_clock::now();
  std::optional<Progress> progress;
  int64_t checked = 0, shown = 0;
  data::Example example;
  std::string last_error;
  for (; options.limit <= 0 || checked < options.limit; ++checked) {
    Result<bool> got = reader->next(example);
    if (got && !*got) break;
    if (!got) {
      if (reader->dataset_error()) return got.status();
      if (got.message() == last_error) break;  // a reader that cannot move past its error (a broken document)
      last_error = got.message();
    }
    if (checked % 1024 == 1023) {
      if (!progress && std::chrono::steady_clock::now() - start > std::chrono::seconds(3))
        progress.emplace("row ids", 0, "rows");
      if (progress) progress->advance(checked + 1 - shown);
      shown = checked + 1;
    }
  }
  return Status::ok();
}

// file:line (row id), for messages about one row.
std::string row_place(const RunOptions& options, const data::Example& example) {
  std::string place = options.input;
  if (example.line) place += ':' + std::to_string(example.line);
  return place + " (row " + example.id + ")";
}

// A row that truncation cut says so in its line: how many tokens went, and whether a response lost its end.
void note_truncation(const std::vector<SequenceInput>& sequences, nlohmann::json& line, RunSummary& summary) {
  int64_t tokens_cut = 0;
  bool response_end_cut = false;
  for (const SequenceInput& sequence : sequences) {
    tokens_cut += sequence.tokens_cut;
    response_end_cut = response_end_cut || sequence.response_end_cut;
  }
  if (tokens_cut == 0) return;
  ++summary.rows_truncated;
  summary.rows_response_end_cut += response_end_cut ? 1 : 0;
  if (!line.is_object()) return;
  line["truncated_tokens"] = tokens_cut;
  if (response_end_cut) line["response_end_cut"] = true;
}

Status run_chunk(Backend& backend, RowJob& job, const RunOptions& options, std::vector<PendingRow>& chunk,
                 data::JsonlWriter* writer, RunSummary& summary, Progress& progress) {
  // Flatten the chunk's sequences, plan batches by token budget, run them.
  std::vector<std::pair<size_t, size_t>> owner;  // flat index -> (row, sequence)
  std::vector<int64_t> lengths;
  for (size_t r = 0; r < chunk.size(); ++r) {
    chunk[r].outputs.resize(chunk[r].sequences.size());
    for (size_t s = 0; s < chunk[r].sequences.size(); ++s) {
      owner.emplace_back(r, s);
      lengths.push_back(int64_t(chunk[r].sequences[s].tokens.size()));
    }
  }
  int64_t chunk_tokens = 0;
  std::vector<std::vector<size_t>> batches;
  if (backend.shares_prefixes()) {
    std::vector<const std::vector<int32_t>*> tokens;
    for (const auto& [row, seq] : owner) tokens.push_back(&chunk[row].sequences[seq].tokens);
    batches = plan_batches_by_content(tokens, options.max_batch_tokens, 256, SharedPrefixOptions{}.min_tokens);
  } else {
    batches = plan_batches(lengths, options.max_batch_tokens);
  }
  for (const auto& batch : batches) {
    std::vector<SequenceInput> inputs;
    int64_t batch_tokens = 0;
    for (size_t flat : batch) {
      inputs.push_back(chunk[owner[flat].first].sequences[owner[flat].second]);
      batch_tokens += lengths[flat];
    }
    chunk_tokens += batch_tokens;
    const int64_t computed_before = backend.tokens_computed();
    ARB_ASSIGN(auto outputs, job.run_batch(backend, inputs));
    summary.computed_tokens += backend.shares_prefixes() ? backend.tokens_computed() - computed_before : batch_tokens;
    for (size_t i = 0; i < batch.size(); ++i) {
      const auto [row, seq] = owner[batch[i]];
      chunk[row].outputs[seq] = std::move(outputs[i]);
    }
  }
  summary.tokens += chunk_tokens;
  // Write in input order.
  for (PendingRow& row : chunk) {
    nlohmann::json line;
    if (row.failure.empty()) {
      auto finished = job.finish(row.example, row.outputs);
      if (!finished) {
        if (options.on_error == OnError::kFail) return finished.status().with_context(row_place(options, row.example));
        row.failure = finished.message();
      } else {
        line = std::move(finished).value();
        // A row known only by its index gets its fingerprint, so that a resumed run can tell the rows apart
        // from another dataset's rows of the same index.
        if (writer != nullptr && !row.example.id_from_row && line.is_object()) line["row_digest"] = data::row_digest(row.example);
        note_truncation(row.sequences, line, summary);
      }
    }
    if (!row.failure.empty()) {
      line = nlohmann::json{{"id", row.example.id}, {"error", row.failure}};
      ++summary.rows_failed;
    }
    if (writer != nullptr) ARB_TRY(writer->write(line));
    ++summary.rows_written;
  }
  if (writer != nullptr) ARB_TRY(writer->flush());
  ARB_TRY(job.checkpoint());
  progress.advance(int64_t(chunk.size()), chunk_tokens);
  chunk.clear();
  return Status::ok();
}

}  // namespace

Result<OnError> parse_on_error(const std::string& name) {
  if (name == "skip") return OnError::kSkip;
  if (name == "fail") return OnError::kFail;
  return error("--on-error must be skip or fail, not '" + name + "'");
}

Result<RunSummary> run_dataset(Backend& backend, RowJob& job, const RunOptions& requested) {
  const auto start = std::chrono::steady_clock::now();
  RunOptions options = requested;
  if (options.max_batch_tokens <= 0) {
    options.max_batch_tokens = backend.preferred_batch_tokens();
    options.chunk_rows = std::max(options.chunk_rows, options.chunk_rows * options.max_batch_tokens / 4096);
  }
  ARB_TRY(check_row_ids(options));
  ARB_ASSIGN(auto reader, data::DatasetReader::open(options.input, options.reader));
  data::WriterOptions writer_options;
  writer_options.resume = options.resume;
  writer_options.flush_every = 1 << 30;  // flushed once per chunk, after its lines are all written
  // A fresh output is emptied when its first line comes, and its record written then; a resumed one is
  // read now, and its record (where it had none) written now.
  if (!options.resume) writer_options.on_emptied = options.on_output_opened;
  std::optional<data::JsonlWriter> writer;
  if (!options.output.empty()) {
    ARB_ASSIGN(auto opened, data::JsonlWriter::open(options.output, writer_options));
    writer.emplace(std::move(opened));
  }
  data::JsonlWriter* out = writer ? &*writer : nullptr;
  if (out != nullptr && options.resume && options.on_output_opened) ARB_TRY(options.on_output_opened());
  RunSummary summary;
  if (out != nullptr && options.resume && out->done_count() > 0)
    log_info("resuming: " + std::to_string(out->done_count()) + " rows already in " + options.output);

  // The input as the run begins, to notice another job writing it meanwhile (a dataset still being
  // downloaded or regenerated): the run then reads rows of neither version whole.
  const std::optional<FileState> input_at_start = file_state(options.input);
  int64_t total_rows = reader.known_row_count();
  if (total_rows < 0) total_rows = count_lines(options.input);  // 0: not known
  if (options.limit > 0 && total_rows > 0) total_rows = std::min(total_rows, options.limit);
  // This shard's rows: indices shard, shard + shards, ... below the total.
  if (options.shards > 1 && total_rows > 0)
    total_rows = total_rows > options.shard ? (total_rows - options.shard + options.shards - 1) / options.shards : 0;
  Progress progress(options.progress_label, total_rows, "rows");
  progress.show();
  // A dataset with many bad rows would bury the terminal in warnings: the first ones are shown, the rest
  // are counted in the summary and written as error lines.
  constexpr int kShownSkips = 20;
  int skips_shown = 0;
  const auto warn_skipped = [&](const std::string& message) {
    if (skips_shown < kShownSkips) log_warn(message + " (skipped)");
    if (++skips_shown == kShownSkips)
      log_warn("further rows skipped are not shown: they are error lines in the output, and the summary counts them");
  };
  std::vector<PendingRow> chunk;
  int64_t rows_seen = 0;
  size_t resumed_checked = 0;  // of the resumed output's lines, those compared with the input's rows
  std::string last_read_error;
  for (;;) {
    if (options.limit > 0 && rows_seen >= options.limit) break;
    PendingRow row;
    auto got = reader.next(row.example);
    if (!got.is_ok()) {
      // An unreadable row: report it with its place, and either stop or keep its slot with an error line.
      // A reader that cannot move past its error (a broken JSON document) repeats it: stop then.
      if (options.on_error == OnError::kFail || reader.dataset_error() || got.message() == last_read_error)
        return got.status();
      last_read_error = got.message();
      if (rows_seen % options.shards == options.shard) warn_skipped(got.message());
      // A row that was read but refused keeps its own id (DatasetReader::next); one that could not be read
      // at all is known by its index.
      if (row.example.id.empty()) row.example.id = std::to_string(rows_seen);
      row.example.row_index = size_t(rows_seen);
      row.failure = got.message();
    } else if (!*got) {
      break;
    }
    const bool ours = rows_seen % options.shards == options.shard;  // else another shard's row
    ++rows_seen;
    if (!ours) continue;
    // A resumed output holds the first rows of this input in order; anything else means it was begun on
    // another dataset (or shard), and joining the two would make a file that is neither.
    if (out != nullptr && resumed_checked < out->resumed_lines().size()) {
      const data::JsonlWriter::ResumedLine& held = out->resumed_lines()[resumed_checked++];
      if (!held.failed && held.id != row.example.id)
        return error(options.output + ":" + std::to_string(held.line) + " holds row '" + held.id + "', where the input has " +
                     row_place(options, row.example) + ": the file was begun on another dataset or with other --shard / "
                     "--field options; resume with the same input and options, or write a new file");
      if (!held.failed && !held.row_digest.empty() && row.failure.empty() && held.row_digest != data::row_digest(row.example))
        return error(options.output + ":" + std::to_string(held.line) + " was written for another row " + held.id + " than " +
                     row_place(options, row.example) + " (its row_digest differs): the input changed since the file was "
                     "begun, or it is another dataset; resume with the same input, or write a new file");
    }
    bool done = out != nullptr && out->done(row.example.id);
    if (!done && row.failure.empty()) {
      auto job_done = job.done(row.example);
      if (!job_done) return job_done.status().with_context(row_place(options, row.example));
      done = *job_done;
    }
    if (done) {
      ++summary.rows_skipped_done;
      progress.skip(1);
      continue;
    }
    if (row.failure.empty()) {
      auto sequences = job.prepare(row.example);
      if (!sequences) {
        const std::string where = row_place(options, row.example);
        if (options.on_error == OnError::kFail) return sequences.status().with_context(where);
        warn_skipped(where + ": " + sequences.message());
        row.failure = sequences.message();
      } else {
        row.sequences = std::move(sequences).value();
      }
    }
    chunk.push_back(std::move(row));
    if (int64_t(chunk.size()) >= options.chunk_rows)
      ARB_TRY(run_chunk(backend, job, options, chunk, out, summary, progress));
  }
  if (!chunk.empty()) ARB_TRY(run_chunk(backend, job, options, chunk, out, summary, progress));
  // A resumed output holding more lines than this input (or --limit) has rows: those lines are rows the
  // run does not have, and the file would not be the one an uninterrupted run writes. (Every row of the
  // input was already there, so nothing was appended.)
  if (out != nullptr && resumed_checked < out->resumed_lines().size()) {
    const data::JsonlWriter::ResumedLine& extra = out->resumed_lines()[resumed_checked];
    return error(options.output + ":" + std::to_string(extra.line) + " holds row '" + extra.id + "', past the " +
                 std::to_string(resumed_checked) + " rows of " + options.input +
                 (options.limit > 0 ? " (--limit " + std::to_string(options.limit) + ")" : std::string()) +
                 ": the file was begun on a longer input; resume with it, or write a new file");
  }
  if (out != nullptr) ARB_TRY(out->close());
  ARB_TRY(job.close());
  progress.finish();
  if (const std::optional<FileState> now = file_state(options.input); input_at_start && now && *now != *input_at_start)
    log_warn(options.input + " changed while it was read (" + std::to_string(input_at_start->size) + " bytes when the run "
             "began, " + std::to_string(now->size) + " now): the output holds the rows as they were read; run again on "
             "the finished file");
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace arbiter
