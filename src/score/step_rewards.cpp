#include "score/step_rewards.h"

#include <algorithm>
#include <cmath>

namespace arbiter {

Result<StepAggregate> parse_step_aggregate(const std::string& name) {
  if (name == "min") return StepAggregate::kMin;
  if (name == "product" || name == "prod") return StepAggregate::kProduct;
  if (name == "mean") return StepAggregate::kMean;
  if (name == "last") return StepAggregate::kLast;
  return error("unknown step aggregate '" + name + "' (min, product, mean, last)");
}

double aggregate_steps(const std::vector<double>& rewards, StepAggregate how) {
  if (rewards.empty()) return std::nan("");
  switch (how) {
    case StepAggregate::kMin: return *std::min_element(rewards.begin(), rewards.end());
    case StepAggregate::kProduct: {
      double p = 1.0;
      for (double r : rewards) p *= r;
      return p;
    }
    case StepAggregate::kMean: {
      double sum = 0.0;
      for (double r : rewards) sum += r;
      return sum / double(rewards.size());
    }
    case StepAggregate::kLast: return rewards.back();
  }
  return std::nan("");
}

Result<int32_t> resolve_step_token(const Tokenizer& tokenizer, const std::string& tag) {
  if (tag.empty()) return error("the step separator is empty (give one with --step-tag)");
  ARB_ASSIGN(std::vector<int32_t> ids, tokenizer.encode(tag, /*add_special=*/false, /*parse_special=*/true));
  if (ids.size() != 1)
    return error("step separator '" + tag + "' is " + std::to_string(ids.size()) +
                 " tokens in this vocabulary; it must be one (give another with --step-tag)");
  return ids[0];
}

Result<std::vector<int32_t>> resolve_step_label_tokens(const Tokenizer& tokenizer, const std::vector<std::string>& texts) {
  if (texts.size() != 2) return error("give two step tokens: the one for a right step, then the one for a wrong step");
  std::vector<int32_t> ids;
  for (const std::string& text : texts) {
    ARB_ASSIGN(std::vector<int32_t> encoded, tokenizer.encode(text, /*add_special=*/false, /*parse_special=*/true));
    if (encoded.size() != 1)
      return error("step token '" + text + "' is " + std::to_string(encoded.size()) +
                   " tokens in this vocabulary; it must be one (give ids with --step-token-ids)");
    ids.push_back(encoded[0]);
  }
  if (ids[0] == ids[1]) return error("the two step tokens are the same token (" + std::to_string(ids[0]) + ")");
  return ids;
}

std::string join_steps(const std::vector<std::string>& steps, const std::string& join) {
  std::string text;
  for (const std::string& step : steps) text += step + join;
  return text;
}

std::vector<std::string> split_steps(const std::string& text, const std::string& delimiter) {
  std::vector<std::string> steps;
  auto keep = [&](std::string piece) {
    if (piece.find_first_not_of(" \t\r\n") != std::string::npos) steps.push_back(std::move(piece));
  };
  if (delimiter.empty()) {
    keep(text);
    return steps;
  }
  size_t start = 0;
  for (size_t at = text.find(delimiter); at != std::string::npos; at = text.find(delimiter, start)) {
    keep(text.substr(start, at - start));
    start = at + delimiter.size();
  }
  keep(text.substr(start));
  return steps;
}

std::vector<int32_t> positions_of(const std::vector<int32_t>& tokens, int32_t token) {
  std::vector<int32_t> positions;
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] == token) positions.push_back(int32_t(i));
  return positions;
}

double step_reward(const float* logits) {
  // softmax([a, b])[1] = 1 / (1 + exp(a - b)), without overflow for large gaps.
  const double gap = double(logits[0]) - double(logits[1]);
  return gap > 0 ? std::exp(-gap) / (1.0 + std::exp(-gap)) : 1.0 / (1.0 + std::exp(gap));
}

int64_t first_error_step(const std::vector<double>& rewards, double threshold) {
  // At the threshold is wrong: ProcessBench's scripts take a step as right only where its "right" logit
  // wins outright (argmax takes a tie for the first, "wrong"), so a reward of exactly 0.5 is an error.
  for (size_t i = 0; i < rewards.size(); ++i)
    if (rewards[i] <= threshold) return int64_t(i);
  return -1;
}

}  // namespace arbiter
