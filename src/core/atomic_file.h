// Writing a small file whole or not at all: the bytes go to PATH.tmp, which is renamed over PATH only once
// they are all written, so a reader (or a crash) never meets half a file and an old file stays until its
// replacement is complete.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace arbiter {

// Errors name the path.
Status write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace arbiter
