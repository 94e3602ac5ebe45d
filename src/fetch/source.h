// What `arbiter pull` accepts and where it goes: http(s) URLs as they are, and the hf:// shorthand for a
// file in a Hugging Face repository.
//
//   hf://ORG/REPO/PATH              -> ENDPOINT/ORG/REPO/resolve/main/PATH            (a model repository)
//   hf://ORG/REPO@REV/PATH          -> ENDPOINT/ORG/REPO/resolve/REV/PATH             (branch, tag or commit)
//   hf://datasets/ORG/REPO[@REV]/PATH -> ENDPOINT/datasets/ORG/REPO/resolve/REV/PATH  (a dataset repository)
//   hf://spaces/ORG/REPO[@REV]/PATH   -> ENDPOINT/spaces/ORG/REPO/resolve/REV/PATH
//
// ENDPOINT is https://huggingface.co unless HF_ENDPOINT names a mirror (the variable huggingface_hub reads).
#pragma once

#include <string>

#include "core/status.h"

namespace arbiter::fetch {

inline constexpr const char* kHuggingFaceEndpoint = "https://huggingface.co";

// The URL to download; an error names the source and what is wrong with it.
Result<std::string> resolve_source(const std::string& source, const std::string& hf_endpoint = kHuggingFaceEndpoint);

// "scheme://host[:port]", lower-cased, without user info and without the scheme's default port; empty when
// `url` is not http(s). Two URLs with the same origin reach the same server.
std::string url_origin(const std::string& url);

// Percent-encodes what may not stand in a URL path as it is (spaces, '#', '?', non-ASCII bytes); '/' and
// '%' are kept, so an already encoded part passes through.
std::string encode_url_path(const std::string& path);

// The last path segment (before any query or fragment), reduced to [A-Za-z0-9._-] so it is a safe file
// name; "download" when nothing is left.
std::string url_file_name(const std::string& url);

}  // namespace arbiter::fetch
