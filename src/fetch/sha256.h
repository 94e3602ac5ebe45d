// SHA-256 of files and strings, as lower-case hex. Uses OpenSSL's EVP digest: libcurl's OpenSSL build
// already brings libcrypto in, and its SHA-NI / AVX2 code hashes a multi-GB model at disk speed, which a
// hand-written portable loop would not.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace arbiter::fetch {

std::string sha256_hex(std::string_view data);
// Streams the file in 1 MiB reads; the error names the path.
Result<std::string> sha256_file(const std::string& path);
// True for 64 hex digits (either case).
bool is_sha256_hex(std::string_view text);

}  // namespace arbiter::fetch
