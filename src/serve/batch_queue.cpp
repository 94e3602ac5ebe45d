#include "serve/batch_queue.h"

#include <algorithm>

#include "runtime/batcher.h"
#include "runtime/shared_prefix.h"

namespace arbiter::serve {

RunBatch BatchQueue::forward_with(Backend& backend, ForwardOptions options) {
  return [&backend, options = std::move(options)](const std::vector<SequenceInput>& inputs) {
    return backend.forward(inputs, options);
  };
}

BatchQueue::BatchQueue(Backend& backend, RunBatch run, int64_t max_batch_tokens, int64_t max_queue,
                       std::function<void(const BatchStats&)> on_batch)
    : backend_(backend),
      run_(std::move(run)),
      max_batch_tokens_(max_batch_tokens),
      max_queue_(max_queue),
      on_batch_(std::move(on_batch)) {
  worker_ = std::thread([this] { worker_loop(); });
}

BatchQueue::~BatchQueue() {
  stop();
  if (worker_.joinable()) worker_.join();
}

void BatchQueue::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  stopping_ = true;
  admitting_ = false;
  ready_.notify_all();
  room_.notify_all();
}

void BatchQueue::close_admission() {
  std::lock_guard<std::mutex> lock(mutex_);
  admitting_ = false;
  room_.notify_all();
}

int64_t BatchQueue::queued_sequences() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queued_sequences_;
}

size_t BatchQueue::waiting_submitters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return waiting_.size();
}

SubmitError BatchQueue::submit(const std::shared_ptr<Ticket>& ticket, std::chrono::steady_clock::time_point admit_until,
                               const std::function<bool()>& client_gone) {
  const int64_t n = int64_t(ticket->sequences.size());
  if (n > max_queue_) return SubmitError::kTooLarge;
  std::unique_lock<std::mutex> lock(mutex_);
  if (!admitting_) return SubmitError::kStopping;
  if (!waiting_.empty() || queued_sequences_ + n > max_queue_) {
    // Wait in line: entered when first in line and there is room.
    const uint64_t me = next_waiter_++;
    waiting_.push_back(me);
    auto leave_line = [&] {
      waiting_.erase(std::find(waiting_.begin(), waiting_.end(), me));
      room_.notify_all();  // the one behind may now be first
    };
    for (;;) {
      if (!admitting_) {
        leave_line();
        return SubmitError::kStopping;
      }
      if (waiting_.front() == me && queued_sequences_ + n <= max_queue_) break;
      const auto now = std::chrono::steady_clock::now();
      if (now >= admit_until) {
        leave_line();
        return SubmitError::kQueueFull;
      }
      room_.wait_until(lock, std::min(admit_until, now + std::chrono::milliseconds(100)));
      if (client_gone) {
        lock.unlock();
        const bool gone = client_gone();
        lock.lock();
        if (gone) {
          leave_line();
          return SubmitError::kGone;
        }
      }
    }
    leave_line();
  }
  ticket->outputs.resize(ticket->sequences.size());
  queue_.push_back(ticket);
  queued_sequences_ += n;
  ready_.notify_one();
  return SubmitError::kNone;
}

bool BatchQueue::wait(Ticket& ticket, std::future<Status>& done, std::chrono::steady_clock::time_point deadline) {
  if (done.wait_until(deadline) == std::future_status::ready) return true;
  abandon(ticket);
  return false;
}

void BatchQueue::abandon(Ticket& ticket) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (ticket.abandoned) return;
  ticket.abandoned = true;
  // Its sequences not yet handed to a forward pass leave the count now, not when the worker reaches the
  // ticket: a full queue of abandoned work must not refuse live requests.
  queued_sequences_ -= int64_t(ticket.sequences.size() - ticket.next);
  // Not started at all: out of the queue now, so what it holds is freed with the handler's reference
  // (requests abandoned during a long forward pass must not pile up past --max-queue in memory).
  if (ticket.next == 0)
    for (auto it = queue_.begin(); it != queue_.end(); ++it)
      if (it->get() == &ticket) {
        queue_.erase(it);
        break;
      }
  ticket.next = ticket.sequences.size();
  room_.notify_all();
}

std::vector<std::pair<std::shared_ptr<Ticket>, size_t>> BatchQueue::take_batch(std::unique_lock<std::mutex>&) {
  std::vector<std::pair<std::shared_ptr<Ticket>, size_t>> batch;
  // A backend that computes shared prefixes once is charged what each sequence adds after the one
  // before it (a trainer's samples of one prompt arrive together) or after what it keeps from earlier
  // batches (the prompt of samples sent before), within a bound on the full length.
  const bool sharing = backend_.shares_prefixes();
  const int64_t min_shared = SharedPrefixOptions{}.min_tokens;
  const std::vector<int32_t>* previous = nullptr;
  int64_t tokens = 0, full = 0;
  while (!queue_.empty()) {
    std::shared_ptr<Ticket>& front = queue_.front();
    if (front->abandoned) {  // its handler has answered already (and gave back its room): drop it
      queue_.pop_front();
      continue;
    }
    const std::vector<int32_t>& sequence = front->sequences[front->next].tokens;
    const int64_t length = int64_t(sequence.size());
    const int64_t cost =
        sharing ? std::min(tokens_after_shared_prefix(previous, sequence, min_shared),
                           length - backend_.kept_prefix_tokens(front->sequences[front->next]))
                : length;
    if (!batch.empty() && (tokens + cost > max_batch_tokens_ ||
                           full + length > (sharing ? kSharedBatchLengthFactor : 1) * max_batch_tokens_))
      break;
    batch.emplace_back(front, front->next);
    tokens += cost;
    full += length;
    previous = &sequence;
    --queued_sequences_;
    if (++front->next == front->sequences.size()) queue_.pop_front();
  }
  if (!batch.empty()) room_.notify_all();
  return batch;
}

void BatchQueue::run_batch(std::vector<std::pair<std::shared_ptr<Ticket>, size_t>>& batch) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<SequenceInput> inputs;
  int64_t tokens = 0;
  for (const auto& [ticket, index] : batch) {
    inputs.push_back(ticket->sequences[index]);
    tokens += int64_t(ticket->sequences[index].tokens.size());
  }
  const int64_t computed_before = backend_.tokens_computed();
  auto outputs = run_(inputs);
  std::vector<Status> failures(batch.size());
  if (outputs) {
    for (size_t i = 0; i < batch.size(); ++i) batch[i].first->outputs[batch[i].second] = std::move((*outputs)[i]);
  } else {
    // One bad sequence must not fail its neighbours: run each alone to find whose it was.
    for (size_t i = 0; i < batch.size(); ++i) {
      auto single = run_({inputs[i]});
      if (single) batch[i].first->outputs[batch[i].second] = std::move((*single)[0]);
      else failures[i] = single.status();
    }
  }
  if (on_batch_) {
    // A backend that does not count what it computes computes every token.
    const int64_t computed = backend_.shares_prefixes() ? backend_.tokens_computed() - computed_before : tokens;
    int64_t generated = 0;
    for (const auto& [ticket, index] : batch) generated += int64_t(ticket->outputs[index].generated.size());
    on_batch_(BatchStats{int64_t(batch.size()), tokens, computed, int64_t(backend_.kept_prefix_bytes()), generated,
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()});
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    Ticket& ticket = *batch[i].first;
    if (ticket.done == ticket.sequences.size()) continue;  // already completed by an earlier failure
    if (!failures[i].is_ok()) {
      ticket.done = ticket.sequences.size();
      ticket.completion.set_value(failures[i]);
      continue;
    }
    if (++ticket.done == ticket.sequences.size()) ticket.completion.set_value(Status::ok());
  }
}

void BatchQueue::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    auto batch = take_batch(lock);
    if (batch.empty()) continue;
    lock.unlock();
    run_batch(batch);
    lock.lock();
  }
}

}  // namespace arbiter::serve
