#include "fetch/source.h"

#include <cctype>
#include <vector>

#include "core/ascii.h"

namespace arbiter::fetch {

namespace {

bool starts_with_nocase(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && ascii_lower(s.substr(0, prefix.size())) == prefix;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

}  // namespace

// '%' is kept so that hf://org/repo@refs%2Fpr%2F1/file names a pull request.
std::string encode_url_path(const std::string& path) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == '+' || c == '=' ||
        c == ',' || c == '@' || c == '(' || c == ')' || c == '%') {
      out += char(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

namespace {

Result<std::string> resolve_hf(const std::string& source, std::string endpoint) {
  const std::string rest = source.substr(5);  // after "hf://"
  std::vector<std::string> parts = split(rest, '/');
  std::string kind;
  if (!parts.empty() && (parts[0] == "datasets" || parts[0] == "spaces")) {
    kind = parts[0];
    parts.erase(parts.begin());
  }
  if (parts.size() < 3)
    return error(source + ": expected hf://" + (kind.empty() ? "" : kind + "/") + "ORG/REPO[@REVISION]/PATH/TO/FILE");
  for (const std::string& part : parts)
    if (part.empty() || part == "." || part == "..") return error(source + ": empty or relative path segment in hf:// source");
  std::string repo = parts[1], revision = "main";
  if (const size_t at = repo.find('@'); at != std::string::npos) {
    revision = repo.substr(at + 1);
    repo = repo.substr(0, at);
    if (repo.empty() || revision.empty()) return error(source + ": empty repository or revision around '@'");
  }
  std::string file;
  for (size_t i = 2; i < parts.size(); ++i) file += (i > 2 ? "/" : "") + parts[i];
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint + "/" + (kind.empty() ? "" : kind + "/") + encode_url_path(parts[0]) + "/" + encode_url_path(repo) +
         "/resolve/" + encode_url_path(revision) + "/" + encode_url_path(file);
}

}  // namespace

Result<std::string> resolve_source(const std::string& source, const std::string& hf_endpoint) {
  for (unsigned char c : source)
    if (c <= 0x20 || c == 0x7f) return error("'" + source + "': a URL may not contain spaces or control characters");
  if (starts_with_nocase(source, "hf://")) {
    if (url_origin(hf_endpoint).empty()) return error("HF_ENDPOINT '" + hf_endpoint + "' is not an http(s) URL");
    return resolve_hf(source, hf_endpoint);
  }
  if (starts_with_nocase(source, "http://") || starts_with_nocase(source, "https://")) {
    if (url_origin(source).empty()) return error(source + ": URL without a host");
    return source;
  }
  return error("'" + source + "': expected an http:// or https:// URL or hf://ORG/REPO/FILE");
}

std::string url_origin(const std::string& url) {
  std::string scheme;
  if (starts_with_nocase(url, "http://")) scheme = "http";
  else if (starts_with_nocase(url, "https://")) scheme = "https";
  else return {};
  const size_t start = scheme.size() + 3;
  const size_t end = url.find_first_of("/?#", start);
  std::string authority = ascii_lower(url.substr(start, end == std::string::npos ? std::string::npos : end - start));
  if (const size_t at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  const std::string default_port = scheme == "http" ? ":80" : ":443";
  if (authority.size() > default_port.size() &&
      authority.compare(authority.size() - default_port.size(), default_port.size(), default_port) == 0)
    authority.resize(authority.size() - default_port.size());
  if (authority.empty() || authority[0] == ':') return {};
  return scheme + "://" + authority;
}

std::string url_file_name(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  if (const size_t scheme = path.find("://"); scheme != std::string::npos) {
    const size_t slash = path.find('/', scheme + 3);
    path = slash == std::string::npos ? std::string() : path.substr(slash);
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  std::string name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  for (char& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  while (!name.empty() && name[0] == '.') name.erase(0, 1);  // no hidden files, no ".."
  return name.empty() ? "download" : name;
}

}  // namespace arbiter::fetch
