#include "fetch/hf_listing.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "core/ascii.h"
#include "fetch/http_get.h"
#include "fetch/sha256.h"

namespace arbiter::fetch {

namespace {

bool safe_repo_path(const std::string& path) {
  if (path.empty() || path[0] == '/' || path.find('\\') != std::string::npos) return false;
  size_t start = 0;
  while (true) {
    const size_t end = path.find('/', start);
    const std::string segment = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (end == std::string::npos) return true;
    start = end + 1;
  }
}

}  // namespace

Result<HfSourceParts> parse_hf_source(const std::string& source) {
  const std::string usage = source + ": expected hf://[datasets/]ORG/REPO[@REVISION][/PATH]";
  if (source.rfind("hf://", 0) != 0) return error(usage);
  std::string rest = source.substr(5);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  HfSourceParts parts;
  parts.repo.kind = "models";
  for (const char* kind : {"datasets", "spaces"})
    if (rest.rfind(std::string(kind) + "/", 0) == 0) {
      parts.repo.kind = kind;
      rest = rest.substr(std::string(kind).size() + 1);
    }
  const size_t first = rest.find('/');
  if (first == std::string::npos || first == 0) return error(usage);
  parts.repo.org = rest.substr(0, first);
  const size_t second = rest.find('/', first + 1);
  parts.repo.name = rest.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
  if (second != std::string::npos) parts.path = rest.substr(second + 1);
  if (const size_t at = parts.repo.name.find('@'); at != std::string::npos) {
    parts.repo.revision = parts.repo.name.substr(at + 1);
    parts.repo.name = parts.repo.name.substr(0, at);
  }
  if (parts.repo.name.empty() || parts.repo.revision.empty()) return error(source + ": empty repository or revision");
  if (!parts.path.empty() && !safe_repo_path(parts.path))
    return error(source + ": empty or relative path segment in hf:// source");
  return parts;
}

std::string HfRepository::source_prefix() const {
  const std::string type = kind == "models" ? "" : kind + "/";
  return "hf://" + type + org + "/" + name + (revision == "main" ? "" : "@" + revision);
}

Result<std::vector<RepoFile>> list_hf_files(const HfRepository& repo, const std::string& folder, const std::string& source,
                                            const FetchOptions& options) {
  if (options.offline)
    return error(source + ": which files the repository holds is a question for the Hub, and HF_HUB_OFFLINE is set");
  std::string endpoint = options.hf_endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  std::string url = endpoint + "/api/" + repo.kind + "/" + encode_url_path(repo.org) + "/" + encode_url_path(repo.name) +
                    "/tree/" + encode_url_path(repo.revision) + (folder.empty() ? "" : "/" + encode_url_path(folder)) +
                    "?recursive=true";
  HttpGetOptions get;
  get.connect_timeout_s = options.connect_timeout_s;
  get.stall_timeout_s = options.stall_timeout_s;
  std::vector<RepoFile> files;
  std::set<std::string> pages_seen;
  while (!url.empty()) {
    if (!pages_seen.insert(url).second) return error(source + ": the listing's pages lead back to " + url);
    if (pages_seen.size() > 1000) return error(source + ": the listing has more than 1000 pages");
    get.bearer_token = !options.hf_token.empty() && url_origin(url) == url_origin(endpoint) ? options.hf_token : "";
    Result<HttpGetResult> got = http_get(url, get);
    if (!got.is_ok()) return got.status().with_context(source + ": listing its files");
    const HttpGetResult& page = *got;
    if (page.http_status == 404)
      return error(source + ": no such repository, revision or folder (GET " + url +
                   ": HTTP 404; a private repository also answers so without HF_TOKEN)");
    const nlohmann::json entries = nlohmann::json::parse(page.body, nullptr, /*allow_exceptions=*/false);
    if (entries.is_discarded() || !entries.is_array())
      return error(source + ": the listing (" + url + ") is not a JSON array of files");
    for (const nlohmann::json& entry : entries) {
      if (!entry.is_object() || !entry.contains("path") || !entry["path"].is_string())
        return error(source + ": the listing (" + url + ") has an entry without a path: " + entry.dump().substr(0, 200));
      if (entry.value("type", "") != "file") continue;
      const std::string path = entry["path"].get<std::string>();
      if (!safe_repo_path(path)) return error(source + ": the listing names a file '" + path + "' outside the repository");
      const bool sized = entry.contains("size") && entry["size"].is_number_integer();
      RepoFile file{path, sized ? entry["size"].get<int64_t>() : 0, {}};
      // {"oid": git blob id, "lfs": {"oid": SHA-256, ...}} as the tree API gives them; a value of another
      // form is not a record.
      auto string_at = [](const nlohmann::json& object, const char* key) -> std::string {
        return object.is_object() && object.contains(key) && object[key].is_string() ? object[key].get<std::string>() : "";
      };
      if (entry.contains("lfs")) {
        const std::string oid = string_at(entry["lfs"], "oid");
        if (is_sha256_hex(oid)) file.record.sha256 = ascii_lower(oid);
      } else if (const std::string oid = string_at(entry, "oid"); is_git_blob_id(oid)) {
        file.record.git_blob_id = ascii_lower(oid);
      }
      files.push_back(std::move(file));
    }
    url = page.next_link;
  }
  std::sort(files.begin(), files.end(), [](const RepoFile& a, const RepoFile& b) { return a.path < b.path; });
  return files;
}

std::map<std::string, HubRecord> records_by_source(const std::vector<RepoFile>& files, const std::string& source_prefix) {
  std::map<std::string, HubRecord> records;
  for (const RepoFile& file : files)
    if (file.record.says_anything()) records[source_prefix + "/" + file.path] = file.record;
  return records;
}

std::string describe_size(int64_t bytes) {
  char text[32];
  if (bytes >= (int64_t(1) << 30)) std::snprintf(text, sizeof text, "%.1f GiB", double(bytes) / double(1 << 30));
  else if (bytes >= (1 << 20)) std::snprintf(text, sizeof text, "%.1f MiB", double(bytes) / double(1 << 20));
  else std::snprintf(text, sizeof text, "%lld bytes", static_cast<long long>(bytes));
  return text;
}

}  // namespace arbiter::fetch
