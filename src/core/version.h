// arbiter's version, as --version prints it, the user agent sends it and run records keep it.
#pragma once

namespace arbiter {

inline constexpr const char* kArbiterVersion = "0.1.0";

}  // namespace arbiter
