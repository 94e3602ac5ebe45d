// A fixed pool of worker threads for data-parallel loops. parallel_for splits [0, n) into contiguous
// chunks, one per thread, so work assignment is deterministic for a given thread count.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace arbiter {

// The cores this process may use: its CPU affinity (taskset, a container's cpuset) and CPU quota
// (cgroup v2 cpu.max), not every core of the machine. At least 1.
int usable_cores();

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);  // <= 0: hardware concurrency
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return num_threads_; }

  // Calls fn(thread_index, begin, end) on every thread with its share of [0, n), in chunks that are
  // multiples of `grain` (except the last). Returns when all are done. Not reentrant.
  void parallel_for(size_t n, size_t grain, const std::function<void(int, size_t, size_t)>& fn);

  // Calls fn(thread_index) once on every thread.
  void run_on_all(const std::function<void(int)>& fn);

 private:
  void worker_loop(int index);

  int num_threads_;
  int spins_before_sleep_ = 0;  // how long a finished thread watches for the next job (thread_pool.cpp)
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(int)>* job_ = nullptr;
  std::atomic<size_t> generation_{0};  // written under mutex_, also watched without it
  std::atomic<int> pending_{0};
  bool stopping_ = false;
};

// The process-wide pool used by the kernels; sized by set_num_threads (default: all cores).
ThreadPool& global_thread_pool();
void set_num_threads(int num_threads);

}  // namespace arbiter
