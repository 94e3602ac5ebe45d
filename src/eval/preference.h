// Pairwise preference accuracy against graded human preferences (HelpSteer2-Preference, HelpSteer3):
// a pair is right when the response people preferred scores strictly higher. Ties (strength 0) say
// nothing about which is better and are left out, as the papers' Bradley-Terry training leaves them out.
#pragma once

#include <cstddef>
#include <vector>

namespace arbiter::eval {

struct PreferencePair {
  double score_1 = 0.0, score_2 = 0.0;  // the model's scores of response 1 and response 2
  double strength = 0.0;                // negative prefers response 1, positive response 2 (-3..3)
};

struct StrengthAccuracy {
  int strength = 0;  // |strength|, rounded
  size_t n = 0, correct = 0;
  double accuracy = 0.0;
};

struct PreferenceReport {
  size_t pairs = 0, correct = 0, ties = 0;  // ties: left out
  double accuracy = 0.0;                    // NaN with no pairs
  std::vector<StrengthAccuracy> by_strength;  // ascending |strength|
};

PreferenceReport score_preferences(const std::vector<PreferencePair>& pairs);

}  // namespace arbiter::eval
