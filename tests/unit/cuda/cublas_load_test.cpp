// cuBLAS is opened when the CUDA backend starts, not when the program does (linked, its initializers
// cost every command 0.4 s): it must load where the toolkit is, GPU or not, and the program must not
// depend on it at start.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "runtime/device.h"

namespace arbiter {
namespace {

TEST(CudaLibraries, CublasLoadsWhenAsked) {
  if (!cuda_compiled()) GTEST_SKIP() << "this build has no CUDA support (ARBITER_CUDA=OFF)";
  const Status loaded = load_cuda_libraries();
  EXPECT_TRUE(loaded.is_ok()) << loaded.message();
}

TEST(CudaLibraries, TheProgramDoesNotLoadCublasAtStart) {
  // The GPU check runs this binary away from the build that made it.
  if (!std::filesystem::exists(ARBITER_BINARY)) GTEST_SKIP() << ARBITER_BINARY << " is not here";
  FILE* pipe = ::popen(("ldd " + std::string(ARBITER_BINARY) + " 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string libraries;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) libraries.append(buf, n);
  ASSERT_EQ(::pclose(pipe), 0) << libraries;
  ASSERT_NE(libraries.find("libc.so"), std::string::npos) << libraries;  // ldd did list the libraries
  EXPECT_EQ(libraries.find("libcublas"), std::string::npos) << libraries;
}

}  // namespace
}  // namespace arbiter
