#include "fetch/hf_model.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "core/log.h"
#include "core/mapped_file.h"
#include "fetch/cache.h"
#include "fetch/sha256.h"

namespace arbiter::fetch {

namespace fs = std::filesystem;

namespace {

constexpr const char* kIndex = "model.safetensors.index.json";

// Files a model may have beside its weights, fetched when present.
constexpr const char* kTextFiles[] = {"tokenizer.json",          "tokenizer.model",        "tokenizer_config.json",
                                      "special_tokens_map.json", "generation_config.json", "chat_template.jinja"};

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

}  // namespace

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

  // One file of the repository into the folder; `required` makes its absence an error.
  auto pull = [&](const std::string& file, bool required) -> Result<bool> {
    FetchOptions file_options = options;
    file_options.out_path = (fs::path(folder) / file).string();
    file_options.missing_ok = true;
    Result<FetchResult> fetched = fetch(repo + "/" + file, file_options);
    if (!fetched.is_ok()) return fetched.status().with_context(source);
    if (fetched->missing) {
      if (required) return error(source + ": the repository has no " + file);
      return false;
    }
    log_info((fetched->cache_hit ? "cached: " : "downloaded: ") + file);
    return true;
  };

  ARB_TRY(pull("config.json", true).status());
  ARB_ASSIGN(const bool sharded, pull(kIndex, false));
  if (sharded) {
    ARB_ASSIGN(const std::vector<std::string> shards, shard_names((fs::path(folder) / kIndex).string()));
    for (const std::string& shard : shards) ARB_TRY(pull(shard, true).status());
  } else {
    ARB_ASSIGN(const bool whole, pull("model.safetensors", false));
    if (!whole)
      return error(source + ": the repository has neither model.safetensors nor " + kIndex +
                   " (arbiter reads safetensors weights; pytorch_model.bin is not read)");
  }
  for (const char* file : kTextFiles) ARB_TRY(pull(file, false).status());
  return folder;
}

}  // namespace arbiter::fetch
