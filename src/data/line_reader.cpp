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

Result<bool> LineReader::next(std::string& line) {
  line.clear();
  char chunk[1 << 14];
  bool read_any = false;
  while (true) {
    if (!gzgets(file_.get(), chunk, sizeof(chunk))) {
      int code = 0;
      const char* message = gzerror(file_.get(), &code);
      if (code != Z_OK && code != Z_BUF_ERROR)
        return error(path_ + ":" + std::to_string(line_number_ + 1) + ": read error: " + message);
      if (code == Z_BUF_ERROR)
        return error(path_ + ":" + std::to_string(line_number_ + 1) + ": truncated gzip stream");
      break;
    }
    read_any = true;
    const size_t len = std::strlen(chunk);
    line.append(chunk, len);
    if (len > 0 && chunk[len - 1] == '\n') break;
  }
  if (!read_any) return false;
  if (!line.empty() && line.back() == '\n') line.pop_back();
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
