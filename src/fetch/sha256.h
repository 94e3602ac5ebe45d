// SHA-256 of files and strings, and git's blob ids of files, as lower-case hex. Uses OpenSSL's EVP digest: libcurl's OpenSSL build
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

// The id git (and so the Hugging Face Hub, for a file not kept in LFS) gives the file's bytes: the SHA-1 of
// "blob SIZE\0" and the bytes. `printf hi | git hash-object --stdin` is 32f95c0d1244a78b2be1bab8de17906fabb2c4a8.
Result<std::string> git_blob_id_file(const std::string& path);
// True for 40 hex digits (either case).
bool is_git_blob_id(std::string_view text);

}  // namespace arbiter::fetch
