// What a dataset file holds, for `arbiter info --data`: its format, row count, the schema the readers
// would detect, the first row's fields, and for Parquet the footer's columns (the names to give
// --field when the schema is not detected).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "core/status.h"

namespace arbiter::data {

// Reads the whole file (a JSONL file's rows are counted; a Parquet file's come from its footer, and
// every row group is decoded, so a damaged page is found here too).
Result<nlohmann::ordered_json> describe_dataset(const std::string& path);

}  // namespace arbiter::data
