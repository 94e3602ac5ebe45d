// The converted causal fixtures against the canonical converter's files in fixtures/gguf: the same
// tensors (names, shapes, types; f32 and bf16 bytes equal; q8_0 bytes equal, the quantizer being
// byte-compatible) and the same metadata, key by key. Keys that differ are listed with why they do
// not change what a reader does.
#include <cstring>
#include <map>
#include <set>

#include "convert_test_util.h"
#include "io/gguf.h"

namespace arbiter::convert_test {
namespace {

const char* const kCausal[] = {"llama", "llama-bf16", "mistral", "qwen2", "gemma2"};

std::string value_string(const GgufValue& v) {
  switch (v.type) {
    case GgufType::STRING: return "'" + v.str + "'";
    case GgufType::FLOAT32:
    case GgufType::FLOAT64: return std::to_string(v.f);
    case GgufType::ARRAY: return "array of " + std::to_string(v.array.size());
    case GgufType::BOOL: return v.u ? "true" : "false";
    default: return v.as_int() ? std::to_string(*v.as_int()) : "?";
  }
}

bool same_value(const GgufValue& a, const GgufValue& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case GgufType::STRING: return a.str == b.str;
    case GgufType::FLOAT32: return float(a.f) == float(b.f);
    case GgufType::FLOAT64: return a.f == b.f;
    case GgufType::ARRAY:
      if (a.array_type != b.array_type || a.array.size() != b.array.size()) return false;
      for (size_t i = 0; i < a.array.size(); ++i)
        if (!same_value(a.array[i], b.array[i])) return false;
      return true;
    default: return a.u == b.u && a.i == b.i;
  }
}

std::shared_ptr<GgufFile> open_or_fail(const std::string& path) {
  auto f = GgufFile::open(path);
  EXPECT_TRUE(f.is_ok()) << f.message();
  return f.is_ok() ? *f : nullptr;
}

void expect_same_tensors(const GgufFile& ours, const GgufFile& canonical, bool bytes_equal) {
  std::set<std::string> our_names, their_names;
  for (const TensorView& t : ours.tensors()) our_names.insert(t.name);
  for (const TensorView& t : canonical.tensors()) their_names.insert(t.name);
  EXPECT_EQ(our_names, their_names) << ours.path();
  for (const TensorView& theirs : canonical.tensors()) {
    const TensorView* mine = ours.tensor(theirs.name);
    if (mine == nullptr) continue;
    EXPECT_EQ(mine->shape, theirs.shape) << theirs.name;
    EXPECT_EQ(mine->dtype, theirs.dtype) << theirs.name << ": " << dtype_name(mine->dtype) << " vs " << dtype_name(theirs.dtype);
    if (bytes_equal && mine->nbytes == theirs.nbytes) {
      EXPECT_EQ(std::memcmp(mine->data, theirs.data, theirs.nbytes), 0) << ours.path() << ": " << theirs.name << " bytes differ";
    }
  }
}

// Keys only the converted file has, each with the value that means what the canonical file's absence
// means to a reader (llama.cpp's and arbiter's defaults), or a reason it cannot change the model.
bool extra_key_is_harmless(const GgufFile& canonical, const std::string& key, const GgufValue& v, std::string& why) {
  const std::string tok_model = canonical.get_string("tokenizer.ggml.model").value_or("");
  if (key == "tokenizer.ggml.add_bos_token") {
    why = "default for this tokenizer model";
    return v.as_bool() == (tok_model == "llama");
  }
  if (key == "tokenizer.ggml.add_eos_token") {
    why = "default false";
    return v.as_bool() == false;
  }
  if (key == "tokenizer.ggml.add_space_prefix") {
    why = "default true for llama vocabularies";
    return v.as_bool() == true;
  }
  if (key == "tokenizer.ggml.remove_extra_whitespaces") {
    why = "SentencePiece's own flag, which the canonical file drops";
    return tok_model == "llama";
  }
  if (key == "tokenizer.ggml.precompiled_charsmap") {
    // Deliberate: SentencePiece's normalization rules (NFKC here), which the canonical file drops, so
    // its tokenizer differs from the directory's on text like "\n" or "(TM)". Only readers that look for
    // the key (arbiter; llama.cpp for UGM vocabularies) use it.
    why = "SentencePiece's normalization rules, which the canonical file drops";
    return tok_model == "llama" && v.type == GgufType::ARRAY && !v.array.empty();
  }
  if (key == "tokenizer.ggml.unknown_token_id") {
    why = "agrees with the UNKNOWN entry of token_type";
    auto types = canonical.get_int_array("tokenizer.ggml.token_type");
    return types.is_ok() && v.as_int() && *v.as_int() < int64_t(types->size()) && (*types)[size_t(*v.as_int())] == 2;
  }
  if (key == "gemma2.rope.freq_base") {
    why = "10000, the value readers assume when gemma2 has none";
    return v.as_double() == 10000.0;
  }
  return false;
}

void compare_metadata(const GgufFile& ours, const GgufFile& canonical) {
  for (const auto& [key, theirs] : canonical.metadata()) {
    const GgufValue* mine = ours.find(key);
    ASSERT_NE(mine, nullptr) << "missing key " << key;
    if (same_value(*mine, theirs)) continue;
    ADD_FAILURE() << ours.path() << ": key " << key << " is " << value_string(*mine) << ", canonical "
                  << value_string(theirs);
  }
  for (const auto& [key, v] : ours.metadata()) {
    if (canonical.find(key) != nullptr) continue;
    std::string why;
    EXPECT_TRUE(extra_key_is_harmless(canonical, key, v, why)) << "extra key " << key << " = " << value_string(v);
    std::printf("  [extra] %s = %s (%s)\n", key.c_str(), value_string(v).c_str(), why.c_str());
  }
}

TEST(ConvertCanonical, F32TensorsAndMetadataMatch) {
  for (const char* name : kCausal) {
    std::printf("%s.f32\n", name);
    auto ours = open_or_fail(converted(name, "f32"));
    auto canonical = open_or_fail(gguf_fixture(std::string(name) + ".f32.gguf"));
    ASSERT_TRUE(ours && canonical);
    expect_same_tensors(*ours, *canonical, true);
    compare_metadata(*ours, *canonical);
  }
}

TEST(ConvertCanonical, Bf16AndQ8_0BytesMatch) {
  for (const char* type : {"bf16", "q8_0"}) {
    for (const char* name : kCausal) {
      auto ours = open_or_fail(converted(name, type));
      auto canonical = open_or_fail(gguf_fixture(std::string(name) + "." + type + ".gguf"));
      ASSERT_TRUE(ours && canonical);
      expect_same_tensors(*ours, *canonical, true);
      EXPECT_EQ(ours->get_int("general.file_type"), canonical->get_int("general.file_type")) << name << " " << type;
    }
  }
}

// Requantizing the canonical f32 file reproduces the canonical q8_0 file's tensors byte for byte: the
// quantize command's dequantize -> quantize path adds nothing of its own.
TEST(QuantizeGguf, CanonicalF32ToQ8_0MatchesCanonicalQ8_0) {
  for (const char* name : kCausal) {
    const std::string out = scratch_dir() + "/" + name + ".requant.q8_0.gguf";
    QuantizeOptions options;
    options.type = "q8_0";
    options.progress = false;
    auto report = quantize_gguf(gguf_fixture(std::string(name) + ".f32.gguf"), out, options);
    ASSERT_TRUE(report.is_ok()) << report.message();
    auto ours = open_or_fail(out);
    auto canonical = open_or_fail(gguf_fixture(std::string(name) + ".q8_0.gguf"));
    ASSERT_TRUE(ours && canonical);
    expect_same_tensors(*ours, *canonical, true);
  }
}

}  // namespace
}  // namespace arbiter::convert_test
