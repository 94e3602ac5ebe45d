// The numbers of the progress line: a resumed run's rate and ETA are those of its own work.
#include "core/progress.h"

#include <gtest/gtest.h>

#include <string>

namespace arbiter {
namespace {

TEST(Progress, RateAndEtaCountOnlyThisRunsWork) {
  // 100 of 200 rows done, 80 of them found in the file before the run: 20 rows in 2 s is 10 rows/s, and
  // the 100 left take 10 s.
  ProgressCounts counts{100, 80, 500, 200, 2.0};
  EXPECT_EQ(progress_stats(counts, "rows", false),
            "100/200 rows | 10.0 rows/s | 250 tok/s | 00:02 elapsed | ETA 00:10");
  counts.skipped = 0;  // the same rows all computed by this run: 50 rows/s, 2 s left
  EXPECT_EQ(progress_stats(counts, "rows", false),
            "100/200 rows | 50.0 rows/s | 250 tok/s | 00:02 elapsed | ETA 00:02");
  // All done before the run: no rate, so no ETA; and the final line has none.
  EXPECT_EQ(progress_stats(ProgressCounts{200, 200, 0, 200, 1.0}, "rows", false),
            "200/200 rows | 0.0 rows/s | 0 tok/s | 00:01 elapsed | ETA --:--");
  EXPECT_EQ(progress_stats(ProgressCounts{200, 0, 0, 200, 4.0}, "rows", true), "200/200 rows | 50.0 rows/s | 0 tok/s | 00:04 elapsed");
}

TEST(Progress, BytesReadAsBinaryAmounts) {
  // A resumed download: 3 MiB were there, 1 MiB came in 2 s.
  ProgressCounts counts{4 << 20, 3 << 20, 0, 8 << 20, 2.0};
  EXPECT_EQ(progress_stats(counts, "bytes", false), "4.0 MiB / 8.0 MiB | 512.0 KiB/s | 00:02 elapsed | ETA 00:08");
  counts.total = 0;  // no length announced
  EXPECT_EQ(progress_stats(counts, "bytes", true), "4.0 MiB | 512.0 KiB/s | 00:02 elapsed");
}

}  // namespace
}  // namespace arbiter
