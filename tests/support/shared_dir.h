// Where the reference fixtures live: ../shared beside the checkout (see its README.md), given to every
// test executable at build time.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "data/values.h"

namespace arbiter::testing {

inline const std::string kShared = ARBITER_SHARED_DIR;

// The LAGER paper's published Flask scores: human ratings and each method's predictions, one JSON list each.
inline const std::string kFlask = kShared + "/data/lager-flask-scores/";

inline std::vector<double> load_flask_scores(const std::string& name) {
  auto values = data::read_number_column(kFlask + name, "");
  if (!values.is_ok()) ADD_FAILURE() << values.message();
  return values.is_ok() ? *values : std::vector<double>{};
}

}  // namespace arbiter::testing
