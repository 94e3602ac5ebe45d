#include "serve/auth.h"

#include <cctype>

namespace arbiter::serve {

bool bearer_token_matches(const std::string& authorization, const std::string& key) {
  static const std::string kScheme = "bearer";
  if (key.empty() || authorization.size() <= kScheme.size()) return false;
  // The scheme's name is case-insensitive (RFC 9110 section 11.1), and one or more spaces follow it
  // (11.4's 1*SP); the key is compared exactly.
  for (size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return false;
  size_t at = kScheme.size();
  if (authorization[at] != ' ') return false;
  while (at < authorization.size() && authorization[at] == ' ') ++at;
  if (authorization.size() - at != key.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < key.size(); ++i) diff |= static_cast<unsigned char>(authorization[at + i] ^ key[i]);
  return diff == 0;
}

}  // namespace arbiter::serve
