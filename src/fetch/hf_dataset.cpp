#include "fetch/hf_dataset.h"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <nlohmann/json.hpp>
#include <set>

#include "core/atomic_file.h"
#include "core/log.h"
#include "fetch/cache.h"
#include "fetch/hf_listing.h"
#include "fetch/sha256.h"

namespace arbiter::fetch {

namespace fs = std::filesystem;

namespace {

// The files a folder of pulled dataset files was made from, so that a later pull can remove what the
// repository no longer has, and a run without network can use what is there.
constexpr const char* kManifest = ".arbiter-dataset.json";

bool has_glob_characters(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_data_file(const std::string& path) {
  for (const char* ext : {".parquet", ".jsonl", ".jsonl.gz", ".json", ".json.gz"})
    if (ends_with(path, ext)) return true;
  return false;
}

// A dataset repository's source in parts.
Result<HfSourceParts> parse(const std::string& source) {
  ARB_ASSIGN(HfSourceParts d, parse_hf_source(source));
  if (d.repo.kind != "datasets") return error(source + ": expected hf://datasets/ORG/REPO[@REVISION][/PATH]");
  return d;
}

// The folders before the first segment with a pattern character: where the listing starts.
std::string listing_folder(const std::string& path) {
  if (!has_glob_characters(path)) return path;
  const size_t glob = path.find_first_of("*?[");
  const size_t slash = path.rfind('/', glob);
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

// The pattern naming a file's set of shards: a shard number is '*'. Shard numbers are the ones in
// NAME-00000-of-00003 (the Hub's and datasets' naming), a name that is a number (default/train/0000.parquet),
// or digits ending a name after '-' or '_' (train-00001.jsonl). Other digits are part of the name:
// v1/train.jsonl and v2/train.jsonl, test_0shot and test_5shot are sets of their own.
std::string group_pattern(const std::string& path) {
  static const std::regex of_count(R"(-[0-9]+-of-[0-9]+(?=\.))");
  static const std::regex whole_name(R"((^|/)[0-9]+(?=\.[^/]*$))");
  static const std::regex trailing(R"(([-_])[0-9]+(?=\.[^/]*$))");
  std::string out = std::regex_replace(path, of_count, "-*-of-*");
  if (out == path) out = std::regex_replace(path, whole_name, "$1*");
  if (out == path) out = std::regex_replace(path, trailing, "$1*");
  return out;
}

// A repository path as one file name in the pull's folder ('/' would need folders; "__" keeps it readable).
std::string flat_name(const std::string& path) {
  std::string out;
  for (const char c : path) {
    if (c == '/') out += "__";
    else if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '=') out += c;
    else out += '_';
  }
  while (!out.empty() && out[0] == '.') out.erase(0, 1);
  return out.empty() ? "file" : out;
}

// The manifest's file names, or none when there is no readable one, or (with `source`) one another
// selection wrote.
std::vector<std::string> read_manifest(const fs::path& folder, const std::string& source = "") {
  std::ifstream in(folder / kManifest);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> names;
  if (!source.empty() && !(j.is_object() && j.value("source", "") == source)) return names;
  if (j.is_object() && j.contains("files") && j["files"].is_array())
    for (const auto& name : j["files"])
      if (name.is_string() && name.get<std::string>().find('/') == std::string::npos) names.push_back(name.get<std::string>());
  return names;
}

Status write_manifest(const fs::path& folder, const std::string& source, const std::vector<std::string>& names) {
  return write_file_atomically((folder / kManifest).string(),
                               nlohmann::json{{"source", source}, {"files", names}}.dump(1) + "\n");
}

// What the caller reads: the one file, or a pattern matching exactly the folder's files.
std::string local_selection(const fs::path& folder, const std::vector<std::string>& names) {
  if (names.size() == 1) return (folder / names.front()).string();
  return (folder / "*").string();
}

}  // namespace

bool is_hf_dataset_selection(const std::string& source) {
  const Result<HfSourceParts> d = parse(source);
  if (!d.is_ok()) return false;
  if (d->path.empty() || has_glob_characters(d->path) || source.back() == '/') return true;
  const std::string last = d->path.substr(d->path.rfind('/') == std::string::npos ? 0 : d->path.rfind('/') + 1);
  return last.find('.') == std::string::npos;
}

std::vector<DatasetFileSet> group_data_files(const std::vector<RepoFile>& listing, const std::string& folder,
                                             const std::string& source_prefix) {
  std::map<std::string, DatasetFileSet> groups;
  const std::string under = folder.empty() ? "" : folder + "/";
  for (const RepoFile& file : listing) {
    if (file.path.rfind(under, 0) != 0 || !is_data_file(file.path)) continue;
    DatasetFileSet& set = groups[group_pattern(file.path)];
    set.files.push_back(file);
    set.bytes += file.size;
  }
  std::vector<DatasetFileSet> sets;
  for (auto& [group, set] : groups) {
    // A lone file is named as it is; a set of shards by the pattern that matches them, when it matches
    // nothing else in the repository (train-*.parquet would also take train-extra.parquet): else each
    // file is a set of its own.
    size_t matched = 0;
    for (const RepoFile& file : listing) matched += ::fnmatch(group.c_str(), file.path.c_str(), FNM_PATHNAME) == 0;
    if (set.files.size() > 1 && matched != set.files.size()) {
      for (const RepoFile& file : set.files) sets.push_back(DatasetFileSet{source_prefix + "/" + file.path, {file}, file.size});
      continue;
    }
    set.source = source_prefix + "/" + (set.files.size() == 1 ? set.files.front().path : group);
    sets.push_back(std::move(set));
  }
  std::sort(sets.begin(), sets.end(), [](const DatasetFileSet& a, const DatasetFileSet& b) { return a.source < b.source; });
  return sets;
}

Result<std::vector<RepoFile>> choose_dataset_files(const std::vector<RepoFile>& listing, const std::string& folder,
                                                   const std::string& pattern, const std::string& source,
                                                   const std::string& source_prefix) {
  std::vector<RepoFile> chosen;
  if (!pattern.empty()) {
    for (const RepoFile& file : listing)
      if (::fnmatch(pattern.c_str(), file.path.c_str(), FNM_PATHNAME) == 0) chosen.push_back(file);
    if (chosen.empty()) return error(source + ": no file of the repository matches '" + pattern + "'");
    return chosen;
  }
  std::vector<DatasetFileSet> sets = group_data_files(listing, folder, source_prefix);
  if (sets.empty())
    return error(source + ": no data files (.parquet, .jsonl, .json, optionally .gz) " +
                 (folder.empty() ? std::string("in the repository") : "under " + folder + "/"));
  if (sets.size() > 1) {
    std::string message = source + " holds " + std::to_string(sets.size()) + " sets of data files; name one:";
    for (size_t i = 0; i < sets.size(); ++i) {
      if (i == 20) {
        message += "\n  ... and " + std::to_string(sets.size() - 20) + " more (arbiter info --data " + source +
                   " lists them all)";
        break;
      }
      message += "\n  " + sets[i].source + "  (" + std::to_string(sets[i].files.size()) +
                 (sets[i].files.size() == 1 ? " file, " : " files, ") + describe_size(sets[i].bytes) + ")";
    }
    return error(message);
  }
  return std::move(sets.front().files);
}

Result<std::vector<DatasetFileSet>> list_dataset_sets(const std::string& source, const FetchOptions& options) {
  ARB_ASSIGN(const HfSourceParts d, parse(source));
  if (has_glob_characters(d.path)) return error(source + ": a pattern selects its files; list a repository or folder");
  ARB_ASSIGN(const std::vector<RepoFile> listing,
             list_hf_files(d.repo, d.path, source, options));
  return group_data_files(listing, d.path, d.repo.source_prefix());
}

Result<std::string> fetch_hf_dataset(const std::string& source, const FetchOptions& options) {
  ARB_ASSIGN(const HfSourceParts d, parse(source));
  if (!options.expected_sha256.empty())
    return error(source + ": --sha256 checks one file; a dataset selection may be several (each is hashed and "
                          "its hash kept beside it in the cache)");
  const std::string pattern = has_glob_characters(d.path) ? d.path : "";
  const std::string folder_in_repo = listing_folder(d.path);
  fs::path folder = options.out_path;
  if (folder.empty()) {
    std::string cache_dir = options.cache_dir;
    if (cache_dir.empty()) {
      ARB_ASSIGN(cache_dir, default_cache_dir());
    }
    // One folder per selection (and endpoint), so that its pattern matches only that selection's files.
    const std::string key = options.hf_endpoint + "\n" + d.repo.source_prefix() + "\n" + d.path;
    folder = fs::path(cache_dir) / ("dataset-" + sha256_hex(key).substr(0, 16)) / d.repo.name;
  }

  Result<std::vector<RepoFile>> listing =
      list_hf_files(d.repo, folder_in_repo, source, options);
  if (!listing.is_ok()) {
    // Offline, or the Hub not answering, a selection pulled before is still there to read. An answer
    // (HTTP 4xx: no such repository, no access) is not a reason to read an old copy.
    if (!options.offline && listing.message().find(": HTTP 4") != std::string::npos) return listing.status();
    const std::vector<std::string> kept = read_manifest(folder, source);
    bool complete = !kept.empty();
    for (const std::string& name : kept) complete = complete && fs::is_regular_file(folder / name);
    if (!complete) return listing.status();
    log_warn(listing.message() + "; reading the " + std::to_string(kept.size()) + " files pulled before in " +
             folder.string());
    return local_selection(folder, kept);
  }
  ARB_ASSIGN(const std::vector<RepoFile> chosen,
             choose_dataset_files(*listing, folder_in_repo, pattern, source, d.repo.source_prefix()));

  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) return error(folder.string() + ": cannot create: " + ec.message());
  std::vector<std::string> names;
  std::set<std::string> taken;
  for (const RepoFile& file : chosen) {
    std::string name = flat_name(file.path);
    if (!taken.insert(name).second) return error(source + ": two files of the selection would both be " + name);
    names.push_back(name);
  }
  // Files of an earlier pull that the repository no longer has go; anything else there is not ours.
  const std::vector<std::string> before = read_manifest(folder);
  for (const std::string& old : before)
    if (!taken.count(old)) fs::remove(folder / old, ec);
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (name[0] != '.' && !taken.count(name))
      return error(folder.string() + " holds " + name + ", which is not a file of " + source +
                   ": pull a dataset selection into a folder of its own");
  }
  FetchOptions listed_options = options;
  listed_options.listed_records = records_by_source(chosen, d.repo.source_prefix());
  for (size_t i = 0; i < chosen.size(); ++i) {
    FetchOptions file_options = listed_options;
    file_options.out_path = (folder / names[i]).string();
    if (chosen.size() > 1) log_info("file " + std::to_string(i + 1) + " of " + std::to_string(chosen.size()) + ": " + chosen[i].path);
    Result<FetchResult> fetched = fetch(d.repo.source_prefix() + "/" + chosen[i].path, file_options);
    if (!fetched.is_ok()) return fetched.status().with_context(source);
  }
  ARB_TRY(write_manifest(folder, source, names));
  return local_selection(folder, names);
}

}  // namespace arbiter::fetch
