// libFuzzer target: the server's request parsing on arbitrary bodies. The first byte picks the route's
// parser; the rest is the body. Parsing must never crash, and what it accepts must be well formed:
// lists non-empty, token ids non-negative, texts valid UTF-8 (they are later tokenized and echoed).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/utf8.h"
#include "serve/request_schema.h"

namespace {

void check_text(const std::string& text) {
  if (arbiter::utf8_first_invalid(text)) __builtin_trap();
}

void check_examples(const std::vector<arbiter::data::Example>& items) {
  if (items.empty()) __builtin_trap();
  for (const auto& ex : items) {
    for (const auto& turn : ex.prompt_turns) check_text(turn.content);
    for (const auto& r : ex.responses) check_text(r);
    for (int32_t t : ex.input_ids)
      if (t < 0) __builtin_trap();
    if (ex.responses.empty() && ex.input_ids.empty()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace arbiter::serve;
  if (size == 0) return 0;
  const uint8_t route = data[0] % 4;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  auto json = parse_body(body);
  if (!json.is_ok()) return 0;
  switch (route) {
    case 0: {
      auto r = parse_reward_request(*json);
      if (r.is_ok()) {
        if (r->queries.empty()) __builtin_trap();
        for (const auto& q : r->queries) check_text(q);
      }
      break;
    }
    case 1: {
      auto r = parse_pooling_request(*json);
      if (r.is_ok()) {
        if (r->inputs.empty() && r->messages.empty()) __builtin_trap();
        for (const auto& in : r->inputs) {
          if (in.tokenized && in.tokens.empty()) __builtin_trap();
          for (int32_t t : in.tokens)
            if (t < 0) __builtin_trap();
          check_text(in.text);
        }
        if (r->truncate_prompt_tokens < 0) __builtin_trap();
      }
      break;
    }
    case 2: {
      auto r = parse_score_request(*json);
      if (r.is_ok()) check_examples(r->items);
      break;
    }
    default: {
      auto r = parse_judge_request(*json);
      if (r.is_ok()) check_examples(r->items);
      break;
    }
  }
  return 0;
}
