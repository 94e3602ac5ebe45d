// Dynamic batching across concurrent requests. HTTP handler threads prepare their sequences and submit
// them; ONE worker thread drains the queue in arrival order up to a token budget, runs the batch (the
// service's job: a forward pass, or a judge's generation; the backend allows one call at a time), and
// completes each request when all of its sequences are done. The queue is bounded in sequences, so a flood is refused instead of growing memory.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/status.h"
#include "runtime/backend.h"

namespace arbiter::serve {

// One request's work; shared by the handler that waits and the worker that fills it.
struct Ticket {
  std::vector<SequenceInput> sequences;
  std::vector<SequenceOutput> outputs;  // filled by the worker, same order as sequences
  size_t next = 0;                      // sequences already handed to a forward pass (worker only)
  size_t done = 0;                      // sequences finished (worker only)
  std::atomic<bool> abandoned{false};   // the handler gave up (timeout): skip what is not run yet
  std::promise<Status> completion;
};

// kQueueFull: the queue stayed full until the admission deadline; kGone: the client left while it waited.
enum class SubmitError { kNone, kQueueFull, kTooLarge, kStopping, kGone };

struct BatchStats {
  int64_t sequences = 0, tokens = 0;
  int64_t computed = 0;  // tokens the backend ran through its layers: prefixes shared or kept once
  int64_t kept_bytes = 0;  // keys and values the backend keeps for later batches, after this one
  int64_t generated = 0;   // tokens a generating judge wrote: one decoding step each, beyond `computed`
  double seconds = 0;
};

// Runs one batch of sequences on the backend: outputs in the order of the inputs.
using RunBatch = std::function<Result<std::vector<SequenceOutput>>(const std::vector<SequenceInput>&)>;

class BatchQueue {
 public:
  // A RunBatch that is one forward pass with these options.
  static RunBatch forward_with(Backend& backend, ForwardOptions options);

  // max_queue: sequences waiting at most; max_batch_tokens: tokens per batch, counted before anything is
  // generated (a longer sequence runs alone). on_batch is called by the worker after every batch.
  BatchQueue(Backend& backend, RunBatch run, int64_t max_batch_tokens, int64_t max_queue,
             std::function<void(const BatchStats&)> on_batch = {});
  ~BatchQueue();  // finishes everything queued, then joins the worker
  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  // On kNone the ticket is queued and its completion future will be set. A ticket that finds the queue
  // full waits for room until `admit_until` (two trainer workers sending their batches at once: the second
  // waits for the first rather than being refused), in arrival order with the others waiting (a small
  // request does not pass a large one that came first); kQueueFull once that has passed, kGone when
  // `client_gone` says its client left meanwhile (asked every 100 ms), kStopping once admission closes.
  SubmitError submit(const std::shared_ptr<Ticket>& ticket,
                     std::chrono::steady_clock::time_point admit_until = std::chrono::steady_clock::time_point{},
                     const std::function<bool()>& client_gone = {});
  // Refuses new work (kStopping, also to those waiting for room) while the worker goes on with what is
  // queued: the first step of a shutdown.
  void close_admission();
  // Waits for the ticket until `deadline`; on timeout marks it abandoned, gives back its room in the
  // queue (what was not run yet is never run), and returns false.
  bool wait(Ticket& ticket, std::future<Status>& done, std::chrono::steady_clock::time_point deadline);
  // Gives the ticket up (its client is gone): what was not run yet is never run, its room is free, and a
  // ticket none of whose sequences has started leaves the queue at once (its tokens with it).
  void abandon(Ticket& ticket);

  int64_t queued_sequences() const;
  // Requests waiting for room in a full queue.
  size_t waiting_submitters() const;
  int64_t max_queue() const { return max_queue_; }
  // Refuses new work and lets the worker finish what is queued.
  void stop();

 private:
  void worker_loop();
  // Takes sequences from the front of the queue up to the token budget: (ticket, sequence index) pairs.
  std::vector<std::pair<std::shared_ptr<Ticket>, size_t>> take_batch(std::unique_lock<std::mutex>& lock);
  void run_batch(std::vector<std::pair<std::shared_ptr<Ticket>, size_t>>& batch);

  Backend& backend_;
  const RunBatch run_;
  const int64_t max_batch_tokens_, max_queue_;
  std::function<void(const BatchStats&)> on_batch_;

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::condition_variable room_;  // queued_sequences_ fell, or stopping: submitters waiting for room look again
  std::deque<std::shared_ptr<Ticket>> queue_;
  int64_t queued_sequences_ = 0;  // not yet handed to a forward pass
  bool stopping_ = false;
  bool admitting_ = true;
  // Submitters waiting for room, in arrival order (by their number): only the first may enter.
  std::deque<uint64_t> waiting_;
  uint64_t next_waiter_ = 0;
  std::thread worker_;
};

}  // namespace arbiter::serve
