// What a Hugging Face endpoint records for a file's bytes, computed here with OpenSSL directly (not through
// the code under test), for loopback servers that answer as the Hub does: the SHA-256 of a file kept in LFS
// (X-Linked-Etag, a listing's lfs.oid) and the git blob id of one that is not (ETag, a listing's oid).
#pragma once

#include <openssl/evp.h>

#include <string>

namespace arbiter::test {

inline std::string digest_hex(const std::string& bytes, const EVP_MD* md) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &n, md, nullptr);
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) hex += {digits[digest[i] >> 4], digits[digest[i] & 15]};
  return hex;
}

inline std::string lfs_sha256_of(const std::string& bytes) { return digest_hex(bytes, EVP_sha256()); }

inline std::string git_blob_id_of(const std::string& bytes) {
  return digest_hex("blob " + std::to_string(bytes.size()) + std::string(1, '\0') + bytes, EVP_sha1());
}

}  // namespace arbiter::test
