// Token-budget batching: every sequence in exactly one batch, budgets kept (a longer sequence alone), and
// in content order the sequences that start alike together, counted by what a batch will compute.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "runtime/batcher.h"

namespace arbiter {
namespace {

void expect_partition(const std::vector<std::vector<size_t>>& batches, size_t count) {
  std::multiset<size_t> seen;
  for (const auto& batch : batches) {
    EXPECT_FALSE(batch.empty());
    seen.insert(batch.begin(), batch.end());
  }
  ASSERT_EQ(seen.size(), count);
  for (size_t i = 0; i < count; ++i) EXPECT_EQ(seen.count(i), 1u) << i;
}

TEST(PlanBatches, KeepsTheTokenAndSequenceBudgets) {
  const std::vector<int64_t> lengths = {100, 700, 300, 5000, 250, 250, 90};
  const auto batches = plan_batches(lengths, 1000, 3);
  expect_partition(batches, lengths.size());
  for (const auto& batch : batches) {
    int64_t tokens = 0;
    for (size_t i : batch) tokens += lengths[i];
    EXPECT_TRUE(tokens <= 1000 || batch.size() == 1) << tokens;
    EXPECT_LE(batch.size(), 3u);
  }
  EXPECT_EQ(batches.front(), std::vector<size_t>{3});  // longest first, alone
}

TEST(PlanBatchesByContent, KeepsSequencesThatStartAlikeTogether) {
  std::vector<int32_t> header(100), other(100);
  for (int i = 0; i < 100; ++i) {
    header[size_t(i)] = 7 + i;
    other[size_t(i)] = 300 + i;
  }
  // Interleaved in input order: rows of two prompts, each 100 shared + 50 own tokens.
  std::vector<std::vector<int32_t>> sequences;
  for (int i = 0; i < 6; ++i) {
    std::vector<int32_t> s = i % 2 == 0 ? header : other;
    for (int k = 0; k < 50; ++k) s.push_back(1000 + 10 * i + k);
    sequences.push_back(s);
  }
  std::vector<const std::vector<int32_t>*> views;
  for (const auto& s : sequences) views.push_back(&s);
  // A budget of 300 computed tokens: a prompt's first row costs 150, each sibling 50, so each prompt's
  // three rows (250 computed, 450 in all) fit one batch.
  const auto batches = plan_batches_by_content(views, 300);
  expect_partition(batches, sequences.size());
  ASSERT_EQ(batches.size(), 2u);
  for (const auto& batch : batches) {
    ASSERT_EQ(batch.size(), 3u);
    for (size_t i : batch) EXPECT_EQ(i % 2, batch.front() % 2) << "rows of different prompts share a batch";
  }
  // Counted by length, the same budget holds two rows.
  std::vector<int64_t> lengths(sequences.size(), 150);
  EXPECT_EQ(plan_batches(lengths, 300).size(), 3u);
  // Shared runs shorter than min_shared count whole; four times the budget bounds the full length.
  EXPECT_EQ(plan_batches_by_content(views, 300, 256, 200).size(), 3u);
  EXPECT_EQ(plan_batches_by_content(views, 100).size(), 6u);  // every row alone: 150 > 100
}

}  // namespace
}  // namespace arbiter
