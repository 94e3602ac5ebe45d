// Owners for libcurl's handles, so every return path frees them, and the options every request shares.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>

#include "core/version.h"

namespace arbiter::fetch {

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlHandle = std::unique_ptr<CURL, CurlFree>;
using CurlHeaders = std::unique_ptr<curl_slist, SlistFree>;

// http(s) only, redirects followed (at most 10), no signals, the timeouts (a transfer that receives no byte
// for stall_timeout_s is abandoned), a user agent, and errors described into `error_buffer`
// (CURL_ERROR_SIZE bytes, alive until the transfer ends).
inline void set_common_curl_options(CURL* c, const std::string& url, long connect_timeout_s, long stall_timeout_s,
                                    char* error_buffer) {
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, stall_timeout_s);
  curl_easy_setopt(c, CURLOPT_USERAGENT, (std::string("arbiter/") + kArbiterVersion).c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
}

}  // namespace arbiter::fetch
