// JSON rows from a dataset file: JSONL (one value per line, streamed), one JSON document holding an
// array of rows (parsed at once: a JSON array cannot be streamed with nlohmann), either gzipped or not,
// or a Parquet file (one row group decoded at a time, each row an object of its columns).
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/line_reader.h"
#include "data/parquet/file_reader.h"

namespace arbiter::data {

enum class FileFormat { kAuto, kJsonl, kJsonArray, kParquet };

struct JsonRow {
  nlohmann::json value;
  size_t row_index = 0;  // 0-based among rows (blank lines are not rows), across all files of a pattern
  size_t file_row = 0;   // 0-based among the rows of the file it came from
  size_t line = 0;       // 1-based line in a JSONL file; 0 for an array element or a Parquet row
  // A JSONL row's line as written (less a byte-order mark and trailing white space), so that a command
  // that passes rows through (select) writes them byte for byte; empty for the other formats.
  std::string text;
};

// ".jsonl"/".jsonl.gz" -> JSONL, ".json"/".json.gz" -> array document, ".parquet" or a file starting
// with Parquet's magic -> Parquet, else decided by the first non-blank character ('[' -> document).
// A path that is not a file but a pattern with * ? or [ ] (the shards of a Hugging Face dataset:
// "data/train-*.parquet") reads every matching file in name order, as one sequence of rows.
class JsonRowReader {
 public:
  static Result<JsonRowReader> open(const std::string& path, FileFormat format = FileFormat::kAuto);

  // Returns false at the end. Errors name the file and the line (or element) of the bad row.
  Result<bool> next(JsonRow& row);

  FileFormat format() const { return format_; }
  // A JSON document that is one object (read as a one-row dataset), not an array.
  bool one_object() const { return part_ ? part_->one_object() : one_object_; }
  // The number of rows when the file says it without being read (Parquet's footer), else -1.
  int64_t known_row_count() const;
  // A Parquet file's footer (null for the JSON formats).
  const parquet::FileMetaData* parquet_metadata() const;
  const std::string& path() const { return path_; }
  // "file:LINE", "file: element N" or "file: row N", for messages about a row this reader produced.
  std::string where(const JsonRow& row) const;

 private:
  std::string path_;
  FileFormat format_ = FileFormat::kJsonl;
  FileFormat requested_format_ = FileFormat::kAuto;  // what open() was asked for, for a pattern's later files
  std::optional<LineReader> lines_;
  std::optional<parquet::ParquetRowReader> parquet_;
  // A pattern's files, and the reader of the current one (then the members above are unused).
  std::vector<std::string> files_;
  size_t file_index_ = 0;
  std::unique_ptr<JsonRowReader> part_;
  int64_t pattern_rows_ = -1;  // the files' total when all are Parquet
  std::optional<std::string> pending_line_;  // first line read while sniffing the format
  size_t pending_line_number_ = 0;
  nlohmann::json document_;
  bool one_object_ = false;
  size_t next_row_ = 0;
};

// Whether a row is the error line a scoring run writes for a row it could not score
// ({"id": ..., "error": "..."}): readers of scored files leave such rows out and count them.
bool is_error_line(const nlohmann::json& row);

// Parses text as JSON; any nlohmann error (malformed text, invalid UTF-8) becomes an error Status.
Result<nlohmann::json> parse_json(const std::string& text);

// Serializes without throwing: invalid UTF-8 in a string is replaced by U+FFFD.
std::string dump_json(const nlohmann::json& value);

// A path that names no file but holds *, ? or [...]: the files it matches, in name order (an error when
// none does); any other path: itself.
Result<std::vector<std::string>> files_named_by(const std::string& path);

// Whether `output` is a file that `input` reads: the file itself (however either is spelled), or one of the
// files its pattern matches ('data/part-*.jsonl'), or, not written yet, a file it would match. An output
// that is would be overwritten while it is read, or read as input by the next run.
bool reads_file(const std::string& input, const std::string& output);

// The value field `path` names in `row`: a key as written ("human_helpfulness"), else a dotted path into
// nested objects ("attributes.helpfulness", as a multi-output reward model's line holds it), whose keys
// may hold dots themselves ("attributes.v1.5" reaches {"attributes": {"v1.5": ...}}); null when there is
// none. Where two readings exist, the longer key at the outer level wins.
const nlohmann::json* find_field(const nlohmann::json& row, const std::string& path);

}  // namespace arbiter::data
