#include "serve/auth.h"

#include <cctype>

namespace arbiter::serve {

bool bearer_token_matches(const std::string& authorization, const std::string& key) {
  static const std::string kScheme = "bearer ";
  if (key.empty() || authorization.size() != kScheme.size() + key.size()) return false;
  // The scheme's name is case-insensitive (RFC 9110 section 11.1); the key is not.
  for (size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < key.size(); ++i) diff |= static_cast<unsigned char>(authorization[kScheme.size() + i] ^ key[i]);
  return diff == 0;
}

}  // namespace arbiter::serve
