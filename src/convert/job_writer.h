// Writes a GGUF from metadata and a list of tensor jobs, encoding and writing one tensor at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "convert/metadata.h"
#include "convert/tensor_encode.h"

namespace arbiter {

// split_max_bytes > 0 cuts the model into files of at most that much tensor data (split_plan.h), named
// after out_path; report.files lists what was written.
Result<ConvertReport> write_gguf_jobs(const std::string& out_path, const GgufMetadata& metadata,
                                      const std::vector<TensorJob>& jobs, const std::string& progress_label,
                                      bool progress, uint64_t split_max_bytes = 0);

}  // namespace arbiter
