// libFuzzer target: the GGUF parser on arbitrary bytes (the parser GgufFile::open runs on its map).
// A parse that succeeds must give views inside the input: touching each view's ends lets
// AddressSanitizer catch one that is not (libFuzzer's input buffer is exactly `size` bytes).
#include <cstddef>
#include <cstdint>

#include "io/gguf_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto result = arbiter::parse_gguf(data, size, "fuzz.gguf", nullptr);
  if (!result.is_ok()) return 0;
  const arbiter::GgufFile& file = **result;
  volatile uint8_t sink = 0;
  for (const arbiter::TensorView& t : file.tensors()) {
    const auto* bytes = static_cast<const uint8_t*>(t.data);
    if (t.nbytes > 0) sink = sink + bytes[0] + bytes[t.nbytes - 1];
    if (file.tensor(t.name) != &t) __builtin_trap();
  }
  for (const auto& [key, value] : file.metadata()) {
    (void)value.as_int();
    (void)value.as_double();
    (void)file.get_string_array(key);
    (void)file.get_float_array(key);
    (void)file.get_int_array(key);
  }
  return 0;
}
