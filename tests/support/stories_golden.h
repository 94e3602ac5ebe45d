// stories260K (a real trained Llama) and the 60 ids its README gives for greedy decoding from BOS: the
// golden test of the forward pass, and a check that a requantized copy still reads its own continuation.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "model/model.h"
#include "runtime/backend.h"

namespace arbiter::test {

inline const std::vector<int32_t> kStoriesGolden = {
    403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
    410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352,
    266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432, 398, 312, 286, 267, 414, 270, 333, 415};

// The argmax of the logits at each of the first n positions when the model reads BOS and the golden ids
// teacher-forced (position i should predict kStoriesGolden[i]); empty when the forward pass fails.
inline std::vector<int32_t> stories_teacher_forced_argmax(const std::shared_ptr<const Model>& model, size_t n) {
  SequenceInput seq;
  seq.tokens.push_back(1);  // BOS
  seq.tokens.insert(seq.tokens.end(), kStoriesGolden.begin(), kStoriesGolden.begin() + std::ptrdiff_t(n) - 1);
  for (int32_t p = 0; p < int32_t(seq.tokens.size()); ++p) seq.read_positions.push_back(p);
  ForwardOptions options;
  options.logits = LogitsMode::kFull;
  auto out = make_cpu_backend(model)->forward({seq}, options);
  EXPECT_TRUE(out.is_ok()) << out.message();
  if (!out.is_ok()) return {};
  const int64_t vocab = model->config.vocab_size;
  const std::vector<float>& logits = (*out)[0].logits;
  EXPECT_EQ(int64_t(logits.size()), vocab * int64_t(n));
  if (int64_t(logits.size()) != vocab * int64_t(n)) return {};
  std::vector<int32_t> argmax(n);
  for (size_t i = 0; i < n; ++i) {
    const float* row = logits.data() + int64_t(i) * vocab;
    argmax[i] = int32_t(std::max_element(row, row + vocab) - row);
  }
  return argmax;
}

}  // namespace arbiter::test
