#include "serve/auth.h"

namespace arbiter::serve {

bool bearer_token_matches(const std::string& authorization, const std::string& key) {
  static const std::string kScheme = "Bearer ";
  if (key.empty() || authorization.size() != kScheme.size() + key.size()) return false;
  if (authorization.compare(0, kScheme.size(), kScheme) != 0) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < key.size(); ++i) diff |= static_cast<unsigned char>(authorization[kScheme.size() + i] ^ key[i]);
  return diff == 0;
}

}  // namespace arbiter::serve
