// arbiter's version, as --version prints it, the user agent sends it and run records keep it.
#pragma once

namespace arbiter {

inline constexpr const char* kArbiterVersion = "0.1.0";

// How arbiter turns rows into token ids, as a number that grows whenever a change gives some row other ids
// (2: the plain layout encoded as one text, SentencePiece folders' added tokens and "legacy" flag). Kept
// among a run's settings, so a resume or a join across such a change is refused rather than mixing two
// formattings in one file.
inline constexpr const char* kTextFormattingRevision = "2";
inline constexpr const char* kTextFormattingSetting = "text formatting revision";

}  // namespace arbiter
