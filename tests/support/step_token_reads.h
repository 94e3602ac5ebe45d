// References for process reward models read by two step tokens (Math-Shepherd's "+" / "-" at each tag,
// RLHFlow's where each answer begins): the forward is read at chosen tokens of a text, and a step's reward
// is softmax([right, wrong])'s share of right there. Computed here by hand, in double from the backend's
// selected logits.
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

// The text's tokens, read at every occurrence of `marker` (one token), or at the token before each when
// `before` (where a model predicts an answer that is the marker).
inline SequenceInput reads_at_token(const Model& model, const std::string& text, const std::string& marker, bool before) {
  auto tokenizer = load_model_tokenizer(model);
  if (!tokenizer.is_ok()) {
    ADD_FAILURE() << tokenizer.message();
    return {};
  }
  auto tokens = (*tokenizer)->encode(text, false, true);
  auto marker_ids = (*tokenizer)->encode(marker, false, true);
  if (!tokens.is_ok() || !marker_ids.is_ok() || marker_ids->size() != 1) {
    ADD_FAILURE() << "the text or '" << marker << "' does not encode as expected";
    return {};
  }
  SequenceInput seq{*tokens, {}};
  for (size_t i = before ? 1 : 0; i < tokens->size(); ++i)
    if ((*tokens)[i] == (*marker_ids)[0]) seq.read_positions.push_back(int32_t(before ? i - 1 : i));
  return seq;
}

// softmax([right, wrong])[0] at each read of `seq`.
inline std::vector<double> step_token_rewards(const std::shared_ptr<const Model>& model, const SequenceInput& seq,
                                              const std::string& right, const std::string& wrong) {
  auto tokenizer = load_model_tokenizer(*model);
  if (!tokenizer.is_ok() || seq.read_positions.empty()) {
    ADD_FAILURE() << "no tokenizer, or nothing to read";
    return {};
  }
  auto right_ids = (*tokenizer)->encode(right, false, true), wrong_ids = (*tokenizer)->encode(wrong, false, true);
  if (!right_ids.is_ok() || !wrong_ids.is_ok() || right_ids->size() != 1 || wrong_ids->size() != 1) {
    ADD_FAILURE() << "the step tokens do not encode as one token each";
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

// Math-Shepherd's layout: read at each tag.
inline std::vector<double> rewards_at_tags(const std::shared_ptr<const Model>& model, const std::string& text,
                                           const std::string& tag, const std::string& right, const std::string& wrong) {
  return step_token_rewards(model, reads_at_token(*model, text, tag, /*before=*/false), right, wrong);
}

// RLHFlow's layout: read before each answer (the right token, which the text holds only as answers).
inline std::vector<double> rewards_before_answers(const std::shared_ptr<const Model>& model, const std::string& text,
                                                  const std::string& right, const std::string& wrong) {
  return step_token_rewards(model, reads_at_token(*model, text, right, /*before=*/true), right, wrong);
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
