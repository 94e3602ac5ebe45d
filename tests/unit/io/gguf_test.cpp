// GGUF reader and writer against files made by the canonical tools (../shared).
#include "io/gguf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "io/gguf_split_name.h"
#include "io_test_util.h"

namespace arbiter {
namespace {

using test::shared_path;

std::shared_ptr<GgufFile> open_gguf_ok(const std::string& path) {
  auto file = GgufFile::open(path);
  EXPECT_TRUE(file.is_ok()) << file.message();
  return file.is_ok() ? *file : nullptr;
}

std::vector<int64_t> shape_of(const GgufFile& file, const std::string& name) {
  const TensorView* t = file.tensor(name);
  EXPECT_NE(t, nullptr) << name;
  return t ? t->shape : std::vector<int64_t>{};
}

// Every fixture: version 3, its architecture, the HF model's sizes, tensors inside the map, dtypes by file type.
// gguf-split's names: PREFIX-%05d-of-%05d.gguf, numbered from 1. Anything else is a whole file's name.
TEST(Gguf, SplitFileNames) {
  const auto parsed = parse_gguf_split_name("/m/qwen2.5-7b-instruct-q8_0-00002-of-00003.gguf");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->prefix, "/m/qwen2.5-7b-instruct-q8_0");
  EXPECT_EQ(parsed->index, 1);
  EXPECT_EQ(parsed->count, 3);
  EXPECT_EQ(gguf_split_name(parsed->prefix, 0, 3), "/m/qwen2.5-7b-instruct-q8_0-00001-of-00003.gguf");
  EXPECT_EQ(gguf_split_name("x", 99999, 100000), "x-100000-of-100000.gguf");
  EXPECT_TRUE(parse_gguf_split_name("hf://org/repo/m-00001-of-00001.gguf").has_value());
  for (const char* whole : {"model.gguf", "m-1-of-3.gguf", "m-00004-of-00003.gguf", "m-00000-of-00003.gguf",
                            "m00001-of-00003.gguf", "m-00001-of-00003.bin", "m-00001-0f-00003.gguf", "-of-00003.gguf"})
    EXPECT_FALSE(parse_gguf_split_name(whole).has_value()) << whole;
}

TEST(Gguf, ReadsEveryConverterFixture) {
  const auto paths = test::files_with_suffix(shared_path("fixtures/gguf"), ".gguf");
  ASSERT_EQ(paths.size(), 15u);
  for (const std::string& path : paths) {
    SCOPED_TRACE(path);
    auto file = open_gguf_ok(path);
    ASSERT_NE(file, nullptr);
    EXPECT_EQ(file->version(), 3u);
    EXPECT_EQ(file->alignment(), 32u);
    const std::string base = std::filesystem::path(path).filename().string();
    const std::string arch = file->get_string("general.architecture").value_or("");
    const std::string expected_arch = base.rfind("gemma2", 0) == 0 ? "gemma2" : base.rfind("qwen2", 0) == 0 ? "qwen2" : "llama";
    EXPECT_EQ(arch, expected_arch);
    EXPECT_EQ(file->get_int(arch + ".embedding_length"), 64);
    EXPECT_EQ(file->get_int(arch + ".block_count"), 3);
    EXPECT_EQ(file->get_int(arch + ".feed_forward_length"), 192);
    EXPECT_EQ(file->get_int(arch + ".attention.head_count"), 4);
    EXPECT_EQ(file->get_int(arch + ".attention.head_count_kv"), 2);
    auto tokens = file->get_string_array("tokenizer.ggml.tokens");
    ASSERT_TRUE(tokens.is_ok()) << tokens.message();
    EXPECT_EQ(tokens->size(), 512u);

    EXPECT_EQ(shape_of(*file, "token_embd.weight"), (std::vector<int64_t>{512, 64}));
    EXPECT_EQ(shape_of(*file, "blk.0.ffn_down.weight"), (std::vector<int64_t>{64, 192}));
    EXPECT_EQ(shape_of(*file, "blk.2.attn_k.weight"), (std::vector<int64_t>{32, 64}));
    EXPECT_EQ(shape_of(*file, "output_norm.weight"), (std::vector<int64_t>{64}));
    const DType weight_type = base.find(".q8_0.") != std::string::npos  ? DType::Q8_0
                              : base.find(".bf16.") != std::string::npos ? DType::BF16
                                                                         : DType::F32;
    EXPECT_EQ(file->tensor("blk.0.attn_q.weight")->dtype, weight_type);
    EXPECT_EQ(file->tensor("output_norm.weight")->dtype, DType::F32);  // norms stay f32 in every file type

    const auto file_size = std::filesystem::file_size(path);
    const uint8_t* lowest = nullptr;
    const uint8_t* highest_end = nullptr;
    for (const TensorView& t : file->tensors()) {
      ASSERT_NE(t.data, nullptr) << t.name;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 32, 0u) << t.name;  // the map is page aligned
      EXPECT_EQ(t.nbytes, *row_bytes(t.dtype, t.cols()) * size_t(t.rows())) << t.name;
      const uint8_t* p = static_cast<const uint8_t*>(t.data);
      if (lowest == nullptr || p < lowest) lowest = p;
      if (highest_end == nullptr || p + t.nbytes > highest_end) highest_end = p + t.nbytes;
    }
    EXPECT_LE(size_t(highest_end - lowest), file_size);
  }
}

// The llama converter stores llama3 rope scaling as per-frequency factors, and keeps an untied output.
TEST(Gguf, LlamaFixtureMetadataValues) {
  auto file = open_gguf_ok(shared_path("fixtures/gguf/llama.f32.gguf"));
  ASSERT_NE(file, nullptr);
  EXPECT_DOUBLE_EQ(*file->get_double("llama.rope.freq_base"), 500000.0);
  EXPECT_FLOAT_EQ(float(*file->get_double("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
  EXPECT_EQ(file->get_int("llama.rope.dimension_count"), 16);
  EXPECT_EQ(file->get_int("llama.vocab_size"), 512);
  EXPECT_EQ(file->find("llama.rope.freq_base")->type, GgufType::FLOAT32);
  EXPECT_EQ(shape_of(*file, "rope_freqs.weight"), (std::vector<int64_t>{8}));
  EXPECT_EQ(shape_of(*file, "output.weight"), (std::vector<int64_t>{512, 64}));
  auto scores = file->get_float_array("tokenizer.ggml.scores");
  ASSERT_TRUE(scores.is_ok()) << scores.message();
  EXPECT_EQ(scores->size(), 512u);
  auto types = file->get_int_array("tokenizer.ggml.token_type");
  ASSERT_TRUE(types.is_ok()) << types.message();
  EXPECT_EQ((*types)[0], 2);  // <unk>: UNKNOWN
  EXPECT_EQ((*types)[1], 3);  // <s>: CONTROL
  EXPECT_EQ((*types)[3], 6);  // <0x00>: BYTE
  // Type errors name the key.
  auto wrong = file->get_string_array("tokenizer.ggml.scores");
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_NE(wrong.message().find("tokenizer.ggml.scores"), std::string::npos);
  auto missing = file->get_float_array("no.such.key");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.message().find("no.such.key"), std::string::npos);
  EXPECT_FALSE(file->get_int("general.architecture").has_value());
  EXPECT_EQ(file->tensor("no.such.tensor"), nullptr);
}

TEST(Gguf, Gemma2FixtureKeepsSoftcapsAndBool) {
  auto file = open_gguf_ok(shared_path("fixtures/gguf/gemma2.bf16.gguf"));
  ASSERT_NE(file, nullptr);
  EXPECT_DOUBLE_EQ(*file->get_double("gemma2.attn_logit_softcapping"), 50.0);
  EXPECT_DOUBLE_EQ(*file->get_double("gemma2.final_logit_softcapping"), 30.0);
  EXPECT_EQ(file->get_int("gemma2.attention.sliding_window"), 8);
  EXPECT_EQ(file->get_bool("tokenizer.ggml.add_space_prefix"), false);
  EXPECT_EQ(file->find("tokenizer.ggml.add_space_prefix")->type, GgufType::BOOL);
  EXPECT_EQ(file->tensor("output.weight"), nullptr);  // tied embeddings: no separate output
}

// The values stories260K's README lists (checked there with an independent parser).
TEST(Gguf, Stories260KMatchesReadme) {
  auto file = open_gguf_ok(shared_path("models/stories260K/stories260K.gguf"));
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->version(), 3u);
  EXPECT_EQ(file->tensors().size(), 48u);
  EXPECT_EQ(file->metadata().size(), 19u);
  EXPECT_EQ(file->alignment(), 32u);
  EXPECT_EQ(file->get_string("general.architecture"), "llama");
  EXPECT_EQ(file->get_int("llama.embedding_length"), 64);
  EXPECT_EQ(file->get_int("llama.feed_forward_length"), 172);
  EXPECT_EQ(file->get_int("llama.block_count"), 5);
  EXPECT_EQ(file->get_int("llama.attention.head_count"), 8);
  EXPECT_EQ(file->get_int("llama.attention.head_count_kv"), 4);
  EXPECT_EQ(file->get_int("llama.rope.dimension_count"), 8);
  EXPECT_EQ(file->get_int("llama.context_length"), 2048);
  EXPECT_NEAR(*file->get_double("llama.attention.layer_norm_rms_epsilon"), 1e-5, 1e-12);
  EXPECT_EQ(file->find("llama.rope.freq_base"), nullptr);
  EXPECT_EQ(file->find("tokenizer.ggml.pre"), nullptr);
  EXPECT_EQ(file->find("tokenizer.ggml.add_bos_token"), nullptr);
  EXPECT_EQ(file->get_string("tokenizer.ggml.model"), "llama");
  auto tokens = file->get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.is_ok()) << tokens.message();
  ASSERT_EQ(tokens->size(), 512u);
  EXPECT_EQ((*tokens)[0], "<unk>");
  EXPECT_EQ((*tokens)[1], "<s>");
  EXPECT_EQ((*tokens)[2], "</s>");
  EXPECT_EQ((*tokens)[3], "<0x00>");
  EXPECT_EQ((*tokens)[258], "<0xFF>");
  EXPECT_TRUE(file->get_float_array("tokenizer.ggml.scores").is_ok());
  EXPECT_TRUE(file->find("tokenizer.ggml.token_type") != nullptr);

  // README shapes are ggml's ne[] (innermost first); ours are row-major.
  EXPECT_EQ(shape_of(*file, "token_embd.weight"), (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(shape_of(*file, "output_norm.weight"), (std::vector<int64_t>{64}));
  EXPECT_EQ(shape_of(*file, "output.weight"), (std::vector<int64_t>{512, 64}));
  for (int layer = 0; layer < 5; ++layer) {
    const std::string p = "blk." + std::to_string(layer) + ".";
    EXPECT_EQ(shape_of(*file, p + "attn_q.weight"), (std::vector<int64_t>{64, 64}));
    EXPECT_EQ(shape_of(*file, p + "attn_k.weight"), (std::vector<int64_t>{32, 64}));
    EXPECT_EQ(shape_of(*file, p + "attn_v.weight"), (std::vector<int64_t>{32, 64}));
    EXPECT_EQ(shape_of(*file, p + "attn_output.weight"), (std::vector<int64_t>{64, 64}));
    EXPECT_EQ(shape_of(*file, p + "attn_norm.weight"), (std::vector<int64_t>{64}));
    EXPECT_EQ(shape_of(*file, p + "ffn_gate.weight"), (std::vector<int64_t>{172, 64}));
    EXPECT_EQ(shape_of(*file, p + "ffn_up.weight"), (std::vector<int64_t>{172, 64}));
    EXPECT_EQ(shape_of(*file, p + "ffn_down.weight"), (std::vector<int64_t>{64, 172}));
    EXPECT_EQ(shape_of(*file, p + "ffn_norm.weight"), (std::vector<int64_t>{64}));
  }
  for (const TensorView& t : file->tensors()) EXPECT_EQ(t.dtype, DType::F32) << t.name;
  // output.weight is an explicit copy of the tied embedding: the views must reach the same bytes.
  const TensorView* embd = file->tensor("token_embd.weight");
  const TensorView* out = file->tensor("output.weight");
  ASSERT_EQ(embd->nbytes, 512u * 64 * 4);
  ASSERT_EQ(out->nbytes, embd->nbytes);
  EXPECT_EQ(std::memcmp(embd->data, out->data, embd->nbytes), 0);
  EXPECT_NE(embd->data, out->data);
  // Trained weights, not zeros or garbage: finite, and not all equal.
  const float* w = static_cast<const float*>(embd->data);
  float lo = w[0], hi = w[0];
  for (size_t k = 0; k < 512 * 64; ++k) {
    ASSERT_TRUE(std::isfinite(w[k]));
    lo = std::min(lo, w[k]);
    hi = std::max(hi, w[k]);
  }
  EXPECT_LT(lo, hi);
}

// Vocab-only files end right after the metadata, with no padding for a data section.
TEST(Gguf, VocabOnlyFiles) {
  auto spm = open_gguf_ok(shared_path("models/vocab/ggml-vocab-llama-spm.gguf"));
  ASSERT_NE(spm, nullptr);
  EXPECT_TRUE(spm->tensors().empty());
  auto spm_tokens = spm->get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(spm_tokens.is_ok()) << spm_tokens.message();
  EXPECT_EQ(spm_tokens->size(), 32000u);
  EXPECT_EQ(spm->get_float_array("tokenizer.ggml.scores")->size(), 32000u);
  EXPECT_EQ(spm->get_bool("tokenizer.ggml.add_bos_token"), true);
  EXPECT_EQ(spm->get_int("llama.vocab_size"), 32000);

  auto gpt2 = open_gguf_ok(shared_path("models/vocab/ggml-vocab-gpt-2.gguf"));
  ASSERT_NE(gpt2, nullptr);
  EXPECT_TRUE(gpt2->tensors().empty());
  auto tokens = gpt2->get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.is_ok());
  EXPECT_EQ(tokens->size(), 50257u);
  EXPECT_EQ((*tokens)[0], "!");
  auto merges = gpt2->get_string_array("tokenizer.ggml.merges");
  ASSERT_TRUE(merges.is_ok());
  EXPECT_EQ(merges->size(), 50000u);
  EXPECT_EQ((*merges)[0], "\xC4\xA0 t");  // "Ġ t"
  EXPECT_EQ(gpt2->get_string("tokenizer.ggml.pre"), "gpt-2");
  EXPECT_EQ(gpt2->get_int("tokenizer.ggml.bos_token_id"), 50256);
}

// Quantized tensors of every common block type, with their row-major shapes and byte sizes.
TEST(Gguf, QuantFixtureBlockTypes) {
  auto file = open_gguf_ok(shared_path("fixtures/quants/random-blocks.gguf"));
  ASSERT_NE(file, nullptr);
  const std::pair<const char*, DType> types[] = {
      {"Q4_0", DType::Q4_0}, {"Q4_1", DType::Q4_1}, {"Q5_0", DType::Q5_0}, {"Q5_1", DType::Q5_1},
      {"Q8_0", DType::Q8_0}, {"Q2_K", DType::Q2_K}, {"Q3_K", DType::Q3_K}, {"Q4_K", DType::Q4_K},
      {"Q5_K", DType::Q5_K}, {"Q6_K", DType::Q6_K}, {"IQ4_NL", DType::IQ4_NL}, {"IQ4_XS", DType::IQ4_XS},
  };
  EXPECT_EQ(file->tensors().size(), 24u);
  for (const auto& [name, dtype] : types) {
    const TensorView* q = file->tensor(std::string("q.") + name);
    const TensorView* ref = file->tensor(std::string("ref.") + name);
    ASSERT_NE(q, nullptr) << name;
    ASSERT_NE(ref, nullptr) << name;
    EXPECT_EQ(q->dtype, dtype);
    EXPECT_EQ(q->shape, (std::vector<int64_t>{4, 512}));
    const DTypeInfo info = dtype_info(dtype);
    EXPECT_EQ(q->nbytes, 4 * 512 / size_t(info.block_elems) * info.block_bytes) << name;
    EXPECT_EQ(ref->dtype, DType::F32);
    EXPECT_EQ(ref->nbytes, 4u * 512 * 4);
  }
}

}  // namespace
}  // namespace arbiter
