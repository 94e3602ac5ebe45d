// Parsing a GGUF image that is already in memory. GgufFile::open maps the file and calls this; the fuzz
// target calls it on its input directly, so both exercise the same code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/mapped_file.h"
#include "core/status.h"
#include "io/gguf.h"

namespace arbiter {

// `data` must stay valid while the result lives: `owner` (null for a caller-owned buffer) keeps it so.
// `path` names the image in error messages.
Result<std::shared_ptr<GgufFile>> parse_gguf(const uint8_t* data, size_t size, const std::string& path,
                                             std::shared_ptr<MappedFile> owner);

}  // namespace arbiter
