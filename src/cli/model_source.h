// A model or dataset given by where to download it (-m hf://ORG/REPO, hf://ORG/REPO/FILE.gguf, -i
// hf://datasets/ORG/REPO/FILE, https://...): pulled into the cache as `arbiter pull` pulls it, then used
// from there. Any other path is a local one.
#pragma once

#include <string>

#include "core/status.h"

namespace arbiter::cli {

// Replaces a download source in `model` with the local path it was pulled to (a model repository's folder,
// a GGUF file, a split GGUF's first file, the one GGUF model of a repository or a pattern such as
// hf://ORG/REPO-GGUF/*q8_0*.gguf); leaves a local path as it is.
Status pull_model_source(std::string& model);

// The same for a dataset (-i hf://datasets/ORG/REPO/FILE, https://...); a selection of several files
// (hf://datasets/ORG/REPO, .../FOLDER/, .../data/train-*.parquet) becomes a local pattern matching them.
Status pull_data_source(std::string& dataset);

}  // namespace arbiter::cli
