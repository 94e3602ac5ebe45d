// A byte-level BPE tokenizer.json small enough to reason about by hand: the 256 byte tokens (ids 0-255,
// GPT-2's byte-to-unicode spelling, id = byte value), no merges, so ordinary text encodes to its bytes, and
// whatever added tokens and normalizer a test gives (added tokens take ids 256, 257, ... in order). What the
// tokenizers library does with such a file follows from its documented components alone.
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../../support/scratch_root.h"
#include "text/unicode.h"

namespace arbiter::test {

struct TinyAddedToken {
  std::string content;
  bool special = false;
  bool single_word = false;
};

inline nlohmann::json tiny_byte_level_tokenizer(const std::vector<TinyAddedToken>& added,
                                                const nlohmann::json& normalizer = nullptr) {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_to_unicode(uint8_t(b))] = b;
  nlohmann::json added_tokens = nlohmann::json::array();
  for (size_t i = 0; i < added.size(); ++i) {
    added_tokens.push_back({{"id", 256 + i}, {"content", added[i].content}, {"single_word", added[i].single_word},
                            {"lstrip", false}, {"rstrip", false}, {"normalized", false},
                            {"special", added[i].special}});
  }
  const nlohmann::json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
                                     {"use_regex", true}};
  return {{"version", "1.0"},
          {"added_tokens", added_tokens},
          {"normalizer", normalizer},
          {"pre_tokenizer", byte_level},
          {"post_processor", nullptr},
          {"decoder", byte_level},
          {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"fuse_unk", false},
                     {"byte_fallback", false}, {"ignore_merges", false}, {"vocab", vocab},
                     {"merges", nlohmann::json::array()}}}};
}

// Writes `tokenizer_json` as NAME/tokenizer.json under the scratch directory; returns the file's path.
inline std::string write_tiny_tokenizer(const std::string& name, const nlohmann::json& tokenizer_json) {
  const std::filesystem::path dir = scratch_root() / name;
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "tokenizer.json").string();
  std::ofstream(path) << tokenizer_json.dump();
  return path;
}

// The bytes of `text` as ids of the tiny tokenizer.
inline std::vector<int32_t> byte_ids(const std::string& text) {
  std::vector<int32_t> ids;
  for (char c : text) ids.push_back(uint8_t(c));
  return ids;
}

}  // namespace arbiter::test
