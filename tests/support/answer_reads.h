// A reference for process reward models read by two step tokens where the answer to each step begins
// (steps as turns, RLHFlow's layout): in a text where the right token appears only as those answers, the
// forward is read at the token before each, and the step reward is softmax([right, wrong])'s share of
// right there. Computed here by hand, in double from the backend's selected logits.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/model_tokenizer.h"
#include "runtime/backend.h"
#include "text/tokenizer.h"

namespace arbiter::testing {

// The text's tokens, read at the token before each `answer` token (the answer must be one token).
inline SequenceInput reads_before_answers(const Model& model, const std::string& text, const std::string& answer) {
  auto tokenizer = load_model_tokenizer(model);
  if (!tokenizer.is_ok()) {
    ADD_FAILURE() << tokenizer.message();
    return {};
  }
  auto tokens = (*tokenizer)->encode(text, false, true);
  auto answer_ids = (*tokenizer)->encode(answer, false, true);
  if (!tokens.is_ok() || !answer_ids.is_ok() || answer_ids->size() != 1) {
    ADD_FAILURE() << "the text or the answer does not encode as expected";
    return {};
  }
  SequenceInput seq{*tokens, {}};
  for (size_t i = 1; i < tokens->size(); ++i)
    if ((*tokens)[i] == (*answer_ids)[0]) seq.read_positions.push_back(int32_t(i - 1));
  return seq;
}

inline std::vector<double> rewards_before_answers(const std::shared_ptr<const Model>& model, const std::string& text,
                                                  const std::string& right, const std::string& wrong) {
  const SequenceInput seq = reads_before_answers(*model, text, right);
  auto tokenizer = load_model_tokenizer(*model);
  auto right_ids = (*tokenizer)->encode(right, false, true), wrong_ids = (*tokenizer)->encode(wrong, false, true);
  if (seq.read_positions.empty() || !right_ids.is_ok() || !wrong_ids.is_ok() || wrong_ids->size() != 1) {
    ADD_FAILURE() << "nothing to read, or the step tokens do not encode as one token each";
    return {};
  }
  ForwardOptions options;
  options.logits = LogitsMode::kSelected;
  options.logit_token_ids = {(*right_ids)[0], (*wrong_ids)[0]};
  auto out = make_cpu_backend(model)->forward({seq}, options);
  if (!out.is_ok()) {
    ADD_FAILURE() << out.message();
    return {};
  }
  std::vector<double> rewards;
  for (size_t s = 0; s < seq.read_positions.size(); ++s)
    rewards.push_back(1.0 / (1.0 + std::exp(double((*out)[0].logits[s * 2 + 1]) - (*out)[0].logits[s * 2])));
  return rewards;
}

// Qwen's chat markup for steps as turns: the problem and the first step, then each step, each answered
// with `answer`.
inline std::string qwen_step_turns(const std::string& problem, const std::vector<std::string>& steps,
                                   const std::string& answer) {
  std::string text;
  for (size_t k = 0; k < steps.size(); ++k) {
    const std::string user = k == 0 ? problem + " " + steps[0] : steps[k];
    text += "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n" + answer + "<|im_end|>\n";
  }
  return text;
}

}  // namespace arbiter::testing
