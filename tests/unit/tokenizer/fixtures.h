// Paths and readers for the tokenizer reference data under ARBITER_SHARED_DIR.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace arbiter::test {

inline std::string shared_path(const std::string& rel) { return std::string(ARBITER_SHARED_DIR) + "/" + rel; }

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(slurp(path)); }

// llama.cpp test vectors: .inp holds texts separated by "\n__ggml_vocab_test__\n", .out one line of
// space-separated ids per text.
struct VocabVector {
  std::string text;
  std::vector<int32_t> ids;
};

inline std::vector<VocabVector> read_vocab_vectors(const std::string& stem) {
  std::string inp = slurp(stem + ".inp");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  size_t start = 0;
  for (size_t pos = inp.find(sep); pos != std::string::npos; pos = inp.find(sep, start)) {
    texts.push_back(inp.substr(start, pos - start));
    start = pos + sep.size();
  }
  std::ifstream out(stem + ".out");
  std::vector<VocabVector> vectors;
  std::string line;
  for (const std::string& text : texts) {
    if (!std::getline(out, line)) break;
    VocabVector v{text, {}};
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) v.ids.push_back(id);
    vectors.push_back(std::move(v));
  }
  return vectors;
}

}  // namespace arbiter::test
