// Device selection: parsing --device, what auto resolves to, and the errors a build or machine without
// CUDA gives. Runs everywhere; the GPU itself is exercised by tests/unit/cuda.
#include <gtest/gtest.h>

#include "../../support/cli_helpers.h"
#include "model/random_model.h"
#include "runtime/device.h"

namespace arbiter {
namespace {

using arbiter::testing::run_arbiter;

TEST(Device, ParsesTheThreeNames) {
  EXPECT_EQ(*parse_device("cpu"), Device::kCpu);
  EXPECT_EQ(*parse_device("cuda"), Device::kCuda);
  EXPECT_EQ(*parse_device("auto"), Device::kAuto);
  for (const Device d : {Device::kCpu, Device::kCuda, Device::kAuto}) EXPECT_EQ(*parse_device(device_name(d)), d);
}

TEST(Device, RejectsOtherNamesSayingWhichAreKnown) {
  for (const char* bad : {"gpu", "CUDA", "", "cuda:0"}) {
    auto d = parse_device(bad);
    ASSERT_FALSE(d.is_ok()) << bad;
    EXPECT_NE(d.message().find("cpu, cuda, auto"), std::string::npos) << d.message();
  }
}

TEST(Device, CpuIsAlwaysCpu) { EXPECT_EQ(*resolve_device(Device::kCpu), Device::kCpu); }

TEST(Device, AutoIsCudaExactlyWhenBuiltAndPresent) {
  const bool present = cuda_compiled() && cuda_device_count() > 0;
  EXPECT_EQ(*resolve_device(Device::kAuto), present ? Device::kCuda : Device::kCpu);
  if (!cuda_compiled()) {
    EXPECT_EQ(cuda_device_count(), 0);
  }
}

TEST(Device, CudaWithoutCudaNamesTheReason) {
  if (cuda_compiled() && cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is present: nothing to refuse";
  auto resolved = resolve_device(Device::kCuda);
  ASSERT_FALSE(resolved.is_ok());
  const std::string expected = cuda_compiled() ? "no CUDA device found" : "this build has no CUDA support";
  EXPECT_NE(resolved.message().find(expected), std::string::npos) << resolved.message();

  auto config = shape_preset("tiny");
  ASSERT_TRUE(config.is_ok());
  auto model = make_random_model(*config, DType::F32, 1);
  ASSERT_TRUE(model.is_ok());
  auto backend = make_backend(*model, Device::kCuda);
  ASSERT_FALSE(backend.is_ok());
  EXPECT_NE(backend.message().find(expected), std::string::npos) << backend.message();
  EXPECT_FALSE(make_random_cuda_backend(*config, 1).is_ok());
  EXPECT_FALSE(cuda_gemm_tflops(256, 1).is_ok());
}

TEST(Device, FactoryMakesTheCpuBackend) {
  auto config = shape_preset("tiny");
  ASSERT_TRUE(config.is_ok());
  auto model = make_random_model(*config, DType::F32, 1);
  ASSERT_TRUE(model.is_ok());
  auto backend = make_backend(*model, Device::kCpu);
  ASSERT_TRUE(backend.is_ok()) << backend.message();
  EXPECT_EQ((*backend)->name(), "cpu");
}

TEST(DeviceCli, EveryModelCommandTakesDevice) {
  for (const char* command : {"forward", "score", "judge", "features", "serve", "bench"}) {
    const auto r = run_arbiter(std::string(command) + " --help");
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.out.find("--device"), std::string::npos) << command << ":\n" << r.out;
  }
}

TEST(DeviceCli, BadDeviceIsAnError) {
  const auto r = run_arbiter("bench --shape tiny --tokens 4 --device gpu");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("'gpu' is not one of cpu, cuda, auto"), std::string::npos) << r.out;
}

TEST(DeviceCli, CudaWithoutADeviceIsAnError) {
  if (cuda_compiled() && cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is present";
  const auto r = run_arbiter("bench --shape tiny --tokens 4 --device cuda");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find(cuda_compiled() ? "no CUDA device found" : "no CUDA support"), std::string::npos) << r.out;
}

TEST(DeviceCli, AutoRunsWhereverItCan) {
  const auto r = run_arbiter("bench --shape tiny --tokens 8 --repeat 1 --device auto");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("tokens/s"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace arbiter
