// libFuzzer target: the tokenizers on arbitrary text, as every dataset row reaches them. The first
// byte picks one of the real tokenizers in ../shared (Llama 3 and Qwen3 byte-level BPE, the
// SentencePiece model) and the flags; the rest is the text, valid UTF-8 or not. Encoding must give ids
// inside the vocabulary or an error (invalid UTF-8 is refused by the callers, but must not crash here);
// decoding those ids must work; for the byte-level BPE tokenizers, which have no normalizer, decoding
// what was encoded without special tokens must give the text back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/utf8.h"
#include "text/tokenizer.h"

namespace {

struct Loaded {
  std::shared_ptr<arbiter::Tokenizer> tokenizer;
  bool round_trips = false;  // decode(encode(text)) == text for valid UTF-8
};

std::vector<Loaded>& tokenizers() {
  static std::vector<Loaded> all;
  return all;
}

void load_or_die(const std::string& what, arbiter::Result<std::shared_ptr<arbiter::Tokenizer>> result, bool round_trips) {
  if (!result.is_ok()) {
    fprintf(stderr, "fuzz_tokenize: cannot load %s: %s (set ARBITER_SHARED_DIR)\n", what.c_str(), result.message().c_str());
    std::abort();
  }
  tokenizers().push_back({*result, round_trips});
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* env = std::getenv("ARBITER_SHARED_DIR");
  const std::string shared = env ? env : "../shared";
  const std::string dir = shared + "/fixtures/tokenizers/";
  // Round trips are checked without tokenizer_config.json: its clean_up_tokenization_spaces would
  // change " ." on decode, as transformers does.
  load_or_die("llama3", arbiter::Tokenizer::from_tokenizer_json(dir + "llama3/tokenizer.json", ""), true);
  load_or_die("qwen3", arbiter::Tokenizer::from_tokenizer_json(dir + "qwen3/tokenizer.json", dir + "qwen3/tokenizer_config.json"), false);
  load_or_die("tiny-spm", arbiter::Tokenizer::from_sentencepiece_model(dir + "tiny-spm/tokenizer.model"), false);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Loaded& loaded = tokenizers()[data[0] % tokenizers().size()];
  const bool add_special = data[0] & 0x10;
  const bool parse_special = data[0] & 0x20;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto ids = loaded.tokenizer->encode(text, add_special, parse_special);
  if (!ids.is_ok()) return 0;
  for (int32_t id : *ids)
    if (id < 0 || id >= loaded.tokenizer->vocab_size()) __builtin_trap();
  auto decoded = loaded.tokenizer->decode(*ids, /*skip_special=*/false);
  if (!decoded.is_ok()) __builtin_trap();
  if (loaded.round_trips && !add_special && !parse_special && !arbiter::utf8_first_invalid(text) && *decoded != text)
    __builtin_trap();
  return 0;
}
