// Writing a file whole or not at all: the bytes go to a temporary file beside PATH, which is renamed over
// PATH only once they are all written, so a reader (or a crash) never meets half a file and an old file
// stays until its replacement is complete.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace arbiter {

// The temporary file a writer of `path` fills before renaming it into place: PATH.tmp-PID-N, one of its
// own for every writer, so that two runs writing one output (a job retried while the first still runs)
// never write into each other's bytes; the last to finish wins, whole.
std::string temp_path_for(const std::string& path);

// Creates the temporary file `temp` (from temp_path_for) for writing and holds a lock on it until it is
// closed. First removes what stopped writers of the same output left beside it: a PATH.tmp-PID-N whose
// process has ended and that no process holds locked (one killed with SIGKILL, or a crash, cannot remove
// its own). Null with errno set when `temp` cannot be created.
std::FILE* open_temp_file(const std::string& temp);

// The file a writer of `path` renames its temporary file over: `path`, or the file a link at `path` points
// to (so the link stays). Empty when `path` is something a rename must not replace (a device, FIFO or
// socket: -o /dev/stdout), which is written in place instead.
std::string rename_target(const std::string& path);

// Why rename_target(path) is empty, for an error after the path: "is a directory", "is a device, FIFO or
// socket", "is an empty name".
std::string why_not_a_file(const std::string& path);

// Whether `path` is a stream rather than a file to replace or empty: a device, FIFO or socket, or a name
// under /dev or /proc (/dev/stdout, /proc/self/fd/1: the shell's redirection, whatever it points at).
bool is_stream_path(const std::string& path);

// Errors name the path. A device or FIFO is written in place (rename_target).
Status write_file_atomically(const std::string& path, std::string_view bytes);

// Several files (PATH, bytes) written as one: all are written to their temporary files first, and only
// when every one is complete are they renamed into place. A failure while writing (a full disk) leaves
// every old file as it was and no temporary file behind.
Status write_files_atomically(const std::vector<std::pair<std::string, std::string_view>>& files);

}  // namespace arbiter
