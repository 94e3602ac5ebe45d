// A model given by where to download it (-m hf://ORG/REPO, hf://ORG/REPO/FILE.gguf, https://...): pulled
// into the cache as `arbiter pull` pulls it, then used from there. Any other -m is a local path.
#pragma once

#include <string>

#include "core/status.h"

namespace arbiter::cli {

// Replaces a download source in `model` with the local path it was pulled to (a model repository's folder,
// a GGUF file, a split GGUF's first file); leaves a local path as it is.
Status pull_model_source(std::string& model);

}  // namespace arbiter::cli
