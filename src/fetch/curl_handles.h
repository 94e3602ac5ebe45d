// Owners for libcurl's handles, so every return path frees them.
#pragma once

#include <curl/curl.h>

#include <memory>

namespace arbiter::fetch {

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlHandle = std::unique_ptr<CURL, CurlFree>;
using CurlHeaders = std::unique_ptr<curl_slist, SlistFree>;

}  // namespace arbiter::fetch
