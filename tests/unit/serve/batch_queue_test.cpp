// The batching queue with a backend that records its calls and can be held: batches follow the token
// budget, the queue refuses work past its bound, a bad sequence fails only its own request, and a
// request that times out is dropped before it runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "serve/batch_queue.h"
#include "serve/metrics.h"

namespace arbiter::serve {
namespace {

class FakeBackend final : public Backend {
 public:
  explicit FakeBackend(bool shares_prefixes = false, int64_t kept_tokens = 0)
      : shares_prefixes_(shares_prefixes), kept_tokens_(kept_tokens) {}
  std::string name() const override { return "fake"; }
  bool shares_prefixes() const override { return shares_prefixes_; }
  // As if an earlier call had kept the first `kept_tokens` tokens of every sequence.
  int64_t kept_prefix_tokens(const SequenceInput& s) const override {
    return std::min<int64_t>(kept_tokens_, int64_t(s.tokens.size()) - 1);
  }
  const Model& model() const override { return model_; }
  // Each output's scores hold the sequence's first token and its length; token 999 is "invalid".
  Result<std::vector<SequenceOutput>> forward(const std::vector<SequenceInput>& sequences, const ForwardOptions&) override {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ++entered_;
      entered_cv_.notify_all();
      release_cv_.wait(lock, [this] { return !held_; });
      batch_sizes_.push_back(sequences.size());
    }
    std::vector<SequenceOutput> out;
    for (const SequenceInput& s : sequences) {
      for (int32_t t : s.tokens)
        if (t == 999) return error("token 999 is out of range");
      SequenceOutput o;
      o.scores = {float(s.tokens[0]), float(s.tokens.size())};
      out.push_back(o);
    }
    return out;
  }
  void hold() { std::lock_guard<std::mutex> l(mutex_); held_ = true; }
  void release() { std::lock_guard<std::mutex> l(mutex_); held_ = false; release_cv_.notify_all(); }
  void wait_entered(int n) {
    std::unique_lock<std::mutex> lock(mutex_);
    entered_cv_.wait(lock, [&] { return entered_ >= n; });
  }
  std::vector<size_t> batch_sizes() { std::lock_guard<std::mutex> l(mutex_); return batch_sizes_; }

 private:
  Model model_;
  const bool shares_prefixes_;
  const int64_t kept_tokens_;
  std::mutex mutex_;
  std::condition_variable entered_cv_, release_cv_;
  bool held_ = false;
  int entered_ = 0;
  std::vector<size_t> batch_sizes_;
};

std::shared_ptr<Ticket> ticket_of(std::vector<std::vector<int32_t>> sequences) {
  auto t = std::make_shared<Ticket>();
  for (auto& s : sequences) t->sequences.push_back(SequenceInput{std::move(s), {}});
  return t;
}

TEST(BatchQueue, BatchesConcurrentRequestsByTokenBudgetInOrder) {
  FakeBackend backend;
  backend.hold();
  BatchQueue queue(backend, BatchQueue::forward_with(backend, {}), /*max_batch_tokens=*/8, /*max_queue=*/100);
  auto blocker = ticket_of({{1}});
  auto f0 = blocker->completion.get_future();
  ASSERT_EQ(queue.submit(blocker), SubmitError::kNone);
  backend.wait_entered(1);  // the worker is inside forward: the next submissions queue up together
  auto a = ticket_of({{10, 0, 0}, {11, 0, 0}});  // 3 + 3 tokens
  auto b = ticket_of({{20, 0, 0, 0}});            // 4 tokens: does not fit beside a's 6
  auto fa = a->completion.get_future();
  auto fb = b->completion.get_future();
  ASSERT_EQ(queue.submit(a), SubmitError::kNone);
  ASSERT_EQ(queue.submit(b), SubmitError::kNone);
  EXPECT_EQ(queue.queued_sequences(), 3);
  backend.release();
  EXPECT_TRUE(fa.get().is_ok());
  EXPECT_TRUE(fb.get().is_ok());
  EXPECT_TRUE(f0.get().is_ok());
  EXPECT_EQ(backend.batch_sizes(), (std::vector<size_t>{1, 2, 1}));
  ASSERT_EQ(a->outputs.size(), 2u);
  EXPECT_EQ(a->outputs[0].scores[0], 10.0f);
  EXPECT_EQ(a->outputs[1].scores[0], 11.0f);
  EXPECT_EQ(b->outputs[0].scores[1], 4.0f);
  EXPECT_EQ(queue.queued_sequences(), 0);
}

// `n` samples of one 100-token prompt, 120 tokens each.
std::vector<std::vector<int32_t>> samples_of_one_prompt(int n) {
  std::vector<std::vector<int32_t>> samples;
  for (int i = 0; i < n; ++i) {
    std::vector<int32_t> s(100, 5);
    for (int k = 0; k < 20; ++k) s.push_back(100 + 20 * i + k);
    samples.push_back(s);
  }
  return samples;
}

// The sizes of the batches `backend` ran for one request of `sequences`, under a budget of `budget` tokens.
std::vector<size_t> batches_for_one_request(FakeBackend& backend, int64_t budget,
                                            std::vector<std::vector<int32_t>> sequences) {
  {
    BatchQueue queue(backend, BatchQueue::forward_with(backend, {}), budget, /*max_queue=*/100);
    backend.hold();
    auto t = ticket_of(std::move(sequences));
    auto done = t->completion.get_future();
    EXPECT_EQ(queue.submit(t), SubmitError::kNone);
    backend.release();
    EXPECT_TRUE(done.get().is_ok());
  }
  return backend.batch_sizes();
}

// A backend that computes shared prefixes once is charged what each sequence adds after the one before
// it: four samples of one 100-token prompt (120 tokens each) fit a budget of 200 together.
TEST(BatchQueue, SamplesOfOnePromptShareABatchWhenTheBackendSharesPrefixes) {
  for (const bool sharing : {false, true}) {
    FakeBackend backend(sharing);
    const std::vector<size_t> expected = sharing ? std::vector<size_t>{4} : std::vector<size_t>{1, 1, 1, 1};
    EXPECT_EQ(batches_for_one_request(backend, 200, samples_of_one_prompt(4)), expected)
        << (sharing ? "sharing" : "not sharing");
  }
}

// What the backend keeps from earlier batches is not charged either: three samples of a kept 100-token
// prompt (120 tokens each) cost 20 each, so two fit a budget of 60 where alone each would fill it; the
// bound on the full length (four budgets, 240 tokens) keeps the third for the next batch.
TEST(BatchQueue, WhatTheBackendKeepsIsNotCharged) {
  // Each sample starts with a token of its own, so within the batch they share nothing: only what the
  // backend keeps can lower their cost.
  std::vector<std::vector<int32_t>> samples = samples_of_one_prompt(3);
  for (int i = 0; i < 3; ++i) samples[size_t(i)][0] = 50 + i;
  for (const int64_t kept : {int64_t(0), int64_t(100)}) {
    FakeBackend backend(/*shares_prefixes=*/true, kept);
    const std::vector<size_t> expected = kept > 0 ? std::vector<size_t>{2, 1} : std::vector<size_t>{1, 1, 1};
    EXPECT_EQ(batches_for_one_request(backend, 60, samples), expected) << "kept " << kept;
  }
}

TEST(BatchQueue, RefusesWorkPastItsBound) {
  FakeBackend backend;
  backend.hold();
  BatchQueue queue(backend, BatchQueue::forward_with(backend, {}), 64, /*max_queue=*/3);
  auto running = ticket_of({{1}});
  ASSERT_EQ(queue.submit(running), SubmitError::kNone);
  backend.wait_entered(1);
  EXPECT_EQ(queue.submit(ticket_of({{1}, {2}, {3}, {4}})), SubmitError::kTooLarge);
  auto waiting = ticket_of({{1}, {2}});
  EXPECT_EQ(queue.submit(waiting), SubmitError::kNone);
  EXPECT_EQ(queue.submit(ticket_of({{1}, {2}})), SubmitError::kQueueFull);
  EXPECT_EQ(queue.submit(ticket_of({{1}})), SubmitError::kNone);
  backend.release();
  queue.stop();
  EXPECT_EQ(queue.submit(ticket_of({{1}})), SubmitError::kStopping);
}

// A request that finds the queue full waits for room until its admission deadline (two trainer workers
// sending batches at once), and is refused only when none came by then.
TEST(BatchQueue, AFullQueueAdmitsAWaitingRequestWhenRoomComes) {
  FakeBackend backend;
  backend.hold();
  BatchQueue queue(backend, BatchQueue::forward_with(backend, {}), 64, /*max_queue=*/2);
  auto running = ticket_of({{1}});
  ASSERT_EQ(queue.submit(running), SubmitError::kNone);
  backend.wait_entered(1);
  auto waiting = ticket_of({{1}, {2}});
  ASSERT_EQ(queue.submit(waiting), SubmitError::kNone);  // the queue is now full
  const auto now = std::chrono::steady_clock::now();
  EXPECT_EQ(queue.submit(ticket_of({{3}}), now + std::chrono::milliseconds(50)), SubmitError::kQueueFull);
  EXPECT_GE(std::chrono::steady_clock::now() - now, std::chrono::milliseconds(50));
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    backend.release();
  });
  auto admitted = ticket_of({{4}, {5}});
  auto done = admitted->completion.get_future();
  EXPECT_EQ(queue.submit(admitted, std::chrono::steady_clock::now() + std::chrono::seconds(30)), SubmitError::kNone);
  release.join();
  EXPECT_TRUE(queue.wait(*admitted, done, std::chrono::steady_clock::now() + std::chrono::seconds(30)));
  EXPECT_TRUE(done.get().is_ok());
  queue.stop();
}

// Requests waiting for room enter in arrival order: a small one does not pass a large one that came
// first, even where there is room for it. A waiter whose client leaves, or a shutdown, ends its wait at once.
TEST(BatchQueue, WaitersEnterInArrivalOrderAndLeaveWhenTheirClientDoes) {
  using std::chrono::milliseconds;
  using std::chrono::steady_clock;
  FakeBackend backend;
  backend.hold();
  BatchQueue queue(backend, BatchQueue::forward_with(backend, {}), 64, /*max_queue=*/2);
  auto running = ticket_of({{1}});
  ASSERT_EQ(queue.submit(running), SubmitError::kNone);
  backend.wait_entered(1);
  ASSERT_EQ(queue.submit(ticket_of({{2}})), SubmitError::kNone);  // one of two places taken
  std::atomic<int> big_result{-1};
  std::thread big([&] {
    big_result = int(queue.submit(ticket_of({{3}, {4}}), steady_clock::now() + std::chrono::seconds(30)));
  });
  // The large request is first in line before the small one comes (however slowly its thread starts).
  for (int waited = 0; queue.waiting_submitters() == 0 && waited < 2000; ++waited) std::this_thread::sleep_for(milliseconds(5));
  EXPECT_EQ(queue.waiting_submitters(), 1u);
  EXPECT_EQ(queue.submit(ticket_of({{5}}), steady_clock::now() + milliseconds(100)), SubmitError::kQueueFull);

  std::atomic<bool> leave{false};
  std::thread leaving([&] {
    std::this_thread::sleep_for(milliseconds(50));
    leave = true;
  });
  const auto asked = steady_clock::now();
  EXPECT_EQ(queue.submit(ticket_of({{6}}), steady_clock::now() + std::chrono::seconds(30), [&] { return leave.load(); }),
            SubmitError::kGone);
  EXPECT_LT(steady_clock::now() - asked, std::chrono::seconds(5));
  leaving.join();

  backend.release();  // the first request and the one place's holder run: the large request enters
  big.join();
  EXPECT_EQ(big_result, int(SubmitError::kNone));

  queue.stop();

  // A shutdown: a request waiting for room is answered at once.
  FakeBackend held;
  held.hold();
  BatchQueue closing(held, BatchQueue::forward_with(held, {}), 64, /*max_queue=*/1);
  ASSERT_EQ(closing.submit(ticket_of({{7}})), SubmitError::kNone);
  held.wait_entered(1);
  ASSERT_EQ(closing.submit(ticket_of({{8}})), SubmitError::kNone);  // the queue is full
  std::atomic<int> stopped_result{-1};
  std::thread stopped([&] { stopped_result = int(closing.submit(ticket_of({{9}}), steady_clock::now() + std::chrono::seconds(30))); });
  std::this_thread::sleep_for(milliseconds(50));
  const auto closed_at = steady_clock::now();
  closing.close_admission();
  stopped.join();
  EXPECT_EQ(stopped_result, int(SubmitError::kStopping));
  EXPECT_LT(steady_clock::now() - closed_at, std::chrono::seconds(5));
  held.release();
  closing.stop();
}

TEST(BatchQueue, ABadSequenceFailsOnlyItsOwnRequest) {
  FakeBackend backend;
  backend.hold();
  BatchQueue queue(backend, BatchQueue::forward_with(backend, {}), 64, 100);
  auto first = ticket_of({{1}});
  ASSERT_EQ(queue.submit(first), SubmitError::kNone);
  backend.wait_entered(1);
  auto good = ticket_of({{5, 5}});
  auto bad = ticket_of({{6, 999}});
  auto fg = good->completion.get_future();
  auto fbad = bad->completion.get_future();
  ASSERT_EQ(queue.submit(good), SubmitError::kNone);
  ASSERT_EQ(queue.submit(bad), SubmitError::kNone);
  backend.release();
  EXPECT_TRUE(fg.get().is_ok());
  Status s = fbad.get();
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("999"), std::string::npos);
  EXPECT_EQ(good->outputs[0].scores[0], 5.0f);
}

TEST(BatchQueue, AnAbandonedRequestIsNotRun) {
  FakeBackend backend;
  backend.hold();
  auto queue_owner = std::make_unique<BatchQueue>(backend, BatchQueue::forward_with(backend, {}), 64, 100);
  BatchQueue& queue = *queue_owner;
  auto first = ticket_of({{1}});
  ASSERT_EQ(queue.submit(first), SubmitError::kNone);
  backend.wait_entered(1);
  auto late = ticket_of({{2}, {3}});
  auto fl = late->completion.get_future();
  ASSERT_EQ(queue.submit(late), SubmitError::kNone);
  EXPECT_EQ(queue.queued_sequences(), 2);
  EXPECT_FALSE(queue.wait(*late, fl, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
  EXPECT_TRUE(late->abandoned);
  // Its room is given back at once, not when the worker reaches it: live requests are not refused for it.
  EXPECT_EQ(queue.queued_sequences(), 0);
  // And the queue lets go of it (none of its sequences had started): its tokens are freed with the handler's.
  EXPECT_EQ(late.use_count(), 1);
  backend.release();
  queue_owner.reset();  // finishes what is queued and joins the worker
  EXPECT_EQ(backend.batch_sizes(), (std::vector<size_t>{1}));
}

TEST(Metrics, RendersPrometheusText) {
  Metrics m;
  m.record_request("/v1/score", 200, 0.02);
  m.record_request("/v1/score", 400, 0.001);
  m.record_error("/v1/score", "invalid_request_error");
  m.record_batch(3, 100, 60, 5, 0.01);
  m.set_kept_prefix_bytes(4096);
  const std::string text = m.render(7);
  EXPECT_NE(text.find("arbiter_requests_total{route=\"/v1/score\",status=\"200\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("arbiter_errors_total{route=\"/v1/score\",type=\"invalid_request_error\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("arbiter_queue_depth 7\n"), std::string::npos);
  EXPECT_NE(text.find("arbiter_tokens_total 100\n"), std::string::npos);
  EXPECT_NE(text.find("arbiter_computed_tokens_total 65\n"), std::string::npos) << text;  // 5 decoding steps
  EXPECT_NE(text.find("arbiter_generated_tokens_total 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("arbiter_kept_prefix_bytes 4096\n"), std::string::npos);
  EXPECT_NE(text.find("arbiter_tokens_per_second 10\n"), std::string::npos);  // 100 tokens over the 10 s window
  EXPECT_NE(text.find("arbiter_batch_sequences_bucket{le=\"2\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("arbiter_batch_sequences_bucket{le=\"4\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("arbiter_request_seconds_bucket{route=\"/v1/score\",le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("arbiter_request_seconds_count{route=\"/v1/score\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE arbiter_request_seconds histogram\n"), std::string::npos);
}

}  // namespace
}  // namespace arbiter::serve
