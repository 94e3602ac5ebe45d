#include "data/line_reader.h"

#include <cerrno>
#include <cstring>

namespace arbiter::data {

Result<LineReader> LineReader::open(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return error(path + ": cannot open: " + std::strerror(errno));
  gzbuffer(f, 1 << 17);
  LineReader reader;
  reader.path_ = path;
  reader.file_.reset(f);
  return reader;
}

Status LineReader::fill() {
  if (buffer_.empty()) buffer_.resize(size_t(1) << 17);
  begin_ = end_ = 0;
  const int got = gzread(file_.get(), buffer_.data(), unsigned(buffer_.size()));
  int code = Z_OK;
  const char* message = gzerror(file_.get(), &code);
  // zlib finds a damaged stream (a bad check value, a broken block) when it decompresses a block, which
  // may hold many lines: the error is somewhere past the lines returned so far.
  if (got < 0 || (code != Z_OK && code != Z_BUF_ERROR))
    return error(path_ + ": read error past line " + std::to_string(line_number_) + ": " + message);
  if (got == 0) {
    at_end_ = true;
    if (code == Z_BUF_ERROR)
      return error(path_ + ":" + std::to_string(line_number_ + 1) + ": truncated gzip stream");
  }
  end_ = size_t(got);
  return Status::ok();
}

Result<bool> LineReader::next(std::string& line) {
  line.clear();
  bool read_any = false;
  while (true) {
    if (begin_ == end_) {
      if (at_end_) break;
      ARB_TRY(fill());
      if (begin_ == end_) break;
    }
    read_any = true;
    const char* start = buffer_.data() + begin_;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
    if (newline == nullptr) {
      line.append(start, end_ - begin_);
      begin_ = end_;
      continue;
    }
    line.append(start, size_t(newline - start));
    begin_ += size_t(newline - start) + 1;
    break;
  }
  if (!read_any) return false;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  ++line_number_;
  return true;
}

Result<std::string> read_text_file(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return error(path + ": cannot open: " + std::strerror(errno));
  std::string text;
  char chunk[1 << 16];
  while (true) {
    const int got = gzread(f, chunk, sizeof(chunk));
    if (got < 0) {
      int code = 0;
      std::string message = gzerror(f, &code);
      gzclose(f);
      return error(path + ": read error: " + message);
    }
    if (got == 0) break;
    text.append(chunk, size_t(got));
  }
  int code = 0;
  gzerror(f, &code);
  gzclose(f);
  if (code == Z_BUF_ERROR) return error(path + ": truncated gzip stream");
  return text;
}

}  // namespace arbiter::data
