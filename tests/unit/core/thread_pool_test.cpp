// The thread pool's hand-offs: every job reaches every thread exactly once, whether the threads are
// still watching for the next job (back-to-back jobs, as in a forward pass) or have gone to sleep
// (jobs spaced further apart than the watching lasts), and parallel_for covers its range once.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "core/thread_pool.h"

namespace arbiter {
namespace {

void expect_every_thread_runs_every_job(ThreadPool& pool, int jobs, std::chrono::microseconds gap) {
  std::vector<std::atomic<int>> runs(size_t(pool.size()));
  for (int j = 0; j < jobs; ++j) {
    std::atomic<int> this_job{0};
    pool.run_on_all([&](int thread) {
      runs[size_t(thread)].fetch_add(1);
      this_job.fetch_add(1);
    });
    // run_on_all returns only once every thread has run the job.
    ASSERT_EQ(this_job.load(), pool.size()) << "job " << j;
    if (gap.count() > 0) std::this_thread::sleep_for(gap);
  }
  for (int t = 0; t < pool.size(); ++t) EXPECT_EQ(runs[size_t(t)].load(), jobs) << "thread " << t;
}

TEST(ThreadPool, BackToBackJobsReachEveryThreadOnce) {
  for (int threads : {2, 4}) {
    ThreadPool pool(threads);
    const auto start = std::chrono::steady_clock::now();
    expect_every_thread_runs_every_job(pool, 5000, std::chrono::microseconds(0));
    std::printf("[pool] %d threads: %.1f us per job\n", threads,
                std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / 5000);
  }
}

TEST(ThreadPool, JobsAfterTheThreadsSleptReachEveryThreadOnce) {
  ThreadPool pool(3);
  expect_every_thread_runs_every_job(pool, 50, std::chrono::microseconds(2000));
}

TEST(ThreadPool, ParallelForCoversTheRangeOnce) {
  ThreadPool pool(4);
  for (size_t n : {size_t(0), size_t(1), size_t(3), size_t(17), size_t(1000)}) {
    for (size_t grain : {size_t(1), size_t(4), size_t(64)}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, grain, [&](int, size_t begin, size_t end) {
        for (size_t i = begin; i < end; ++i) hits[i].fetch_add(1);
      });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " grain=" << grain << " i=" << i;
    }
  }
}

TEST(ThreadPool, DestroyedWhileThreadsWatchOrSleep) {
  for (int round = 0; round < 20; ++round) {
    ThreadPool pool(4);
    std::atomic<int> runs{0};
    pool.run_on_all([&](int) { runs.fetch_add(1); });
    if (round % 2 == 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(runs.load(), 4);
  }  // the destructor must wake and join every thread, watching or asleep
}

}  // namespace
}  // namespace arbiter
