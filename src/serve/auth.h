// Optional bearer-token authentication.
#pragma once

#include <string>

namespace arbiter::serve {

// Whether an Authorization header value is "Bearer <key>" with exactly `key`. The comparison takes the
// same time wherever the first difference is, so the key cannot be guessed byte by byte from timings.
bool bearer_token_matches(const std::string& authorization, const std::string& key);

}  // namespace arbiter::serve
