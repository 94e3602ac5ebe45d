// A real trained model: stories260K, teacher-forced on the 60 ids its README gives for greedy decoding
// from BOS; the argmax at every position must be the next golden id.
#include <gtest/gtest.h>

#include "../support/stories_golden.h"
#include "model/model.h"
#include "runtime/backend.h"

namespace arbiter {
namespace {

const std::vector<int32_t>& kGolden = test::kStoriesGolden;

TEST(StoriesGolden, TeacherForcedArgmaxIsNextGoldenId) {
  auto model = load_model(std::string(ARBITER_SHARED_DIR) + "/models/stories260K/stories260K.gguf");
  ASSERT_TRUE(model.is_ok()) << model.message();
  const std::vector<int32_t> argmax = test::stories_teacher_forced_argmax(*model, kGolden.size());
  ASSERT_EQ(argmax.size(), kGolden.size());
  int matches = 0;
  for (size_t i = 0; i < kGolden.size(); ++i) {
    EXPECT_EQ(argmax[i], kGolden[i]) << "position " << i;
    matches += argmax[i] == kGolden[i];
  }
  EXPECT_EQ(matches, 60);
}

TEST(StoriesGolden, GreedyGenerationWithKvCacheWritesTheGoldenIds) {
  // Free-running greedy decoding from BOS, one token per step through the KV cache.
  auto model = load_model(std::string(ARBITER_SHARED_DIR) + "/models/stories260K/stories260K.gguf");
  ASSERT_TRUE(model.is_ok()) << model.message();
  GenerateOptions options;
  options.max_new_tokens = int64_t(kGolden.size());
  auto generated = make_cpu_backend(*model)->generate({SequenceInput{{1}, {}}}, options);
  ASSERT_TRUE(generated.is_ok()) << generated.message();
  ASSERT_EQ(generated->size(), 1u);
  EXPECT_EQ((*generated)[0].tokens, kGolden);
  EXPECT_EQ((*generated)[0].end, GenerationEnd::kMaxTokens);
  EXPECT_EQ((*generated)[0].read_position, int64_t(kGolden.size()) - 1);
}

TEST(StoriesGolden, BatchedSequencesEqualSingleRuns) {
  // Packing several sequences of different lengths in one call must not change any of them.
  auto model = load_model(std::string(ARBITER_SHARED_DIR) + "/models/stories260K/stories260K.gguf");
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto backend = make_cpu_backend(*model);
  std::vector<SequenceInput> batch;
  for (size_t len : {1u, 7u, 33u, 60u}) {
    SequenceInput s;
    s.tokens.push_back(1);
    s.tokens.insert(s.tokens.end(), kGolden.begin(), kGolden.begin() + long(len) - 1);
    batch.push_back(s);
  }
  ForwardOptions options;
  options.logits = LogitsMode::kSelected;
  options.logit_token_ids = {403, 261, 432};
  options.capture_layers = {0, 2, 5};
  auto together = backend->forward(batch, options);
  ASSERT_TRUE(together.is_ok()) << together.message();
  for (size_t i = 0; i < batch.size(); ++i) {
    auto alone = backend->forward({batch[i]}, options);
    ASSERT_TRUE(alone.is_ok());
    ASSERT_EQ((*alone)[0].logits.size(), (*together)[i].logits.size());
    for (size_t k = 0; k < (*alone)[0].logits.size(); ++k)
      EXPECT_NEAR((*alone)[0].logits[k], (*together)[i].logits[k], 1e-5f) << "sequence " << i;
    for (size_t k = 0; k < (*alone)[0].layer_states.size(); ++k)
      EXPECT_NEAR((*alone)[0].layer_states[k], (*together)[i].layer_states[k], 1e-5f) << "sequence " << i;
  }
}

TEST(ForwardErrors, BadTokenAndReadPositionAreNamed) {
  auto model = load_model(std::string(ARBITER_SHARED_DIR) + "/models/stories260K/stories260K.gguf");
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto backend = make_cpu_backend(*model);
  auto bad_token = backend->forward({SequenceInput{{1, 2, 9999}, {}}}, ForwardOptions{});
  ASSERT_FALSE(bad_token.is_ok());
  EXPECT_NE(bad_token.message().find("position 2"), std::string::npos) << bad_token.message();
  auto bad_read = backend->forward({SequenceInput{{1, 2, 3}, {5}}}, ForwardOptions{});
  ASSERT_FALSE(bad_read.is_ok());
  EXPECT_NE(bad_read.message().find("read position 5"), std::string::npos) << bad_read.message();
  auto empty = backend->forward({SequenceInput{}}, ForwardOptions{});
  EXPECT_FALSE(empty.is_ok());
}

}  // namespace
}  // namespace arbiter
