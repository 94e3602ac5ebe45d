// Per-layer score-token logits (the logit lens LAGER reads) against the references: the normed lens must
// equal `lens_logits_last` (transformers' lm_head(final_norm(layerJ)) at the last position), the raw lens
// must equal the LM head applied in double precision to the reference's own layer states.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "io/safetensors.h"
#include "model/model.h"
#include "runtime/backend.h"
#include "../support/shared_dir.h"

namespace arbiter {
namespace {

using arbiter::testing::kShared;

std::vector<float> floats(const TensorView& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  dequantize_row(t.dtype, t.data, v.data(), t.numel());
  return v;
}

class LensParity : public ::testing::TestWithParam<std::string> {};

TEST_P(LensParity, LayerLogitsMatchReferenceStates) {
  const std::string dir = kShared + "/fixtures/hf/" + GetParam();
  auto model = load_model(dir);
  ASSERT_TRUE(model.is_ok()) << model.message();
  auto ref = SafetensorsFile::open(dir + "/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  const ModelConfig& c = (*model)->config;
  const int64_t d = c.hidden_size, layers = c.num_layers;
  const std::vector<int32_t> ids = {5, 17, 100, 256, 511};  // score tokens chosen by id
  const std::vector<float> lm_head = floats((*model)->lm_head);
  auto backend = make_cpu_backend(*model);

  for (int s = 0; s < 3; ++s) {
    const std::string prefix = "seq" + std::to_string(s) + ".";
    const TensorView* ids_view = (*ref)->tensor(prefix + "input_ids");
    ASSERT_NE(ids_view, nullptr);
    SequenceInput seq;
    const auto* tokens = static_cast<const int32_t*>(ids_view->data);
    seq.tokens.assign(tokens, tokens + ids_view->numel());
    const int64_t t = int64_t(seq.tokens.size());
    const std::vector<float> lens_ref = floats(*(*ref)->tensor(prefix + "lens_logits_last"));  // [L+1, vocab]

    for (Lens lens : {Lens::kNormed, Lens::kRaw}) {
      ForwardOptions options;
      for (int32_t l = 0; l <= layers; ++l) options.capture_layers.push_back(l);
      options.logit_token_ids = ids;
      options.layer_logits = true;
      options.lens = lens;
      auto out = backend->forward({seq}, options);
      ASSERT_TRUE(out.is_ok()) << out.message();
      const std::vector<float>& got = (*out)[0].layer_logits;  // [L+1, 1, K]
      ASSERT_EQ(got.size(), size_t((layers + 1) * int64_t(ids.size())));
      for (int64_t l = 0; l <= layers; ++l) {
        std::vector<double> expected(ids.size());
        if (lens == Lens::kNormed || l == layers) {
          for (size_t k = 0; k < ids.size(); ++k) expected[k] = lens_ref[size_t(l * c.vocab_size + ids[k])];
        } else {
          const std::vector<float> state = floats(*(*ref)->tensor(prefix + "layer" + std::to_string(l)));
          for (size_t k = 0; k < ids.size(); ++k) {
            double acc = 0;
            for (int64_t i = 0; i < d; ++i) acc += double(lm_head[size_t(ids[k] * d + i)]) * state[size_t((t - 1) * d + i)];
            expected[k] = acc;
          }
        }
        double max_ref = 0, max_diff = 0;
        for (size_t k = 0; k < ids.size(); ++k) {
          max_ref = std::max(max_ref, std::fabs(expected[k]));
          max_diff = std::max(max_diff, std::fabs(expected[k] - got[size_t(l) * ids.size() + k]));
        }
        EXPECT_LE(max_diff / max_ref, 1e-4) << GetParam() << " " << prefix << " layer " << l
                                            << (lens == Lens::kRaw ? " raw" : " normed");
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(CausalFixtures, LensParity,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3", "gemma2"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace arbiter
