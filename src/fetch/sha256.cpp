#include "fetch/sha256.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

namespace arbiter::fetch {

namespace {

struct DigestContextFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using DigestContext = std::unique_ptr<EVP_MD_CTX, DigestContextFree>;

std::string to_hex(const unsigned char* bytes, unsigned int n) {
  static const char digits[] = "0123456789abcdef";
  std::string hex(size_t(n) * 2, '0');
  for (unsigned int i = 0; i < n; ++i) {
    hex[2 * i] = digits[bytes[i] >> 4];
    hex[2 * i + 1] = digits[bytes[i] & 15];
  }
  return hex;
}

Result<DigestContext> start_digest(const EVP_MD* md) {
  DigestContext ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return error("cannot initialise an OpenSSL digest");
  return ctx;
}

Result<std::string> finish_digest(EVP_MD_CTX* ctx) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx, digest, &n) != 1) return error("OpenSSL digest failed");
  return to_hex(digest, n);
}

// The digest of `prefix` followed by the file's bytes, streamed in 1 MiB reads.
Result<std::string> digest_file(const std::string& path, const EVP_MD* md, const std::string& prefix) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return error(path + ": cannot open for hashing: " + std::strerror(errno));
  ARB_ASSIGN(DigestContext ctx, start_digest(md));
  if (EVP_DigestUpdate(ctx.get(), prefix.data(), prefix.size()) != 1) return error(path + ": digest update failed");
  std::vector<unsigned char> buffer(size_t(1) << 20);
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0)
    if (EVP_DigestUpdate(ctx.get(), buffer.data(), n) != 1) return error(path + ": digest update failed");
  if (std::ferror(file.get())) return error(path + ": read error while hashing");
  return finish_digest(ctx.get());
}

bool is_hex_of_length(std::string_view text, size_t length) {
  if (text.size() != length) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  auto ctx = start_digest(EVP_sha256());
  if (!ctx.is_ok()) return {};
  if (EVP_DigestUpdate(ctx->get(), data.data(), data.size()) != 1) return {};
  auto hex = finish_digest(ctx->get());
  return hex.is_ok() ? hex.value() : std::string();
}

Result<std::string> sha256_file(const std::string& path) { return digest_file(path, EVP_sha256(), ""); }

Result<std::string> git_blob_id_file(const std::string& path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return error(path + ": cannot read its size: " + ec.message());
  // git names a blob by the SHA-1 of "blob <decimal size>\0" followed by its bytes.
  return digest_file(path, EVP_sha1(), "blob " + std::to_string(size) + std::string(1, '\0'));
}

bool is_sha256_hex(std::string_view text) { return is_hex_of_length(text, 64); }

bool is_git_blob_id(std::string_view text) { return is_hex_of_length(text, 40); }

}  // namespace arbiter::fetch
