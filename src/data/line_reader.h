// Reads a text file line by line, plain or gzip-compressed (zlib detects which), without holding more
// than one line in memory: a 10 GB JSONL file streams.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <memory>
#include <string>

#include "core/status.h"

namespace arbiter::data {

class LineReader {
 public:
  static Result<LineReader> open(const std::string& path);

  // Reads the next line into `line` without its "\n" (or "\r\n"). Returns false at end of file.
  // The last line may lack a newline; an empty file has no lines.
  Result<bool> next(std::string& line);

  size_t line_number() const { return line_number_; }  // 1-based number of the line last read
  const std::string& path() const { return path_; }

 private:
  struct GzCloser {
    void operator()(gzFile_s* f) const { gzclose(f); }
  };
  std::string path_;
  std::unique_ptr<gzFile_s, GzCloser> file_;
  size_t line_number_ = 0;
};

// Whole file, decompressed if gzip: for JSON documents (not JSONL), which must be parsed at once.
Result<std::string> read_text_file(const std::string& path);

}  // namespace arbiter::data
