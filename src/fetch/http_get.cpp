#include "fetch/http_get.h"

#include <curl/curl.h>
#include <strings.h>

#include <memory>
#include <mutex>
#include <set>

#include "core/ascii.h"
#include "fetch/curl_handles.h"
#include "fetch/source.h"

namespace arbiter::fetch {

namespace {

struct GetState {
  HttpGetResult result;
  std::string link_header;
  int64_t max_bytes = 0;
  bool too_long = false;
};

size_t on_get_header(char* data, size_t size, size_t count, void* user) {
  auto& s = *static_cast<GetState*>(user);
  const size_t n = size * count;
  std::string line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) s.link_header.clear();  // a redirect's headers are not the answer's
  else if (line.size() > 5 && strncasecmp(line.c_str(), "link:", 5) == 0) s.link_header = line.substr(5);
  return n;
}

size_t on_get_body(char* data, size_t size, size_t count, void* user) {
  auto& s = *static_cast<GetState*>(user);
  const size_t n = size * count;
  if (int64_t(s.result.body.size() + n) > s.max_bytes) {
    s.too_long = true;
    return 0;
  }
  s.result.body.append(data, n);
  return n;
}


std::string trim_blanks(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

// `W/"AbC"` -> `abc`: an entity tag's value, as huggingface_hub compares them.
std::string normalize_etag(std::string value) {
  value = trim_blanks(value);
  if (value.rfind("W/", 0) == 0) value = value.substr(2);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  return ascii_lower(value);
}

size_t on_head_header(char* data, size_t size, size_t count, void* user) {
  auto& result = *static_cast<HttpHeadResult*>(user);
  const size_t n = size * count;
  std::string line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) result = HttpHeadResult{};
  else if (line.size() > 5 && strncasecmp(line.c_str(), "etag:", 5) == 0) result.etag = normalize_etag(line.substr(5));
  else if (line.size() > 14 && strncasecmp(line.c_str(), "x-linked-etag:", 14) == 0)
    result.linked_etag = normalize_etag(line.substr(14));
  else if (line.size() > 14 && strncasecmp(line.c_str(), "x-repo-commit:", 14) == 0)
    result.repo_commit = normalize_etag(line.substr(14));
  return n;
}

// Origins that gave no answer to a metadata request in this process (see http_get.h).
std::mutex unanswered_mutex;
std::set<std::string> unanswered_origins;

// The error for a URL whose origin did not answer before; ok to ask otherwise.
Status asked_before_without_answer(const std::string& method, const std::string& url) {
  std::lock_guard<std::mutex> lock(unanswered_mutex);
  if (!unanswered_origins.count(url_origin(url))) return Status::ok();
  return error(method + " " + url + ": " + url_origin(url) + " did not answer an earlier request; not asked again");
}

void remember_no_answer(const std::string& url) {
  std::lock_guard<std::mutex> lock(unanswered_mutex);
  unanswered_origins.insert(url_origin(url));
}

}  // namespace

std::string next_link_of(const std::string& link_header) {
  // Entries are "<URL>; param; param", separated by commas (a URL in <> holds no unescaped '>').
  size_t pos = 0;
  while (true) {
    const size_t open = link_header.find('<', pos);
    if (open == std::string::npos) return {};
    const size_t close = link_header.find('>', open);
    if (close == std::string::npos) return {};
    const std::string url = link_header.substr(open + 1, close - open - 1);
    const size_t end = link_header.find('<', close);  // the next entry's start
    std::string params = link_header.substr(close + 1, end == std::string::npos ? std::string::npos : end - close - 1);
    size_t p = 0;
    while (p < params.size()) {
      const size_t semi = params.find_first_of(";,", p);
      std::string param = trim_blanks(params.substr(p, semi == std::string::npos ? std::string::npos : semi - p));
      const std::string lower = ascii_lower(param);
      if (lower == "rel=\"next\"" || lower == "rel=next") return url;
      if (semi == std::string::npos) break;
      p = semi + 1;
    }
    if (end == std::string::npos) return {};
    pos = end;
  }
}

Result<HttpGetResult> http_get(const std::string& url, const HttpGetOptions& options) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  ARB_TRY(asked_before_without_answer("GET", url));
  CurlHandle curl(curl_easy_init());
  if (!curl) return error("GET " + url + ": cannot create a libcurl handle");
  GetState s;
  s.max_bytes = options.max_bytes;
  char curl_error[CURL_ERROR_SIZE] = {0};
  CurlHeaders headers(curl_slist_append(nullptr, "Accept: application/json"));
  if (!options.bearer_token.empty())
    headers.reset(curl_slist_append(headers.release(), ("Authorization: Bearer " + options.bearer_token).c_str()));
  CURL* c = curl.get();
  set_common_curl_options(c, url, options.connect_timeout_s, options.stall_timeout_s, curl_error);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode (listings compress well)
  // A custom Authorization header goes to the host first asked only, not to where a redirect leads.
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_get_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_get_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (s.too_long)
    return error("GET " + url + ": the answer is longer than " + std::to_string(options.max_bytes) + " bytes");
  if (rc != CURLE_OK) {
    remember_no_answer(url);
    return error("GET " + url + ": " + (curl_error[0] != '\0' ? std::string(curl_error) : curl_easy_strerror(rc)));
  }
  s.result.http_status = int(status);
  if (status == 404) {
    s.result.body.clear();
    return std::move(s.result);
  }
  if (status >= 400) {
    std::string message = "GET " + url + ": HTTP " + std::to_string(status);
    if (status == 401 || status == 403)
      message += ": access denied (a gated or private Hugging Face repository needs HF_TOKEN)";
    else if (status >= 500)
      message += ": server error";
    return error(message);
  }
  s.result.next_link = next_link_of(s.link_header);
  return std::move(s.result);
}

Result<HttpHeadResult> http_head(const std::string& url, const HttpGetOptions& options) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  ARB_TRY(asked_before_without_answer("HEAD", url));
  const std::string origin = url_origin(url);
  std::string at = url;
  for (int redirects = 0;; ++redirects) {
    CurlHandle curl(curl_easy_init());
    if (!curl) return error("HEAD " + url + ": cannot create a libcurl handle");
    char curl_error[CURL_ERROR_SIZE] = {0};
    CurlHeaders headers;
    if (!options.bearer_token.empty())
      headers.reset(curl_slist_append(nullptr, ("Authorization: Bearer " + options.bearer_token).c_str()));
    CURL* c = curl.get();
    set_common_curl_options(c, at, options.connect_timeout_s, options.stall_timeout_s, curl_error);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // followed below, within the origin only
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    HttpHeadResult result;
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_head_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &result);
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
      remember_no_answer(at);
      return error("HEAD " + at + ": " + (curl_error[0] != '\0' ? std::string(curl_error) : curl_easy_strerror(rc)));
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    result.http_status = int(status);
    char* target = nullptr;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &target);
    const bool same_origin_redirect = status >= 300 && status < 400 && target != nullptr && url_origin(target) == origin;
    if (!same_origin_redirect || redirects >= 10) return result;
    at = target;
  }
}

}  // namespace arbiter::fetch
