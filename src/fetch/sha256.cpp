#include "fetch/sha256.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
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

Result<DigestContext> start_digest() {
  DigestContext ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return error("sha256: cannot initialise OpenSSL digest");
  return ctx;
}

Result<std::string> finish_digest(EVP_MD_CTX* ctx) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx, digest, &n) != 1) return error("sha256: OpenSSL digest failed");
  return to_hex(digest, n);
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  auto ctx = start_digest();
  if (!ctx.is_ok()) return {};
  if (EVP_DigestUpdate(ctx->get(), data.data(), data.size()) != 1) return {};
  auto hex = finish_digest(ctx->get());
  return hex.is_ok() ? hex.value() : std::string();
}

Result<std::string> sha256_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return error(path + ": cannot open for hashing: " + std::strerror(errno));
  ARB_ASSIGN(DigestContext ctx, start_digest());
  std::vector<unsigned char> buffer(size_t(1) << 20);
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0)
    if (EVP_DigestUpdate(ctx.get(), buffer.data(), n) != 1) return error(path + ": sha256 update failed");
  if (std::ferror(file.get())) return error(path + ": read error while hashing");
  return finish_digest(ctx.get());
}

bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

}  // namespace arbiter::fetch
