// A model or dataset given by where to download it (-m hf://ORG/REPO, hf://ORG/REPO/FILE.gguf, -i
// hf://datasets/ORG/REPO/FILE, https://...): pulled into the cache as `arbiter pull` pulls it, then used
// from there. Any other path is a local one.
#pragma once

#include <set>
#include <string>

#include "core/status.h"

namespace arbiter::cli {

// The commits the Hub served a pulled source's files at (fetch::FetchResult::repo_commit): one for a file,
// or a repository pulled at one time; several when a folder's files were pulled at different commits of a
// branch (each file still what the branch holds); none for a local path or another server. Run records
// keep them beside the source, since hf://ORG/REPO names whatever its branch holds on the day.
struct PulledCommits {
  std::set<std::string> model, input;
};

// " (commit 0123abc...)" for the commits the Hub said it served; "" for none.
std::string served_note(const std::set<std::string>& commits);

// Replaces a download source in `model` with the local path it was pulled to (a model repository's folder,
// a GGUF file, a split GGUF's first file, the one GGUF model of a repository or a pattern such as
// hf://ORG/REPO-GGUF/*q8_0*.gguf); leaves a local path as it is.
// `commits`, when given, gets the commits its files were served at.
Status pull_model_source(std::string& model, std::set<std::string>* commits = nullptr);

// The same for a dataset (-i hf://datasets/ORG/REPO/FILE, https://...); a selection of several files
// (hf://datasets/ORG/REPO, .../FOLDER/, .../data/train-*.parquet) becomes a local pattern matching them.
Status pull_data_source(std::string& dataset, std::set<std::string>* commits = nullptr);

}  // namespace arbiter::cli
