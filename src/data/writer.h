// Streaming JSONL output that survives a crash: one line per input row, flushed as written, and a
// resume mode that keeps the complete lines of an earlier partial run so it can skip their rows.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/status.h"

namespace arbiter::data {

struct WriterOptions {
  bool resume = false;            // keep an existing file's complete lines; otherwise start empty
  std::string id_field = "id";    // the field of an output row that names its input row
  size_t flush_every = 1;         // rows per flush (1: every line reaches the OS as it is written)
  // A fresh (not resumed) file is emptied when the first line is written (or at close, when there is
  // none), not at open: a run that fails before its first line (a bad first row, a bad option found
  // late) leaves the old file as it was. Called right before the file is emptied (a run record, which a run
  // that cannot write it then leaves the old file as it was beside).
  std::function<Status()> on_emptied;
  // For outputs that are made whole or not at all (select, pairs: no resume): lines go to a temporary
  // file beside the path, renamed over it by close(); a run stopped before that leaves the old file as
  // it was, never a shorter file of valid lines. Excludes resume.
  bool whole = false;
};

class JsonlWriter {
 public:
  // With resume, a last line without its "\n" (a write cut short) is cut off the file, and every
  // complete line must parse and carry `id_field`, or open fails naming the line. Without it, the file is
  // opened (created if missing) but emptied only when the first line comes.
  static Result<JsonlWriter> open(const std::string& path, const WriterOptions& options = {});
  JsonlWriter() = default;
  JsonlWriter(JsonlWriter&&) = default;
  JsonlWriter& operator=(JsonlWriter&&) = default;
  // A file that open() created and that was never written nor closed (the run failed before its first
  // line) is removed: a failed run leaves no empty output where there was none.
  ~JsonlWriter();

  // True when a resumed file already holds the row with this id: the caller skips it.
  bool done(const std::string& id) const { return done_ids_.count(id) > 0; }
  size_t done_count() const { return done_ids_.size(); }

  // The lines a resumed file held, in file order (the input order of the run that wrote them), so that
  // the caller can check they are the rows its input starts with.
  struct ResumedLine {
    std::string id;
    size_t line = 0;      // 1-based
    bool failed = false;  // an error line (is_error_line): its row may read differently now
    std::string row_digest;  // the line's "row_digest" (written for rows without an id of their own), or ""
  };
  const std::vector<ResumedLine>& resumed_lines() const { return resumed_lines_; }

  // Writes one row as one line. The row must not already be done.
  Status write(const nlohmann::json& row);
  // Writes `text`, the line `row` was read from (JsonRow::text), as it was written; `row` itself when
  // text is empty (a row of a JSON array or Parquet file).
  Status write(const nlohmann::json& row, std::string_view text);
  Status flush();
  Status close();

  const std::string& path() const { return path_; }

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::string path_;
  WriterOptions options_;
  // Empties a fresh file before its first line (see WriterOptions::on_emptied).
  Status begin();
  Status write_line(std::string line, const nlohmann::json& row);

  std::unique_ptr<std::FILE, FileCloser> file_;
  std::string temp_path_;  // WriterOptions::whole: where the lines go until close()
  // WriterOptions::whole: the file being replaced, held open and locked so that a run writing it line by
  // line and this one exclude each other.
  std::unique_ptr<std::FILE, FileCloser> replaced_;
  bool emptied_ = false;  // a fresh file has been emptied (a resumed one never is)
  bool created_ = false;  // open() made the file: there was none at the path
  std::unordered_set<std::string> done_ids_;
  std::vector<ResumedLine> resumed_lines_;
  size_t unflushed_ = 0;
};

// The options of an output made whole or not at all (WriterOptions::whole).
inline WriterOptions whole_file() {
  WriterOptions options;
  options.whole = true;
  return options;
}

// The id of an output row as the writer compares it: a string as is, an integer in decimal.
std::string row_id_string(const nlohmann::json& id);

}  // namespace arbiter::data
