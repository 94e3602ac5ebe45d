// libFuzzer target: the safetensors parser on arbitrary bytes (the parser SafetensorsFile::open runs on
// its map). A parse that succeeds must give views inside the input; touching each view's ends lets
// AddressSanitizer catch one that is not.
#include <cstddef>
#include <cstdint>

#include "io/safetensors_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto result = arbiter::parse_safetensors(data, size, "fuzz.safetensors", nullptr);
  if (!result.is_ok()) return 0;
  volatile uint8_t sink = 0;
  for (const arbiter::TensorView& t : (*result)->tensors()) {
    const auto* bytes = static_cast<const uint8_t*>(t.data);
    if (t.nbytes > 0) sink = sink + bytes[0] + bytes[t.nbytes - 1];
    if (uint64_t(t.numel()) * arbiter::dtype_info(t.dtype).block_bytes != t.nbytes) __builtin_trap();
    if ((*result)->tensor(t.name) != &t) __builtin_trap();
  }
  return 0;
}
