#include "core/temp_cleanup.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>

namespace arbiter {

namespace {

constexpr size_t kSlots = 64;
constexpr size_t kPathBytes = 4096;

// The handler may run at any moment in any thread: it reads only slots marked in use, whose bytes are
// written before the mark is set (release) and cleared only after it is unset.
struct Slot {
  std::atomic<bool> used{false};
  char path[kPathBytes] = {};
};
Slot g_slots[kSlots];
std::mutex g_mutex;  // registration only, never taken by the handler

void remove_and_reraise(int signal) {
  for (Slot& slot : g_slots)
    if (slot.used.load(std::memory_order_acquire)) ::unlink(slot.path);
  ::signal(signal, SIG_DFL);
  ::raise(signal);
}

void install_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const int signal : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction current {};
      // A signal someone else handles (or ignores) is left to them.
      if (::sigaction(signal, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) continue;
      struct sigaction action {};
      action.sa_handler = remove_and_reraise;
      sigemptyset(&action.sa_mask);
      ::sigaction(signal, &action, nullptr);
    }
  });
}

}  // namespace

void register_temp_file(const std::string& path) {
  if (path.size() >= kPathBytes) return;
  install_once();
  std::lock_guard<std::mutex> lock(g_mutex);
  Slot* free_slot = nullptr;
  for (Slot& slot : g_slots)
    if (!slot.used.load(std::memory_order_relaxed)) {
      free_slot = &slot;
      break;
    }
  // All in use: one whose file is gone (renamed into place, or removed) is free again.
  for (size_t i = 0; free_slot == nullptr && i < kSlots; ++i)
    if (::access(g_slots[i].path, F_OK) != 0) {
      g_slots[i].used.store(false, std::memory_order_release);
      free_slot = &g_slots[i];
    }
  if (free_slot == nullptr) return;
  std::memcpy(free_slot->path, path.c_str(), path.size() + 1);
  free_slot->used.store(true, std::memory_order_release);
}

}  // namespace arbiter
