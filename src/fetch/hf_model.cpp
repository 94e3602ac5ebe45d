#include "fetch/hf_model.h"

#include <fnmatch.h>

#include <filesystem>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "core/ascii.h"
#include "core/log.h"
#include "core/mapped_file.h"
#include "fetch/cache.h"
#include "fetch/sha256.h"
#include "io/gguf_split_name.h"

namespace arbiter::fetch {

namespace fs = std::filesystem;

namespace {

constexpr const char* kIndex = "model.safetensors.index.json";

// Files a model may have beside its weights, fetched when present.
constexpr const char* kTextFiles[] = {"tokenizer.json",          "tokenizer.model",        "tokenizer_config.json",
                                      "special_tokens_map.json", "generation_config.json", "chat_template.jinja",
                                      "added_tokens.json"};

constexpr const char* kAdditionalTemplates = "additional_chat_templates";

// additional_chat_templates/NAME.jinja, the folder transformers keeps a model's named chat templates in:
// a plain name directly in it, nothing that could reach outside the model's folder.
bool additional_chat_template(const std::string& path) {
  const std::string prefix = std::string(kAdditionalTemplates) + "/";
  if (path.rfind(prefix, 0) != 0) return false;
  const std::string name = path.substr(prefix.size());
  return name.size() > 6 && name[0] != '.' && name.find_first_of("/\\") == std::string::npos &&
         name.compare(name.size() - 6, 6, ".jinja") == 0;
}

// A file name from the index: a plain .safetensors name in the repository's top folder, nothing that could
// reach outside the model's folder.
bool plain_safetensors_name(const std::string& name) {
  return !name.empty() && name[0] != '.' && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos && name.size() > 12 &&
         name.compare(name.size() - 12, 12, ".safetensors") == 0;
}

// The shard names of an index's weight_map, each once, in order of first appearance.
Result<std::vector<std::string>> shard_names(const std::string& index_path) {
  ARB_ASSIGN(const std::string text, read_file(index_path));
  const nlohmann::json index = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded()) return error(index_path + ": malformed JSON");
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    return error(index_path + ": no 'weight_map' object");
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& [tensor, file] : index["weight_map"].items()) {
    if (!file.is_string()) return error(index_path + ": weight_map entry '" + tensor + "' is not a file name");
    const std::string name = file.get<std::string>();
    if (!plain_safetensors_name(name))
      return error(index_path + ": weight_map entry '" + tensor + "' names '" + name +
                   "', not a .safetensors file in the repository's top folder");
    if (seen.insert(name).second) names.push_back(name);
  }
  if (names.empty()) return error(index_path + ": the weight_map is empty");
  return names;
}

// A model repository's source in parts.
Result<HfSourceParts> parse_model_source(const std::string& source) {
  ARB_ASSIGN(HfSourceParts m, parse_hf_source(source));
  if (m.repo.kind != "models") return error(source + ": not a model repository");
  return m;
}

bool ends_with_nocase(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i]) return false;
  return true;
}

// -o names the file, or (as for a safetensors repository) the folder to put it in.
FetchOptions gguf_out_options(const FetchOptions& options, const std::string& path) {
  FetchOptions file_options = options;
  if (!options.out_path.empty() && !ends_with_nocase(options.out_path, ".gguf"))
    file_options.out_path = (fs::path(options.out_path) / fs::path(path).filename()).string();
  return file_options;
}

// Pulls the model whose first file is `path` (all its files, when split) and returns its first file. The
// listing's records check the cached files and the downloads.
Result<std::string> pull_gguf(const HfSourceParts& m, const std::string& path, const std::vector<RepoFile>& listing,
                              FetchOptions options) {
  options.listed_records = records_by_source(listing, m.repo.source_prefix());
  ARB_ASSIGN(const std::vector<FetchResult> files, fetch_with_split_files(m.repo.source_prefix() + "/" + path, options));
  return files.front().path;
}

// A repository without config.json: its one GGUF model, by the listing, or an error naming each.
Result<std::string> pull_gguf_release(const std::string& source, const HfSourceParts& m,
                                      const std::vector<RepoFile>& listing, const FetchOptions& options) {
  bool any_gguf = false;
  for (const RepoFile& f : listing) any_gguf = any_gguf || ends_with_nocase(f.path, ".gguf");
  if (!any_gguf)
    return error(source + ": the repository has no config.json (and no GGUF files): not a model arbiter reads");
  ARB_ASSIGN(const std::string path, choose_gguf_model(listing, "", source, m.repo.source_prefix()));
  return pull_gguf(m, path, listing, gguf_out_options(options, path));
}

}  // namespace

Result<std::string> choose_gguf_model(const std::vector<RepoFile>& listing, const std::string& pattern,
                                      const std::string& source, const std::string& source_prefix) {
  struct GgufModel {
    std::string first;  // the path the model opens by
    int64_t files = 0, bytes = 0;
    bool matches = false;
  };
  std::map<std::string, GgufModel> models;  // by the first file's path
  for (const RepoFile& file : listing) {
    if (!ends_with_nocase(file.path, ".gguf")) continue;
    const std::string name = file.path.substr(file.path.rfind('/') == std::string::npos ? 0 : file.path.rfind('/') + 1);
    if (ascii_lower(name.substr(0, 6)) == "mmproj") continue;  // a vision projector, not a model
    std::string first = file.path;
    if (const auto split = parse_gguf_split_name(file.path)) first = gguf_split_name(split->prefix, 0, split->count);
    GgufModel& model = models[first];
    model.first = first;
    model.files += 1;
    model.bytes += file.size;
    if (pattern.empty() || ::fnmatch(pattern.c_str(), file.path.c_str(), FNM_PATHNAME | FNM_CASEFOLD) == 0)
      model.matches = true;
  }
  std::vector<const GgufModel*> chosen;
  for (const auto& [first, model] : models)
    if (model.matches) chosen.push_back(&model);
  if (chosen.size() == 1) return chosen.front()->first;
  if (models.empty()) return error(source + ": the repository has no GGUF files");
  std::string message = source;
  if (chosen.empty())
    message += ": no GGUF model of the repository matches '" + pattern + "'; it has " + std::to_string(models.size()) +
               (models.size() == 1 ? ":" : ", name one:");
  else if (pattern.empty())
    message += ": the repository holds " + std::to_string(chosen.size()) + " GGUF models; name one:";
  else
    message += ": " + std::to_string(chosen.size()) + " GGUF models match; name one:";
  size_t shown = 0;
  for (const auto& [first, model] : models) {
    if (!chosen.empty() && !model.matches) continue;
    if (++shown > 30) {
      message += "\n  ...";
      break;
    }
    message += "\n  " + source_prefix + "/" + first + "  (" + describe_size(model.bytes) +
               (model.files > 1 ? ", " + std::to_string(model.files) + " files" : "") + ")";
  }
  return error(message);
}

bool is_hf_model_pattern(const std::string& source) {
  const Result<HfSourceParts> m = parse_model_source(source);
  return m.is_ok() && m->path.find_first_of("*?[") != std::string::npos;
}

Result<std::string> fetch_hf_model_pattern(const std::string& source, const FetchOptions& options) {
  ARB_ASSIGN(const HfSourceParts m, parse_model_source(source));
  if (!options.expected_sha256.empty())
    return error(source + ": --sha256 checks a named file; name the file rather than a pattern");
  ARB_ASSIGN(const std::vector<RepoFile> listing, list_hf_files(m.repo, "", source, options));
  ARB_ASSIGN(const std::string path, choose_gguf_model(listing, m.path, source, m.repo.source_prefix()));
  return pull_gguf(m, path, listing, gguf_out_options(options, path));
}

bool is_hf_model_repository(const std::string& source) {
  if (source.rfind("hf://", 0) != 0) return false;
  std::string rest = source.substr(5);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= rest.size()) return false;
  const std::string org = rest.substr(0, slash);
  if (org == "datasets" || org == "spaces") return false;
  return rest.find('/', slash + 1) == std::string::npos;
}

Result<std::string> fetch_hf_model(const std::string& source, const FetchOptions& options) {
  if (!is_hf_model_repository(source)) return error(source + ": expected hf://ORG/REPO[@REVISION]");
  if (!options.expected_sha256.empty())
    return error(source + ": --sha256 checks one file; a model repository is several (each is hashed and "
                          "its hash kept beside it in the cache)");
  std::string repo = source;
  while (repo.back() == '/') repo.pop_back();
  ARB_ASSIGN(const HfSourceParts m, parse_model_source(repo));
  // Where the files go: the repository's own folder, named after it.
  std::string folder = options.out_path;
  if (folder.empty()) {
    std::string cache_dir = options.cache_dir;
    if (cache_dir.empty()) {
      ARB_ASSIGN(cache_dir, default_cache_dir());
    }
    ARB_ASSIGN(const std::string config_url, resolve_source(repo + "/config.json", options.hf_endpoint));
    std::string name = repo.substr(repo.rfind('/') + 1);
    name = name.substr(0, name.find('@'));
    folder = (fs::path(cache_dir) / ("model-" + sha256_hex(config_url).substr(0, 16)) / name).string();
  }

  // The listing, where the Hub gives it: one request says which of the files the repository has and what
  // each holds, so that nothing is asked for that is not there, and each cached file is checked against
  // the listing's record rather than a request of its own. Without it (offline, the Hub down, a mirror
  // without the API) the files are fetched by name.
  FetchOptions file_base = options;
  std::optional<std::set<std::string>> listed;
  if (!options.offline) {
    Result<std::vector<RepoFile>> listing = list_hf_files(m.repo, "", source, options);
    if (listing.is_ok()) {
      listed.emplace();
      for (const RepoFile& f : *listing) listed->insert(f.path);
      if (!listed->count("config.json")) return pull_gguf_release(source, m, *listing, options);
      file_base.listed_records = records_by_source(*listing, m.repo.source_prefix());
    } else {
      log_debug(listing.message() + "; fetching the model's files by name");
    }
  }

  // One file of the repository into the folder; `required` makes its absence an error. `optional` files
  // (the index, tokenizer and template files a repository may lack) are skipped with a warning when
  // they cannot be fetched while the model comes from the cache: a node without network asks again about
  // the ones the repository lacked, and the model does not need them.
  bool config_cached = false;
  std::set<std::string> placed;
  auto pull = [&](const std::string& file, bool required, bool optional = false) -> Result<bool> {
    if (listed && !listed->count(file)) {
      if (required) return error(source + ": the repository has no " + file);
      return false;
    }
    FetchOptions file_options = file_base;
    file_options.out_path = (fs::path(folder) / file).string();
    file_options.missing_ok = true;
    Result<FetchResult> fetched = fetch(repo + "/" + file, file_options);
    if (!fetched.is_ok()) {
      // Working from the cache (a node without network): an optional file the repository lacked before
      // cannot be asked about again, and the model does not need it.
      if (optional && config_cached) {
        log_warn(source + ": " + file + " not checked (" + fetched.message() + "); using the files pulled before");
        return false;
      }
      return fetched.status().with_context(source);
    }
    if (file == "config.json") config_cached = fetched->cache_hit;
    if (fetched->missing) {
      if (required) return error(source + ": the repository has no " + file);
      return false;
    }
    placed.insert(file);
    log_info((fetched->cache_hit ? "cached: " : "downloaded: ") + file);
    return true;
  };

  ARB_ASSIGN(const bool has_config, pull("config.json", false));
  if (!has_config && options.offline)
    return error(source + ": not in the cache, and HF_HUB_OFFLINE is set, so it is not downloaded (pull it where the "
                          "Hub can be reached)");
  if (!has_config) {
    // A GGUF release has no config.json: the listing says which GGUF models it holds.
    Result<std::vector<RepoFile>> listing = list_hf_files(m.repo, "", source, options);
    if (!listing.is_ok()) return error(source + ": the repository has no config.json (" + listing.message() + ")");
    return pull_gguf_release(source, m, *listing, options);
  }
  ARB_ASSIGN(const bool sharded, pull(kIndex, false, true));
  if (sharded) {
    ARB_ASSIGN(const std::vector<std::string> shards, shard_names((fs::path(folder) / kIndex).string()));
    for (const std::string& shard : shards) {
      if (listed && !listed->count(shard))
        return error(source + ": " + kIndex + " names " + shard + ", which the repository does not have");
      ARB_TRY(pull(shard, true).status());
    }
  } else {
    ARB_ASSIGN(const bool whole, pull("model.safetensors", false));
    if (!whole)
      return error(source + ": the repository has neither model.safetensors nor " + kIndex +
                   " (arbiter reads safetensors weights; pytorch_model.bin is not read)");
  }
  for (const char* file : kTextFiles) ARB_TRY(pull(file, false, true).status());
  // Named chat templates (additional_chat_templates/tool_use.jinja, ...): only the listing says which a
  // repository has, so without one those pulled before stay as they are.
  if (listed)
    for (const std::string& file : *listed)
      if (additional_chat_template(file)) ARB_TRY(pull(file, false, true).status());
  if (listed) {
    // Files of these names that an earlier pull placed and the repository no longer has would be read with
    // the new ones (an index beside a model that is now one file, an old chat template): they go.
    std::vector<std::string> known(std::begin(kTextFiles), std::end(kTextFiles));
    known.push_back(kIndex);
    known.push_back("model.safetensors");
    for (const std::string& name : known) {
      std::error_code ec;
      if (!placed.count(name) && !listed->count(name) && fs::remove(fs::path(folder) / name, ec))
        log_info("removed " + name + " from " + folder + ": the repository no longer has it");
    }
    std::error_code ec;
    for (fs::directory_iterator it(fs::path(folder) / kAdditionalTemplates, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = std::string(kAdditionalTemplates) + "/" + it->path().filename().string();
      std::error_code removed;
      if (additional_chat_template(name) && !listed->count(name) && fs::remove(it->path(), removed))
        log_info("removed " + name + " from " + folder + ": the repository no longer has it");
    }
  }
  return folder;
}

}  // namespace arbiter::fetch
