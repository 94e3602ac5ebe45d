// A Hugging Face dataset repository, or a part of it, as local files: `-i hf://datasets/ORG/REPO/data/
// train-*.parquet` (a pattern, as pandas and DuckDB read hf:// paths), `hf://datasets/ORG/REPO` (the whole
// repository) or `hf://datasets/ORG/REPO/FOLDER/`. The files are found with the Hub's listing API
// (ENDPOINT/api/datasets/ORG/REPO/tree/REV/FOLDER?recursive=true, paginated by Link headers), each is pulled
// as an ordinary cache entry, and the caller gets one local path: the file, or a pattern matching exactly
// the files pulled, which every dataset reader takes.
//
// Without a pattern, a repository or folder must hold one set of data files (.parquet, .jsonl, .json,
// optionally .gz): the shards of one split, named alike but for their numbers. With several (train and
// validation, two configurations), the error lists each as a source to pass instead.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "fetch/fetch.h"
#include "fetch/hf_listing.h"

namespace arbiter::fetch {

// Whether `source` names several files of a dataset repository rather than one: hf://datasets/ORG/REPO
// [@REV] alone, a folder (a trailing '/', or a last segment without a '.'), or a pattern (*, ?, [...]).
bool is_hf_dataset_selection(const std::string& source);

// Of a repository's files, those a selection takes: the files matching `pattern` (fnmatch over the path,
// '*' not crossing '/'), or with no pattern the one set of data files under `folder`. `source` names the
// selection in errors, and `source_of_group` turns a path pattern into a source to suggest.
Result<std::vector<RepoFile>> choose_dataset_files(const std::vector<RepoFile>& listing, const std::string& folder,
                                                   const std::string& pattern, const std::string& source,
                                                   const std::string& source_prefix);

// One set of data files: the shards of a split, or a lone file, with the source that selects it.
struct DatasetFileSet {
  std::string source;  // hf://datasets/ORG/REPO[@REV]/PATH (a lone file) or .../PATTERN (shards)
  std::vector<RepoFile> files;
  int64_t bytes = 0;
};

// The sets of data files under `folder` of a listing, by source; what choose_dataset_files picks from.
std::vector<DatasetFileSet> group_data_files(const std::vector<RepoFile>& listing, const std::string& folder,
                                             const std::string& source_prefix);

// The sets of data files a repository or folder source (not a pattern) holds, from the Hub's listing:
// what `arbiter info --data` shows for a repository with several.
Result<std::vector<DatasetFileSet>> list_dataset_sets(const std::string& source, const FetchOptions& options);

// Lists, pulls and returns the local file or pattern (see above). options.out_path, when given, is the
// folder to put the files in (it may hold nothing else); expected_sha256 must be empty.
Result<std::string> fetch_hf_dataset(const std::string& source, const FetchOptions& options);

}  // namespace arbiter::fetch
