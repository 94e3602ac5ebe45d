// libFuzzer target: a model file's metadata and tensors as a whole, after the GGUF parser accepts them
// (fuzz_gguf covers the parser alone). A corrupt or hostile model must be refused with an error, or load
// into a model whose every view the forward pass can use: the config, the tensor shapes, the tokenizer
// and chat template from the metadata, and a three-token forward pass reading logits of every layer, run
// twice: the second starts after the keys and values the first kept and must read the same bytes.
// Seeded with the fixture GGUF files whole (weights and all), so mutations reach the tensor table too.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "io/gguf_parse.h"
#include "model/model.h"
#include "model/model_tokenizer.h"
#include "runtime/backend.h"
#include "text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = arbiter::parse_gguf(data, size, "fuzz.gguf", nullptr);
  if (!file.is_ok()) return 0;
  auto model = arbiter::model_from_gguf(*file);
  if (!model.is_ok()) {
    if (model.message().empty()) __builtin_trap();
    return 0;
  }
  const arbiter::ModelConfig& config = (*model)->config;

  (void)arbiter::describe_text_assets(**model);
  auto tokenizer = arbiter::load_model_tokenizer(**model);
  if (tokenizer.is_ok()) {
    auto ids = (*tokenizer)->encode("Score: 4 <s> \xc3\xa9", true, true);
    if (ids.is_ok()) {
      for (int32_t id : *ids)
        if (id < 0 || id >= (*tokenizer)->vocab_size()) __builtin_trap();
      (void)(*tokenizer)->decode(*ids, false);
    }
  }

  // Models past the fixtures' size would make each input slow, not find more.
  if (config.vocab_size > 4096 || config.hidden_size > 256 || config.num_layers > 8) return 0;
  auto backend = arbiter::make_cpu_backend(*model);
  arbiter::SequenceInput sequence;
  sequence.tokens = {0, int32_t(config.vocab_size - 1), int32_t(config.vocab_size / 2)};
  arbiter::ForwardOptions options;
  options.logits = arbiter::LogitsMode::kSelected;
  options.logit_token_ids = {0, int32_t(config.vocab_size - 1)};
  for (int32_t l = 0; l <= config.num_layers; ++l) options.capture_layers.push_back(l);
  options.layer_logits = true;
  options.score_head = config.num_labels > 0;
  auto out = backend->forward({sequence}, options);
  if (out.is_ok()) {
    const arbiter::SequenceOutput& o = out->at(0);
    if (o.logits.size() != 2 || o.layer_logits.size() != size_t(2 * (config.num_layers + 1))) __builtin_trap();
    // The same sequence again starts after the keys and values the first pass kept, and must read the
    // same bytes (compared as bytes: a fuzzed model may well compute NaNs).
    auto again = backend->forward({sequence}, options);
    if (!again.is_ok()) __builtin_trap();
    auto same_bytes = [](const std::vector<float>& a, const std::vector<float>& b) {
      return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
    };
    if (!same_bytes(again->at(0).logits, o.logits) || !same_bytes(again->at(0).layer_logits, o.layer_logits))
      __builtin_trap();
  }
  return 0;
}
