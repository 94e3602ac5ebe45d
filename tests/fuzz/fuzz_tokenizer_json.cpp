// libFuzzer target: a Hugging Face tokenizer.json, as a model directory or a download brings it. The
// input is the file; it is loaded through a temporary file as arbiter loads one. A file that loads must
// give a tokenizer whose encodings of a few texts are ids inside its vocabulary that decode without error;
// anything else must be an error, never a crash, a hang or an allocation the file's size does not justify.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "text/tokenizer.h"

namespace {

std::string& scratch_path() {
  static std::string path = "/tmp/fuzz_tokenizer_json." + std::to_string(getpid()) + ".json";
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = scratch_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
  auto loaded = arbiter::Tokenizer::from_tokenizer_json(path, "");
  std::remove(path.c_str());
  if (!loaded.is_ok()) return 0;
  const arbiter::Tokenizer& tokenizer = **loaded;
  for (const char* text : {"Hello, world!", "  a\tb\n\n12345 \xC3\xA9t\xC3\xA9 <|x|>", "ab abba"}) {
    for (bool special : {false, true}) {
      auto ids = tokenizer.encode(text, special, special);
      if (!ids.is_ok()) continue;
      for (int32_t id : *ids)
        if (id < 0 || id >= tokenizer.vocab_size()) __builtin_trap();
      if (!tokenizer.decode(*ids, false).is_ok()) __builtin_trap();
    }
  }
  return 0;
}
