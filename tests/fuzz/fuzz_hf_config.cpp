// libFuzzer target: a Hugging Face config.json on arbitrary text, as `load_model` reads it from a model
// directory. Parsing must give an error or a config that passed validation: sizes positive, heads
// dividing as attention needs, a known architecture.
#include <cstddef>
#include <cstdint>
#include <string>

#include "model/hf_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = arbiter::parse_hf_config(text, "fuzz/config.json");
  if (!config.is_ok()) {
    if (config.message().empty()) __builtin_trap();
    return 0;
  }
  const arbiter::ModelConfig& c = *config;
  if (c.hidden_size <= 0 || c.num_layers <= 0 || c.num_heads <= 0 || c.num_kv_heads <= 0 || c.head_dim <= 0 ||
      c.vocab_size <= 0 || c.num_heads % c.num_kv_heads != 0)
    __builtin_trap();
  return 0;
}
