// Temporary files removed when the process is stopped by a signal (SIGINT, SIGTERM, SIGHUP): a run of
// convert, quantize or select stopped with Ctrl-C leaves no OUT.tmp-PID-N behind, whose name no later run
// would reuse. A registered name that was renamed or removed since is harmless (its unlink finds nothing,
// and the name is this process's own), and its slot is reused once the slots run out.
#pragma once

#include <string>

namespace arbiter {

// Up to 64 files that exist at once (more are not cleaned up, only written). Thread-safe.
void register_temp_file(const std::string& path);

}  // namespace arbiter
