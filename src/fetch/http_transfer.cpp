#include "fetch/http_transfer.h"

#include <curl/curl.h>
#include <strings.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

#include "core/ascii.h"
#include "fetch/curl_handles.h"
#include "core/progress.h"

namespace arbiter::fetch {

namespace {

// What the callbacks see of one request; reset when a new response head starts (a redirect's).
struct TransferState {
  CURL* curl = nullptr;
  int fd = -1;
  int64_t offset = 0;  // bytes the file held when the request was sent (the Range start)
  int status = 0;
  int64_t range_start = -1, range_total = -1;  // from Content-Range
  bool body_started = false;
  int64_t received = 0;
  bool resumed = false, restarted = false;
  std::string write_error;
  std::string linked_etag;
  std::string repo_commit;
  std::string etag, last_modified;  // of the current response head
  bool resource_changed = false;    // a 206 for a resource of another length than the file's bytes came from
  std::string body_validator;       // etag or last_modified of the response whose body is being written
  int64_t body_total = -1;
  const TransferOptions* options = nullptr;
  std::unique_ptr<Progress> progress;
};

void parse_content_range(const std::string& value, TransferState& s) {
  // "bytes 100-199/1000" or "bytes */1000" (the form a 416 uses).
  const size_t space = value.find(' ');
  if (space == std::string::npos) return;
  const std::string spec = value.substr(space + 1);
  const size_t slash = spec.find('/');
  if (slash == std::string::npos) return;
  if (spec[0] != '*') s.range_start = std::strtoll(spec.c_str(), nullptr, 10);
  if (spec[slash + 1] != '*') s.range_total = std::strtoll(spec.c_str() + slash + 1, nullptr, 10);
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& s = *static_cast<TransferState*>(user);
  const size_t n = size * count;
  std::string line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {
    const size_t space = line.find(' ');
    s.status = space == std::string::npos ? 0 : std::atoi(line.c_str() + space + 1);
    s.range_start = s.range_total = -1;
    s.body_started = false;
    s.etag.clear();
    s.last_modified.clear();
  } else if (line.size() > 5 && strncasecmp(line.c_str(), "etag:", 5) == 0) {
    std::string value = line.substr(5);
    value.erase(0, value.find_first_not_of(' '));
    // A weak ETag cannot be sent in If-Range (RFC 9110): only a strong one identifies the bytes.
    if (value.rfind("W/", 0) != 0) s.etag = value;
  } else if (line.size() > 14 && strncasecmp(line.c_str(), "last-modified:", 14) == 0) {
    std::string value = line.substr(14);
    value.erase(0, value.find_first_not_of(' '));
    s.last_modified = value;
  } else if (line.size() > 14 && strncasecmp(line.c_str(), "content-range:", 14) == 0) {
    size_t v = 14;
    while (v < line.size() && line[v] == ' ') ++v;
    parse_content_range(line.substr(v), s);
  } else if (line.size() > 14 && strncasecmp(line.c_str(), "x-linked-etag:", 14) == 0) {
    std::string value = line.substr(14);
    value.erase(0, value.find_first_not_of(' '));
    if (value.rfind("W/", 0) == 0) value.erase(0, 2);
    std::erase(value, '"');
    s.linked_etag = ascii_lower(value);
  } else if (line.size() > 14 && strncasecmp(line.c_str(), "x-repo-commit:", 14) == 0) {
    std::string value = line.substr(14);
    value.erase(0, value.find_first_not_of(' '));
    s.repo_commit = ascii_lower(value);
  }
  return n;
}

bool start_over(TransferState& s) {
  if (ftruncate(s.fd, 0) != 0 || lseek(s.fd, 0, SEEK_SET) != 0) {
    s.write_error = std::string("cannot truncate the partial file: ") + std::strerror(errno);
    return false;
  }
  s.offset = 0;
  s.restarted = true;
  return true;
}

// Decides, at the first body byte, whether the body continues the file (206) or replaces it (200).
bool start_body(TransferState& s) {
  s.body_started = true;
  curl_off_t length = -1;
  curl_easy_getinfo(s.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  if (s.status == 206) {
    if (s.range_start != s.offset) {
      s.write_error = "asked for bytes from " + std::to_string(s.offset) + ", the server sent a range starting at " +
                      std::to_string(s.range_start);
      return false;
    }
    // A server that ignores If-Range still says the resource's length and its ETag: another length, or
    // another strong ETag than the one the bytes came with, is another file, whose bytes must not be
    // appended to the old one's.
    const bool other_etag = !s.options->if_range.empty() && s.options->if_range.front() == '"' && !s.etag.empty() &&
                            s.etag != s.options->if_range;
    if (other_etag) {
      s.resource_changed = true;
      s.write_error = "the resource's ETag is " + s.etag + " now, " + s.options->if_range + " when the partial file was begun";
      return false;
    }
    if (s.options->expected_total >= 0 && s.range_total >= 0 && s.range_total != s.options->expected_total) {
      s.resource_changed = true;
      s.write_error = "the resource is " + std::to_string(s.range_total) + " bytes now, " +
                      std::to_string(s.options->expected_total) + " when the partial file was begun";
      return false;
    }
    s.resumed = true;
    s.body_total = s.range_total;
  } else {
    if (s.offset > 0 && !start_over(s)) return false;
    s.body_total = int64_t(length);
  }
  s.body_validator = !s.etag.empty() ? s.etag : s.last_modified;
  if (s.options->on_body_start) s.options->on_body_start(s.body_validator, s.body_total, s.status == 206);
  if (s.options->progress) {
    std::string label = s.options->label;
    if (s.resumed) label += " (resumed at " + std::to_string(s.offset) + " bytes)";
    s.progress = std::make_unique<Progress>(label, int64_t(length), "bytes");
  }
  return true;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& s = *static_cast<TransferState*>(user);
  const size_t n = size * count;
  if (!s.body_started && !start_body(s)) return 0;  // 0 makes libcurl stop with CURLE_WRITE_ERROR
  size_t done = 0;
  while (done < n) {
    const ssize_t w = ::write(s.fd, data + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      s.write_error = std::string("cannot write the partial file: ") + std::strerror(errno);
      return 0;
    }
    done += size_t(w);
  }
  s.received += int64_t(n);
  if (s.progress) s.progress->advance(int64_t(n));
  return n;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}


std::string http_error_message(const std::string& url, int status, const std::string& effective_url) {
  std::string message = "GET " + url + ": HTTP " + std::to_string(status);
  if (!effective_url.empty() && effective_url != url) message += " (from " + effective_url + " after redirects)";
  if (status == 401 || status == 403) message += ": access denied (a gated or private Hugging Face repository needs HF_TOKEN)";
  else if (status == 404) message += ": not found";
  else if (status == 416) message += ": range not satisfiable";
  else if (status >= 500) message += ": server error";
  return message;
}

bool is_dropped_connection(CURLcode rc) {
  return rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING ||
         rc == CURLE_HTTP2 || rc == CURLE_HTTP2_STREAM;
}

// One request from the file's current end.
TransferOutcome request_once(const std::string& url, TransferState& s, const TransferOptions& options) {
  TransferOutcome out;
  const off_t end = lseek(s.fd, 0, SEEK_END);
  if (end < 0) {
    out.status = error("GET " + url + ": cannot seek the partial file: " + std::strerror(errno));
    return out;
  }
  s.offset = int64_t(end);

  CurlHandle curl(curl_easy_init());
  if (!curl) {
    out.status = error("GET " + url + ": cannot create a libcurl handle");
    return out;
  }
  s.curl = curl.get();
  char curl_error[CURL_ERROR_SIZE] = {0};
  CurlHeaders headers;
  curl_slist* list = nullptr;
  if (!options.bearer_token.empty()) list = curl_slist_append(list, ("Authorization: Bearer " + options.bearer_token).c_str());
  // The bytes held are the resource's only while it is the one they came from: otherwise a 200 with all of it.
  if (s.offset > 0 && !options.if_range.empty()) list = curl_slist_append(list, ("If-Range: " + options.if_range).c_str());
  headers.reset(list);
  const std::string range = std::to_string(s.offset) + "-";

  CURL* c = curl.get();
  set_common_curl_options(c, url, options.connect_timeout_s, options.stall_timeout_s, curl_error);
  // Error statuses end the transfer before any body is written, so an error page never lands in the file.
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  // libcurl sends a custom Authorization header only to the host first asked (not to the CDN a Hugging
  // Face download redirects to, whose signed URL needs no token).
  if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  if (s.offset > 0) curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);

  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  char* effective = nullptr;
  curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
  const std::string effective_url = effective != nullptr ? effective : "";
  if (s.progress) s.progress->finish();
  s.progress.reset();
  out.http_status = int(status);

  if (rc == CURLE_OK) {
    // A 200 with an empty body never reached on_body: the old bytes must still go.
    if (s.status != 206 && s.offset > 0 && !s.body_started && !start_over(s))
      out.status = error("GET " + url + ": " + s.write_error);
    return out;
  }
  if (rc == CURLE_HTTP_RETURNED_ERROR) {
    out.status = error(http_error_message(url, int(status), effective_url));
    out.retryable = status >= 500 || status == 429 || status == 408;
    return out;
  }
  if (rc == CURLE_WRITE_ERROR && !s.write_error.empty()) {
    out.status = error("GET " + url + ": " + s.write_error);
    return out;
  }
  const std::string detail = curl_error[0] != '\0' ? curl_error : curl_easy_strerror(rc);
  out.status = error("GET " + url + ": " + detail);
  out.retryable = is_dropped_connection(rc) || (rc == CURLE_OPERATION_TIMEDOUT && s.received > 0);
  return out;
}

}  // namespace

TransferOutcome transfer_into(const std::string& url, int fd, const TransferOptions& options) {
  global_init();
  TransferState s;
  s.fd = fd;
  s.options = &options;
  TransferOutcome out = request_once(url, s, options);
  if (s.resource_changed && start_over(s)) {
    s.resource_changed = false;
    out = request_once(url, s, options);
    out.restarted = true;
  } else if (!out.status.is_ok() && out.http_status == 416 && s.offset > 0) {
    // The server says our Range starts past its end: the partial file is complete when it holds exactly
    // the resource's length, otherwise it is stale (the resource changed) and is started over.
    if (s.range_total == s.offset) {
      out.status = Status::ok();
    } else if (start_over(s)) {
      out = request_once(url, s, options);
      out.restarted = true;
    }
  }
  out.bytes_received = s.received;
  out.linked_etag = s.linked_etag;
  out.repo_commit = s.repo_commit;
  out.resumed = out.resumed || s.resumed;
  out.restarted = out.restarted || s.restarted;
  if (s.body_started) {
    out.validator = s.body_validator;
    out.total = s.body_total;
  }
  return out;
}

}  // namespace arbiter::fetch
