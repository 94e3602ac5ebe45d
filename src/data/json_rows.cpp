#include "data/json_rows.h"

#include "core/json_text.h"
#include "core/log.h"
#include "core/same_file.h"

#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <string_view>

namespace arbiter::data {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_blank(const std::string& line) {
  return line.find_first_not_of(" \t\r\n") == std::string::npos;
}

// A pipe or FIFO (`-i /dev/stdin`, `<(zcat ...)`) can be read once only: nothing may peek at it first.
bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Whether the file starts with Parquet's magic (an unreadable file is left to the text reader's error).
bool starts_like_parquet(const std::string& path) {
  if (!is_regular_file(path)) return false;  // Parquet is read by seeking to its footer: never a stream
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  uint8_t head[4] = {};
  const size_t got = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  return parquet::has_parquet_magic(head, got);
}

// Whether text that is not one JSON document is JSON Lines: its first non-blank line is a whole JSON
// object by itself.
bool holds_json_lines(const std::string& text) {
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(begin, end - begin);
    if (!is_blank(line)) {
      const nlohmann::json value = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      return !value.is_discarded() && value.is_object();
    }
    begin = end + 1;
  }
  return false;
}

bool has_glob_characters(const std::string& path) { return path.find_first_of("*?[") != std::string::npos; }

// The files a pattern matches, in name order.
Result<std::vector<std::string>> expand_pattern(const std::string& pattern) {
  glob_t matches{};
  const int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &matches);
  std::vector<std::string> files;
  for (size_t i = 0; rc == 0 && i < matches.gl_pathc; ++i) {
    if (std::filesystem::is_regular_file(matches.gl_pathv[i])) files.emplace_back(matches.gl_pathv[i]);
  }
  globfree(&matches);
  if (rc != 0 && rc != GLOB_NOMATCH) return error(pattern + ": cannot list the files it matches");
  if (files.empty()) return error(pattern + ": no file matches");
  return files;
}

}  // namespace

bool is_error_line(const nlohmann::json& row) {
  return row.is_object() && row.contains("error") && row["error"].is_string();
}

Result<nlohmann::json> parse_json(const std::string& text) { return parse_json_text(text); }

Result<std::vector<std::string>> files_named_by(const std::string& path) {
  if (has_glob_characters(path) && !std::filesystem::exists(path)) return expand_pattern(path);
  return std::vector<std::string>{path};
}

bool reads_file(const std::string& input, const std::string& output) {
  if (same_file(input, output)) return true;
  const Result<std::vector<std::string>> files = files_named_by(input);
  if (!files.is_ok()) return false;
  for (const std::string& file : *files)
    if (same_file(file, output)) return true;
  // An output that does not exist yet but that the pattern matches: the next run (a resume, a rerun) would
  // read it as one of its inputs.
  if (input.find_first_of("*?[") != std::string::npos) {
    auto absolute = [](const std::string& path) {
      std::error_code ec;
      const std::filesystem::path full = std::filesystem::absolute(path, ec);
      return (ec ? std::filesystem::path(path) : full).lexically_normal().string();
    };
    if (::fnmatch(absolute(input).c_str(), absolute(output).c_str(), FNM_PATHNAME) == 0) return true;
  }
  return false;
}

namespace {

// The value at `path` below `node`, where the path's keys may hold dots themselves: at each level the
// longest key that exists and leads somewhere is taken first ({"a.b": 1, "a": {"b": 2}} reads 1 for a.b).
const nlohmann::json* find_below(const nlohmann::json& node, std::string_view path, int depth) {
  if (!node.is_object() || depth > 64) return nullptr;
  for (size_t end = path.size();; end = path.rfind('.', end - 1)) {
    const auto it = node.find(std::string(path.substr(0, end)));
    if (it != node.end()) {
      if (end == path.size()) return &*it;
      if (const nlohmann::json* found = find_below(*it, path.substr(end + 1), depth + 1)) return found;
    }
    if (end == 0 || path.rfind('.', end - 1) == std::string_view::npos) return nullptr;
  }
}

}  // namespace

const nlohmann::json* find_field(const nlohmann::json& row, const std::string& path) {
  return find_below(row, path, 0);
}

std::string dump_json(const nlohmann::json& value) {
  try {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::exception&) {
    return "null";
  }
}

Result<JsonRowReader> JsonRowReader::open(const std::string& path, FileFormat format) {
  if (has_glob_characters(path) && !std::filesystem::exists(path)) {
    ARB_ASSIGN(std::vector<std::string> files, expand_pattern(path));
    if (files.size() == 1) return open(files[0], format);
    ARB_ASSIGN(JsonRowReader first, open(files[0], format));
    JsonRowReader reader;
    reader.path_ = path;
    reader.format_ = first.format();
    reader.requested_format_ = format;
    // Shards that are all Parquet say their total up front (each footer read once, here).
    reader.pattern_rows_ = first.known_row_count();
    for (size_t f = 1; f < files.size() && reader.pattern_rows_ >= 0; ++f) {
      if (!starts_like_parquet(files[f])) {
        reader.pattern_rows_ = -1;
        break;
      }
      ARB_ASSIGN(const parquet::ParquetRowReader shard, parquet::ParquetRowReader::open(files[f]));
      reader.pattern_rows_ += shard.num_rows();
    }
    reader.files_ = std::move(files);
    reader.part_ = std::make_unique<JsonRowReader>(std::move(first));
    return reader;
  }
  JsonRowReader reader;
  reader.path_ = path;
  if (format == FileFormat::kAuto) {
    if (ends_with(path, ".jsonl") || ends_with(path, ".jsonl.gz")) format = FileFormat::kJsonl;
    if (ends_with(path, ".json") || ends_with(path, ".json.gz")) format = FileFormat::kJsonArray;
    if (ends_with(path, ".parquet") || (format == FileFormat::kAuto && starts_like_parquet(path)))
      format = FileFormat::kParquet;
  }
  if (format == FileFormat::kParquet) {
    ARB_ASSIGN(parquet::ParquetRowReader rows, parquet::ParquetRowReader::open(path));
    reader.format_ = FileFormat::kParquet;
    reader.parquet_.emplace(std::move(rows));
    return reader;
  }
  std::string text;
  if (format != FileFormat::kJsonArray) {
    ARB_ASSIGN(LineReader lines, LineReader::open(path));
    if (format == FileFormat::kAuto) {
      std::string line;
      format = FileFormat::kJsonl;
      while (true) {
        ARB_ASSIGN(const bool got, lines.next(line));
        if (!got) break;
        if (is_blank(line)) continue;
        if (line[line.find_first_not_of(" \t")] == '[') format = FileFormat::kJsonArray;
        reader.pending_line_ = line;
        reader.pending_line_number_ = lines.line_number();
        break;
      }
    }
    if (format == FileFormat::kJsonl) {
      reader.format_ = FileFormat::kJsonl;
      reader.lines_.emplace(std::move(lines));
      return reader;
    }
    // A document: its first line is read already, and a stream cannot be read again, so the rest follows
    // from where sniffing stopped (JSON strings hold no raw line breaks: lines joined by "\n" are the
    // same document).
    text = std::move(*reader.pending_line_);
    reader.pending_line_.reset();
    for (std::string line;;) {
      ARB_ASSIGN(const bool got, lines.next(line));
      if (!got) break;
      text += '\n';
      text += line;
    }
  } else {
    ARB_ASSIGN(text, read_text_file(path));
  }
  reader.format_ = FileFormat::kJsonArray;
  auto parsed = parse_json(text);
  if (!parsed) {
    // Hugging Face datasets' to_json() writes JSON Lines by default, under a .json name.
    if (format == FileFormat::kJsonArray && is_regular_file(path) && holds_json_lines(text)) {
      log_info(path + ": not one JSON document but one per line: read as JSON Lines");
      return open(path, FileFormat::kJsonl);
    }
    return parsed.status().with_context(path);
  }
  reader.document_ = std::move(parsed).value();
  // A document that is one object is a one-row dataset. One that wraps the rows ({"data": [{...}, ...]})
  // is a format of its own that no reader here takes: said once, since every row field would seem missing.
  if (reader.document_.is_object()) {
    for (const auto& [key, value] : reader.document_.items())
      if (value.is_array() && !value.empty() && value.front().is_object() && value.size() > 1)
        log_warn(path + ": the document is one object, read as one row; its field '" + key + "' holds " +
                 std::to_string(value.size()) + " objects (rows wrapped in an object are not read as rows: write "
                 "them as a JSON array or JSONL)");
    reader.document_ = nlohmann::json::array({std::move(reader.document_)});
    reader.one_object_ = true;
  }
  if (!reader.document_.is_array()) return error(path + ": JSON document is neither an array nor an object");
  return reader;
}

Result<bool> JsonRowReader::next(JsonRow& row) {
  if (part_) {
    while (true) {
      ARB_ASSIGN(const bool got, part_->next(row));
      if (got) {
        row.row_index = next_row_++;
        return true;
      }
      if (++file_index_ >= files_.size()) return false;
      ARB_ASSIGN(JsonRowReader following, open(files_[file_index_], requested_format_));
      *part_ = std::move(following);
    }
  }
  if (format_ == FileFormat::kParquet) {
    ARB_ASSIGN(const bool got, parquet_->next(row.value));
    if (!got) return false;
    row.file_row = row.row_index = next_row_++;
    row.line = 0;
    row.text.clear();
    return true;
  }
  if (format_ == FileFormat::kJsonArray) {
    if (next_row_ >= document_.size()) return false;
    row.value = std::move(document_[next_row_]);
    row.file_row = row.row_index = next_row_++;
    row.line = 0;
    row.text.clear();
    return true;
  }
  std::string line;
  size_t line_number = 0;
  while (true) {
    if (pending_line_) {
      line = std::move(*pending_line_);
      line_number = pending_line_number_;
      pending_line_.reset();
    } else {
      auto got = lines_->next(line);
      if (!got) return got.status();
      if (!*got) return false;
      line_number = lines_->line_number();
    }
    if (!is_blank(line)) break;
  }
  auto parsed = parse_json(line);
  if (!parsed) {
    // The line is a row all the same (a scoring run writes an error line for it, known by this index):
    // the rows after it keep their indices, so no two lines are known by one.
    ++next_row_;
    return parsed.status().with_context(path_ + ":" + std::to_string(line_number));
  }
  row.value = std::move(parsed).value();
  row.file_row = row.row_index = next_row_++;
  row.line = line_number;
  // The parser skips a byte-order mark and surrounding white space; a line written out again must not
  // carry them into the middle of another file.
  static constexpr std::string_view kBom = "\xEF\xBB\xBF";
  size_t begin = line.compare(0, kBom.size(), kBom) == 0 ? kBom.size() : 0;
  while (begin < line.size() && (line[begin] == ' ' || line[begin] == '\t')) ++begin;
  size_t end = line.size();
  while (end > begin && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r')) --end;
  line.resize(end);
  line.erase(0, begin);
  row.text = std::move(line);
  return true;
}

std::string JsonRowReader::where(const JsonRow& row) const {
  if (part_) return part_->where(row);  // the file the row came from
  if (row.line > 0) return path_ + ":" + std::to_string(row.line);
  if (format_ == FileFormat::kParquet) return path_ + ": row " + std::to_string(row.file_row);
  return path_ + ": element " + std::to_string(row.file_row);
}

int64_t JsonRowReader::known_row_count() const {
  if (part_) return pattern_rows_;
  return parquet_ ? parquet_->num_rows() : -1;
}

const parquet::FileMetaData* JsonRowReader::parquet_metadata() const {
  return parquet_ ? &parquet_->metadata() : nullptr;
}

}  // namespace arbiter::data
