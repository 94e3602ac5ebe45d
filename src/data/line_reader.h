// Reads a text file line by line, plain or gzip-compressed (zlib detects which), without holding more
// than one line in memory: a 10 GB JSONL file streams.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

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
  // Reads the next block of the (decompressed) file into buffer_; at the end, leaves it empty.
  Status fill();

  std::string path_;
  std::unique_ptr<gzFile_s, GzCloser> file_;
  size_t line_number_ = 0;
  // Bytes read but not yet returned: buffer_[begin_, end_). Lines are cut at '\n' by byte count, so a NUL
  // byte in a line stays in it (and makes it a row the JSON parser refuses) rather than ending it.
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;
  bool at_end_ = false;
};

// Whole file, decompressed if gzip: for JSON documents (not JSONL), which must be parsed at once.
Result<std::string> read_text_file(const std::string& path);

}  // namespace arbiter::data
