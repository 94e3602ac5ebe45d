#include "data/writer.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/progress.h"
#include "data/json_rows.h"
#include "data/line_reader.h"

namespace arbiter::data {
namespace {

// The file's complete lines: its length up to and including its last "\n" (0 when it has none), and how
// many lines that holds.
struct CompletePrefix {
  uint64_t bytes = 0;
  uint64_t lines = 0;
};

Result<CompletePrefix> complete_prefix(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return error(path + ": cannot open: " + std::strerror(errno));
  CompletePrefix complete;
  uint64_t offset = 0;
  char chunk[1 << 16];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof(chunk), f)) > 0) {
    for (size_t i = 0; i < got; ++i)
      if (chunk[i] == '\n') {
        complete.bytes = offset + i + 1;
        ++complete.lines;
      }
    offset += got;
  }
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) return error(path + ": read error");
  return complete;
}

}  // namespace

std::string row_id_string(const nlohmann::json& id) {
  if (id.is_string()) return id.get<std::string>();
  // Unsigned first: an id past 2^63 (a 64-bit hash) read as signed would become another, negative id.
  if (id.is_number_unsigned()) return std::to_string(id.get<uint64_t>());
  if (id.is_number_integer()) return std::to_string(id.get<int64_t>());
  return dump_json(id);
}

Result<JsonlWriter> JsonlWriter::open(const std::string& path, const WriterOptions& options) {
  JsonlWriter writer;
  writer.path_ = path;
  writer.options_ = options;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return error(path + ": is a directory, not an output file");
  // Inputs ending in .gz are read through gzip; an output by that name would be plain text that gzip,
  // pandas and datasets then fail to read.
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0)
    return error(path + ": outputs are written as plain JSONL (so that a run can be resumed): name it without .gz, "
                 "and compress it once it is complete");
  const bool exists = std::filesystem::exists(path, ec);
  // Written whole only where a rename can replace a file: a device, pipe or FIFO (-o /dev/stdout) is
  // written as a stream, and a link's target is replaced, not the link (rename_target).
  const std::string target = options.whole ? rename_target(path) : "";
  if (!target.empty()) {
    if (options.resume) return error(path + ": a file written whole cannot be resumed");
    writer.path_ = target;
    if (std::FILE* old = std::fopen(target.c_str(), "rb")) {
      writer.replaced_.reset(old);
      if (::flock(fileno(old), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
        return error(path + ": another process is writing this file (a run with the same output); wait for it to "
                     "finish, or write to another file");
    }
    writer.temp_path_ = temp_path_for(target);
    std::FILE* t = open_temp_file(writer.temp_path_);
    if (!t) return error(path + ": cannot write (" + writer.temp_path_ + ": " + std::strerror(errno) + ")");
    writer.file_.reset(t);
    writer.emptied_ = true;
    return writer;
  }
  // Appending: a fresh file is emptied by begin(), once there is a line to write.
  std::FILE* f = std::fopen(path.c_str(), "ab");
  if (!f) return error(path + ": cannot open for writing: " + std::strerror(errno));
  writer.file_.reset(f);
  writer.created_ = !exists;
  if (is_stream_path(path)) note_output_stream(fileno(f));
  // Two runs writing one output would interleave their lines and both report success: the second one
  // stops here, before it reads, cuts or empties anything. The lock goes with the file when it closes.
  if (::flock(fileno(f), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    writer.created_ = false;  // not ours to remove
    return error(path + ": another process is writing this file (a run with the same output); wait for it to "
                 "finish, or write to another file");
  }
  if (options.resume && exists) {
    // The complete lines are checked before the incomplete last one (an interrupted write) is cut: a file
    // that is no output of a run (a model named by a wrong -o) is refused as it was.
    ARB_ASSIGN(const CompletePrefix keep, complete_prefix(path));
    ARB_ASSIGN(LineReader lines, LineReader::open(path));
    std::string line;
    for (uint64_t read = 0; read < keep.lines; ++read) {
      ARB_ASSIGN(const bool got, lines.next(line));
      if (!got) break;
      const std::string where = path + ":" + std::to_string(lines.line_number());
      // A run writes none; kept, it would leave the resumed file unlike an uninterrupted run's.
      if (line.find_first_not_of(" \t\r") == std::string::npos)
        return error(where + ": a blank line, which no run writes: remove it to resume");
      auto row = parse_json(line);
      if (!row) return row.status().with_context(where);
      if (!row->is_object() || !row->contains(options.id_field))
        return error(where + ": row has no '" + options.id_field + "' field, cannot resume");
      const std::string id = row_id_string(row->at(options.id_field));
      writer.done_ids_.insert(id);
      const auto digest = row->find("row_digest");
      writer.resumed_lines_.push_back(ResumedLine{id, size_t(lines.line_number()), is_error_line(*row),
                                                  digest != row->end() && digest->is_string() ? digest->get<std::string>() : ""});
    }
    if (keep.bytes != std::filesystem::file_size(path, ec)) {
      // What a run leaves of a line it was writing begins as every line it writes does: anything else (a
      // file with no newline at all, a binary tail) is no interrupted line of a run's.
      std::FILE* tail = std::fopen(path.c_str(), "rb");
      int first = EOF;
      if (tail != nullptr && std::fseek(tail, long(keep.bytes), SEEK_SET) == 0) first = std::fgetc(tail);
      if (tail != nullptr) std::fclose(tail);
      if (first != '{')
        return error(path + ":" + std::to_string(keep.lines + 1) + ": an incomplete last line that is no run's "
                     "(it does not begin a JSON object): not an output to resume; the file is left as it was");
      std::filesystem::resize_file(path, keep.bytes, ec);
      if (ec) return error(path + ": cannot cut the incomplete last line: " + ec.message());
    }
  }
  writer.emptied_ = options.resume;
  return writer;
}

JsonlWriter::~JsonlWriter() {
  if (file_ && !temp_path_.empty()) {  // never closed: the old file stays as it was
    file_.reset();
    std::error_code ec;
    std::filesystem::remove(temp_path_, ec);
    return;
  }
  if (!file_ || !created_ || emptied_) return;
  file_.reset();
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

Status JsonlWriter::begin() {
  if (emptied_) return Status::ok();
  // The run record first: a run that cannot write it (a folder that takes no new file) leaves the old
  // output as it was, not emptied.
  if (options_.on_emptied) ARB_TRY(options_.on_emptied());
  // A pipe or a terminal has nothing to empty, and /dev/stdout redirected to a file (`>> log`) is the
  // shell's to append to.
  struct stat info {};
  if (!is_stream_path(path_) && fstat(fileno(file_.get()), &info) == 0 && S_ISREG(info.st_mode) &&
      ftruncate(fileno(file_.get()), 0) != 0)
    return error(path_ + ": cannot empty the file: " + std::strerror(errno));
  emptied_ = true;
  return Status::ok();
}

Status JsonlWriter::write(const nlohmann::json& row) { return write_line(dump_json(row), row); }

Status JsonlWriter::write(const nlohmann::json& row, std::string_view text) {
  return text.empty() ? write(row) : write_line(std::string(text), row);
}

Status JsonlWriter::write_line(std::string line, const nlohmann::json& row) {
  if (!file_) return error(path_ + ": write after close");
  ARB_TRY(begin());
  line.push_back('\n');
  // One fwrite per line: a crash leaves at most one partial line, which resume cuts off.
  if (std::fwrite(line.data(), 1, line.size(), file_.get()) != line.size())
    return error(path_ + ": write failed: " + std::strerror(errno));
  if (row.is_object() && row.contains(options_.id_field)) done_ids_.insert(row_id_string(row.at(options_.id_field)));
  if (++unflushed_ >= options_.flush_every) return flush();
  return Status::ok();
}

Status JsonlWriter::flush() {
  if (!file_) return Status::ok();
  unflushed_ = 0;
  if (std::fflush(file_.get()) != 0) return error(path_ + ": flush failed: " + std::strerror(errno));
  return Status::ok();
}

Status JsonlWriter::close() {
  if (!file_) return Status::ok();
  ARB_TRY(begin());  // a run without lines leaves an empty file, not the old one
  ARB_TRY(flush());
  // Appended in place, the lines went to the file this writer opened: if that file was removed meanwhile
  // (its folder deleted), they went nowhere anyone can read, and the run must not report them written.
  if (temp_path_.empty()) {
    struct stat opened {}, named {};
    if (::fstat(fileno(file_.get()), &opened) == 0 && S_ISREG(opened.st_mode) &&
        (opened.st_nlink == 0 || ::stat(path_.c_str(), &named) != 0 || named.st_ino != opened.st_ino ||
         named.st_dev != opened.st_dev))
      return error(path_ + ": the file was removed or replaced while this run wrote it; its lines are lost (run "
                   "again, with --resume where the file is back)");
  }
  std::FILE* f = file_.release();
  const bool closed = std::fclose(f) == 0;
  const int close_errno = errno;
  if (!temp_path_.empty()) {
    std::error_code ec;
    if (!closed) {
      std::filesystem::remove(temp_path_, ec);
      return error(path_ + ": close failed: " + std::strerror(close_errno));
    }
    std::filesystem::rename(temp_path_, path_, ec);
    replaced_.reset();
    if (ec) {
      std::filesystem::remove(temp_path_, ec);
      return error(path_ + ": cannot rename " + temp_path_ + " into place: " + ec.message());
    }
    temp_path_.clear();
    return Status::ok();
  }
  if (!closed) return error(path_ + ": close failed: " + std::strerror(close_errno));
  return Status::ok();
}

}  // namespace arbiter::data
