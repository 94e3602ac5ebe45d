// A column of numbers from a file: a JSON array of numbers, a JSON array of objects, or JSONL of
// objects (or bare numbers). Used for score and label files.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace arbiter::data {

// `field` picks the number out of object rows; it may be empty when rows are bare numbers.
// Errors name the file and the row (line) that is not a number or lacks the field.
Result<std::vector<double>> read_number_column(const std::string& path, const std::string& field);

}  // namespace arbiter::data
