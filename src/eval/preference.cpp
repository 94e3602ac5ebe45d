#include "eval/preference.h"

#include <cmath>
#include <limits>
#include <map>

namespace arbiter::eval {

PreferenceReport score_preferences(const std::vector<PreferencePair>& pairs) {
  PreferenceReport report;
  std::map<int, StrengthAccuracy> by_strength;
  for (const PreferencePair& p : pairs) {
    if (p.strength == 0.0) {
      ++report.ties;
      continue;
    }
    // Equal scores rank neither response above the other: wrong, as RewardBench counts them.
    const bool right = p.strength < 0 ? p.score_1 > p.score_2 : p.score_2 > p.score_1;
    const int magnitude = int(std::lround(std::fabs(p.strength)));
    StrengthAccuracy& s = by_strength[magnitude];
    s.strength = magnitude;
    ++s.n;
    ++report.pairs;
    if (right) {
      ++s.correct;
      ++report.correct;
    }
  }
  report.accuracy = report.pairs ? double(report.correct) / double(report.pairs) : std::numeric_limits<double>::quiet_NaN();
  for (auto& [magnitude, s] : by_strength) {
    s.accuracy = double(s.correct) / double(s.n);
    report.by_strength.push_back(s);
  }
  return report;
}

}  // namespace arbiter::eval
