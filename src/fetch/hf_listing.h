// The Hugging Face Hub's listing of a repository's files: ENDPOINT/api/{models|datasets|spaces}/ORG/REPO/
// tree/REV[/FOLDER]?recursive=true, every page of it (the Hub paginates with Link headers). Used where a
// source names several files (a dataset's shards, a pattern) or none (which GGUF files a repository has).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "fetch/fetch.h"

namespace arbiter::fetch {

struct RepoFile {
  RepoFile() = default;
  RepoFile(std::string path_in_repo, int64_t bytes, HubRecord hub_record = {})
      : path(std::move(path_in_repo)), size(bytes), record(std::move(hub_record)) {}

  std::string path;  // within the repository, '/'-separated
  int64_t size = 0;
  HubRecord record;  // lfs.oid (SHA-256) for a file kept in LFS, else oid (its git blob id)
};

struct HfRepository {
  std::string kind;  // "models", "datasets" or "spaces"
  std::string org, name, revision = "main";
  // hf://[datasets/|spaces/]ORG/REPO[@REV]: what a file of it is named by (prefix + "/" + path).
  std::string source_prefix() const;
};

// hf://[datasets/|spaces/]ORG/REPO[@REV][/PATH] in parts: the repository (kind "models" without a prefix)
// and the path within it ("" for none; no trailing '/'). Empty and relative path segments are refused.
struct HfSourceParts {
  HfRepository repo;
  std::string path;
};
Result<HfSourceParts> parse_hf_source(const std::string& source);

// The listing's records by source (prefix + "/" + path), for FetchOptions::listed_records.
std::map<std::string, HubRecord> records_by_source(const std::vector<RepoFile>& files, const std::string& source_prefix);

// Every file under `folder` ("" for all), sorted by path. Errors name `source`; a 404 says the repository,
// revision or folder does not exist (or is private and HF_TOKEN is not set). Paths that would leave the
// repository ("..", absolute) are refused.
Result<std::vector<RepoFile>> list_hf_files(const HfRepository& repo, const std::string& folder, const std::string& source,
                                            const FetchOptions& options);

// "4.0 MiB", "1.2 GiB", "812 bytes".
std::string describe_size(int64_t bytes);

}  // namespace arbiter::fetch
