// Device selection: parsing --device, what auto resolves to, and the errors a build or machine without
// CUDA gives. Runs everywhere; the GPU itself is exercised by tests/unit/cuda.
#include <gtest/gtest.h>

#include "../../support/cli_helpers.h"
#include "model/random_model.h"
#include "runtime/device.h"

namespace arbiter {
namespace {

using arbiter::testing::run_arbiter;

TEST(Device, ParsesTheNames) {
  EXPECT_EQ(*parse_device("cpu"), Device::kCpu);
  EXPECT_EQ(*parse_device("cuda"), Device::kCuda);
  EXPECT_EQ(*parse_device("auto"), Device::kAuto);
  for (const Device d : {Device::kCpu, Device::kCuda, Device::kAuto}) EXPECT_EQ(*parse_device(device_name(d)), d);
  EXPECT_EQ(*parse_device("cuda:0"), DeviceChoice(Device::kCuda, 0));
  EXPECT_EQ(*parse_device("cuda:3"), DeviceChoice(Device::kCuda, 3));
  EXPECT_EQ(device_name(DeviceChoice(Device::kCuda, 3)), "cuda:3");
  EXPECT_EQ(*parse_device(device_name(DeviceChoice(Device::kCuda, 12))), DeviceChoice(Device::kCuda, 12));
}

TEST(Device, RejectsOtherNamesSayingWhichAreKnown) {
  for (const char* bad : {"gpu", "CUDA", "", "cuda:", "cuda:-1", "cuda:1x", "cuda: 1", "cpu:0", "cuda:99999999999"}) {
    auto d = parse_device(bad);
    ASSERT_FALSE(d.is_ok()) << bad;
    EXPECT_NE(d.message().find("cpu, cuda, cuda:N (a GPU index), auto"), std::string::npos) << d.message();
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

// A GPU index past those the runtime sees names how many it sees.
TEST(Device, AGpuIndexBeyondThoseSeenIsRefused) {
  const int count = cuda_device_count();
  auto resolved = resolve_device(DeviceChoice(Device::kCuda, count + 1));
  ASSERT_FALSE(resolved.is_ok());
  EXPECT_NE(resolved.message().find("--device cuda:" + std::to_string(count + 1)), std::string::npos) << resolved.message();
  if (count > 0) {
    EXPECT_NE(resolved.message().find("the CUDA runtime sees " + std::to_string(count)), std::string::npos)
        << resolved.message();
    EXPECT_EQ(*resolve_device(DeviceChoice(Device::kCuda, count - 1)), DeviceChoice(Device::kCuda, count - 1));
  }
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
  EXPECT_NE(r.out.find("'gpu' is not one of cpu, cuda, cuda:N (a GPU index), auto"), std::string::npos) << r.out;
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
