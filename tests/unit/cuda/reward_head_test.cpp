// Two-layer reward heads (Qwen2ForRewardModel, Qwen2ForProcessRewardModel) on the CUDA backend: the head
// runs on the host from the device's final-norm rows, so the scores must match the same head in double
// precision on the reference's float64 states within bf16's tolerance, at every position (a process reward
// model reads many), and the CPU backend's scores likewise.
#include <cstdio>

#include "../../support/reward_head_fixture.h"
#include "../../support/scratch_root.h"
#include "cuda_test_util.h"
#include "runtime/backend.h"

namespace arbiter {
namespace {

using namespace arbiter::reward_head_test;

TEST(CudaRewardHead, TwoLayerHeadsMatchTheReferenceAtEveryPosition) {
  ARBITER_SKIP_WITHOUT_GPU();
  auto ref = SafetensorsFile::open(qwen2_fixture() + "/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.message();
  const std::vector<SequenceInput> batch = testing::reference_sequences(**ref);
  for (const auto& [architecture, labels] : {std::pair<std::string, int64_t>{"Qwen2ForRewardModel", 1},
                                             {"Qwen2ForProcessRewardModel", 2}}) {
    const MlpHead head = random_head(64, labels, 17);
    const std::string dir = model_with_head(arbiter::test::scratch_root() / architecture, architecture, head);
    auto model = load_model(dir);
    ASSERT_TRUE(model.is_ok()) << model.message();
    auto gpu = make_backend(*model, Device::kCuda);
    ASSERT_TRUE(gpu.is_ok()) << gpu.message();
    ForwardOptions options;
    options.score_head = true;
    auto out = (*gpu)->forward(batch, options);
    ASSERT_TRUE(out.is_ok()) << out.message();
    double worst = 0;
    for (size_t s = 0; s < batch.size(); ++s) {
      const std::vector<float> states = testing::as_floats(*(*ref)->tensor("seq" + std::to_string(s) + ".final_norm"));
      const SequenceOutput& o = (*out)[s];
      ASSERT_EQ(o.scores.size(), batch[s].tokens.size() * size_t(labels));
      for (int64_t r = 0; r < o.num_reads; ++r) {
        std::vector<double> scale;
        const std::vector<double> expected = head_in_double(head, states.data() + r * 64, &scale);
        for (int64_t k = 0; k < labels; ++k)
          worst = std::max(worst, std::fabs(double(o.scores[size_t(r * labels + k)]) - expected[size_t(k)]) /
                                      scale[size_t(k)]);
      }
    }
    std::printf("[cuda reward head] %s: worst error %.3g of the terms' size\n", architecture.c_str(), worst);
    // bf16 GEMM inputs through three layers move the states by a few 1e-2 (fixture_parity_test.cpp).
    EXPECT_LE(worst, 6e-2) << architecture;
  }
}

}  // namespace
}  // namespace arbiter
