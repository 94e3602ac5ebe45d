// The store of keys and values kept between forward passes: which kept sequence serves a new one, what
// keeping a sequence does to the others, and the byte budget.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "runtime/cpu/prefix_store.h"

namespace arbiter::cpu {
namespace {

constexpr int64_t kLayers = 2, kKvDim = 3;
constexpr size_t kRowBytes = 2 * kLayers * kKvDim * sizeof(float);

// Rows whose every value names the sequence it was made for (`tag`), its layer and its position.
KvCache tagged_rows(int64_t rows, float tag) {
  KvCache kv;
  for (int64_t l = 0; l < kLayers; ++l) {
    std::vector<float> k(size_t(rows * kKvDim)), v(size_t(rows * kKvDim));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < kKvDim; ++i) {
        k[size_t(r * kKvDim + i)] = tag * 1000 + float(l * 100 + r);
        v[size_t(r * kKvDim + i)] = -(tag * 1000 + float(l * 100 + r));
      }
    kv.k.push_back(std::move(k));
    kv.v.push_back(std::move(v));
  }
  kv.length = rows;
  return kv;
}

float tag_of(const PrefixStore::Match& match) { return std::floor(match.kv->k[0][0] / 1000); }

TEST(PrefixStore, FindsTheKeptSequenceSharingTheMost) {
  PrefixStore store(kLayers, kKvDim);
  store.set_budget(100 * kRowBytes);
  EXPECT_EQ(store.budget_rows(), 100);
  store.keep({1, 2, 3, 4, 5}, tagged_rows(5, 1));
  store.keep({1, 2, 7, 8}, tagged_rows(4, 2));
  store.keep({9, 9}, tagged_rows(2, 3));
  EXPECT_EQ(store.sequences(), 3u);
  EXPECT_EQ(store.bytes(), 11 * kRowBytes);

  PrefixStore::Match m = store.find({1, 2, 3, 4, 6, 6}, 6);
  EXPECT_EQ(m.length, 4);
  EXPECT_EQ(tag_of(m), 1);
  m = store.find({1, 2, 7, 8, 8}, 4);
  EXPECT_EQ(m.length, 4);
  EXPECT_EQ(tag_of(m), 2);
  // The limit (a first read, the last token) caps what a match may give.
  EXPECT_EQ(store.find({1, 2, 3, 4, 5, 6}, 2).length, 2);
  EXPECT_EQ(store.find({1, 2, 3, 4, 5, 6}, 0).length, 0);
  // A sequence longer than one kept gets all of the kept one's rows; nothing shared, nothing found.
  EXPECT_EQ(store.find({9, 9, 9, 9}, 3).length, 2);
  EXPECT_EQ(store.find({5, 5}, 1).kv, nullptr);
  // Rows are the kept sequence's own, at every layer, keys and values.
  m = store.find({1, 2, 7, 0}, 3);
  ASSERT_EQ(m.length, 3);
  EXPECT_EQ(m.kv->k[1][size_t(2 * kKvDim)], 2000 + 102);
  EXPECT_EQ(m.kv->v[1][size_t(2 * kKvDim)], -(2000 + 102));
}

TEST(PrefixStore, ASequenceThatExtendsAnotherReplacesIt) {
  PrefixStore store(kLayers, kKvDim);
  store.set_budget(100 * kRowBytes);
  store.keep({1, 2, 3}, tagged_rows(3, 1));
  store.keep({1, 2, 3, 4, 5}, tagged_rows(5, 2));  // extends the first: it leaves
  EXPECT_EQ(store.sequences(), 1u);
  EXPECT_EQ(store.bytes(), 5 * kRowBytes);
  store.keep({1, 2}, tagged_rows(2, 3));  // begins a kept one: nothing new
  store.keep({1, 2, 3, 4, 5}, tagged_rows(5, 4));  // the same again: nothing new
  EXPECT_EQ(store.sequences(), 1u);
  EXPECT_EQ(tag_of(store.find({1, 2, 9}, 2)), 2);
  // A cache with room for more (a prompt's room for what it writes) keeps only its sequence's rows.
  KvCache roomy = tagged_rows(10, 5);
  store.keep({7, 7, 7}, std::move(roomy));
  EXPECT_EQ(store.bytes(), 8 * kRowBytes);
  const PrefixStore::Match m = store.find({7, 7, 7, 7}, 3);
  ASSERT_EQ(m.length, 3);
  EXPECT_EQ(m.kv->k[0].size(), size_t(3 * kKvDim));
  EXPECT_EQ(m.kv->length, 3);
}

TEST(PrefixStore, TheLeastRecentlyUsedLeaveFirstWithinTheBudget) {
  PrefixStore store(kLayers, kKvDim);
  store.set_budget(10 * kRowBytes);
  store.keep({1, 1, 1, 1}, tagged_rows(4, 1));
  store.keep({2, 2, 2, 2}, tagged_rows(4, 2));
  EXPECT_EQ(store.find({1, 1, 5}, 2).length, 2);  // the first is now the more recently used
  store.keep({3, 3, 3, 3}, tagged_rows(4, 3));     // 12 rows: the second leaves
  EXPECT_EQ(store.sequences(), 2u);
  EXPECT_EQ(store.bytes(), 8 * kRowBytes);
  EXPECT_EQ(store.find({2, 2, 5}, 2).length, 0);
  EXPECT_EQ(store.find({1, 1, 5}, 2).length, 2);
  // Larger than the whole budget: not kept, and nothing leaves for it.
  store.keep(std::vector<int32_t>(11, 4), tagged_rows(11, 4));
  EXPECT_EQ(store.sequences(), 2u);
  // A lower budget lets the least recently used go; none keeps nothing.
  EXPECT_EQ(store.find({3, 3, 5}, 2).length, 2);
  store.set_budget(5 * kRowBytes);
  EXPECT_EQ(store.sequences(), 1u);
  EXPECT_EQ(store.find({3, 3, 5}, 2).length, 2);
  store.set_budget(0);
  EXPECT_EQ(store.sequences(), 0u);
  EXPECT_EQ(store.bytes(), 0u);
  EXPECT_EQ(store.budget_rows(), 0);
  store.keep({5}, tagged_rows(1, 5));
  EXPECT_EQ(store.sequences(), 0u);
}

TEST(PrefixStore, RoomForAPassLetsGoOnlyOfWhatThePassDoesNotRead) {
  PrefixStore store(kLayers, kKvDim);
  store.set_budget(10 * kRowBytes);
  store.keep({1, 2, 3, 4}, tagged_rows(4, 1));
  store.keep({5, 6, 7, 8}, tagged_rows(4, 2));
  store.keep({9, 9}, tagged_rows(2, 3));
  EXPECT_EQ(store.bytes(), 10 * kRowBytes);

  store.begin_pass();
  const PrefixStore::Match read = store.find({1, 2, 3, 0}, 4);  // the pass reads sequence 1
  ASSERT_EQ(read.length, 3);
  // Room for 4 positions: sequence 2 is the least recently used the pass does not read; it goes, and the
  // match still points at sequence 1's rows.
  EXPECT_EQ(store.make_room(4), 4);
  EXPECT_EQ(store.sequences(), 2u);
  EXPECT_EQ(store.bytes(), 6 * kRowBytes);
  EXPECT_EQ(tag_of(read), 1.0f);
  EXPECT_EQ(store.find({5, 6}, 2).length, 0);
  EXPECT_EQ(store.find({9, 9}, 2).length, 2);  // read by the pass now: it stays too
  // More than the budget holds beside what the pass reads: what is free, and nothing it reads leaves.
  EXPECT_EQ(store.make_room(100), 4);
  EXPECT_EQ(store.sequences(), 2u);
  EXPECT_EQ(tag_of(read), 1.0f);

  // The next pass reads nothing: everything may go.
  store.begin_pass();
  EXPECT_EQ(store.make_room(100), 10);
  EXPECT_EQ(store.bytes(), 0u);
  EXPECT_EQ(store.make_room(0), 0);
}

TEST(PrefixStore, KeepsAtMostItsNumberOfSequences) {
  PrefixStore store(kLayers, kKvDim);
  store.set_budget(10000 * kRowBytes);
  const int32_t count = int32_t(PrefixStore::kMaxSequences) + 10;
  for (int32_t i = 0; i < count; ++i) store.keep({i, i}, tagged_rows(2, float(i)));
  EXPECT_EQ(store.sequences(), PrefixStore::kMaxSequences);
  EXPECT_EQ(store.bytes(), PrefixStore::kMaxSequences * 2 * kRowBytes);
  EXPECT_EQ(store.find({0, 0, 1}, 2).length, 0);  // the oldest left
  EXPECT_EQ(store.find({count - 1, count - 1, 1}, 2).length, 2);
}

// The store finds the kept sequence sharing the most by a binary search over its sorted sequences; a scan
// of every sequence it was given must agree, through keeps that replace the sequences they extend, keeps
// of what is already held, and evictions. Short sequences over three tokens make every case frequent.
TEST(PrefixStore, FindsWhatAScanOfEveryKeptSequenceFinds) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> token(0, 2);
  std::uniform_int_distribution<int64_t> length(1, 7);
  auto random_tokens = [&] {
    std::vector<int32_t> tokens(size_t(length(rng)));
    for (int32_t& t : tokens) t = token(rng);
    return tokens;
  };
  auto shared = [](const std::vector<int32_t>& a, const std::vector<int32_t>& b, int64_t limit) {
    const auto [end_a, end_b] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    return std::min<int64_t>(end_a - a.begin(), limit);
  };
  PrefixStore store(kLayers, kKvDim);
  store.set_budget(10000 * kRowBytes);
  std::vector<std::vector<int32_t>> given;
  for (int round = 0; round < 400; ++round) {
    std::vector<int32_t> tokens = random_tokens();
    given.push_back(tokens);
    store.keep(tokens, tagged_rows(int64_t(tokens.size()), float(round)));
    for (int query = 0; query < 5; ++query) {
      const std::vector<int32_t> probe = random_tokens();
      const int64_t limit = std::uniform_int_distribution<int64_t>(0, int64_t(probe.size()))(rng);
      int64_t scanned = 0;
      for (const std::vector<int32_t>& kept : given) scanned = std::max(scanned, shared(kept, probe, limit));
      ASSERT_EQ(store.longest_kept(probe, limit), scanned) << "round " << round;
      const PrefixStore::Match match = store.find(probe, limit);
      ASSERT_EQ(match.length, scanned) << "round " << round;
      // The rows are those of a sequence that begins with what the probe shares with it.
      if (scanned > 0) {
        EXPECT_GE(match.kv->length, scanned);
      }
    }
  }
  // Evicting keeps the order: with room for few rows, what the store holds is still found exactly.
  store.set_budget(12 * kRowBytes);
  ASSERT_LE(store.bytes(), 12 * kRowBytes);
  for (int round = 0; round < 200; ++round) {
    std::vector<int32_t> tokens = random_tokens();
    store.keep(tokens, tagged_rows(int64_t(tokens.size()), float(round)));
    // The sequence just kept, or one holding it, is there whole.
    ASSERT_EQ(store.longest_kept(tokens, int64_t(tokens.size())), int64_t(tokens.size())) << "round " << round;
    ASSERT_LE(store.bytes(), 12 * kRowBytes);
  }
}

}  // namespace
}  // namespace arbiter::cpu
