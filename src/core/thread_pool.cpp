#include "core/thread_pool.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <system_error>

#include "core/log.h"

namespace arbiter {

namespace {

// A forward pass hands the pool hundreds of short jobs in a row (every matmul, norm and attention of
// every layer): waking a sleeping thread costs a futex call and a trip through the scheduler each time.
// So a thread that has just finished, or a caller waiting for the others, first watches the shared
// counter for about this many pause instructions (tens of microseconds) before it sleeps. Only when
// the pool has no more threads than the machine has hardware threads: with more, a watching thread
// holds the core the thread it waits for needs (measured on 2 cores, back-to-back empty jobs: 2 threads
// 24.5 -> 1.2 us per job with watching, but 4 threads 42 -> 205 us).
constexpr int kSpinsBeforeSleep = 4096;

inline void cpu_pause() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

int usable_cores() {
  // The cores this process may run on (taskset, a container's cpuset), not all the machine has; a CPU
  // quota (cgroup cpu.max) caps them further.
  int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) cores = std::min(cores, CPU_COUNT(&set));
  if (std::FILE* f = std::fopen("/sys/fs/cgroup/cpu.max", "r")) {
    char quota[32] = {};
    long long period = 0;
    if (std::fscanf(f, "%31s %lld", quota, &period) == 2 && std::strcmp(quota, "max") != 0 && period > 0) {
      const long long allowed = (std::atoll(quota) + period - 1) / period;
      if (allowed > 0) cores = std::min<long long>(cores, allowed);
    }
    std::fclose(f);
  }
  return std::max(1, cores);
}

ThreadPool::ThreadPool(int num_threads) {
  const int hardware = usable_cores();
  num_threads_ = num_threads > 0 ? num_threads : hardware;
  spins_before_sleep_ = num_threads_ <= hardware ? kSpinsBeforeSleep : 0;
  // Workers take no termination signals: they go to a thread that waits for them (serve's sigwait, which
  // finishes the requests in flight) or to the main thread, never to a worker mid-job, whenever the pool
  // was made. A thread inherits its creator's mask, so the mask is set around their creation.
  sigset_t termination, previous;
  sigemptyset(&termination);
  for (const int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&termination, signal);
  pthread_sigmask(SIG_BLOCK, &termination, &previous);
  // Thread 0 is the caller; workers are 1..n-1. A system that refuses more threads (a process limit)
  // gets a pool of those it gave.
  for (int i = 1; i < num_threads_; ++i) {
    try {
      workers_.emplace_back([this, i] { worker_loop(i); });
    } catch (const std::system_error& e) {
      log_warn("only " + std::to_string(i) + " of " + std::to_string(num_threads_) + " threads could be started (" +
               e.what() + "): running with " + std::to_string(i));
      num_threads_ = i;
      break;
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop(int index) {
  size_t seen_generation = 0;
  for (;;) {
    for (int i = 0; i < spins_before_sleep_ && generation_.load(std::memory_order_acquire) == seen_generation; ++i)
      cpu_pause();
    const std::function<void(int)>* job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_cv_.wait(lock, [&] { return stopping_ || generation_.load() != seen_generation; });
      if (stopping_) return;
      seen_generation = generation_.load();
      job = job_;
    }
    (*job)(index);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);  // the caller checks pending_ under this lock before it sleeps
      done_cv_.notify_one();
    }
  }
}

void ThreadPool::run_on_all(const std::function<void(int)>& fn) {
  if (num_threads_ == 1) {
    fn(0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    pending_.store(num_threads_ - 1);
    generation_.fetch_add(1, std::memory_order_release);
  }
  start_cv_.notify_all();
  fn(0);
  for (int i = 0; i < spins_before_sleep_ && pending_.load(std::memory_order_acquire) != 0; ++i) cpu_pause();
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait(lock, [&] { return pending_.load() == 0; });
  job_ = nullptr;
}

void ThreadPool::parallel_for(size_t n, size_t grain, const std::function<void(int, size_t, size_t)>& fn) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  const size_t chunks = (n + grain - 1) / grain;
  const size_t threads = std::min<size_t>(num_threads_, chunks);
  if (threads <= 1) {
    fn(0, 0, n);
    return;
  }
  run_on_all([&](int t) {
    if (size_t(t) >= threads) return;
    const size_t first_chunk = chunks * t / threads;
    const size_t last_chunk = chunks * (t + 1) / threads;
    const size_t begin = first_chunk * grain;
    const size_t end = std::min(n, last_chunk * grain);
    if (begin < end) fn(t, begin, end);
  });
}

namespace {
std::unique_ptr<ThreadPool>& pool_slot() {
  static std::unique_ptr<ThreadPool> pool;
  return pool;
}
}  // namespace

ThreadPool& global_thread_pool() {
  auto& pool = pool_slot();
  if (!pool) pool = std::make_unique<ThreadPool>(0);
  return *pool;
}

void set_num_threads(int num_threads) {
  auto& pool = pool_slot();
  if (pool && pool->size() == num_threads) return;
  pool = std::make_unique<ThreadPool>(num_threads);
}

}  // namespace arbiter
