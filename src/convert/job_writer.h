// Writes a GGUF from metadata and a list of tensor jobs, encoding and writing one tensor at a time.
#pragma once

#include <string>
#include <vector>

#include "convert/convert.h"
#include "convert/metadata.h"
#include "convert/tensor_encode.h"

namespace arbiter {

Result<ConvertReport> write_gguf_jobs(const std::string& out_path, const GgufMetadata& metadata,
                                      const std::vector<TensorJob>& jobs, const std::string& progress_label,
                                      bool progress);

}  // namespace arbiter
