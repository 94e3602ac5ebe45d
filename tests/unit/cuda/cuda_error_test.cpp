// A CUDA call that fails leaves its error as the thread's "last error", which the next kernel launch's
// check would report as its own: after one out-of-memory batch, the next request would fail too. The
// check that turns a failed call into a Status clears it. Needs a GPU: without a driver, every runtime
// call answers "insufficient driver" again, cudaGetLastError included.
#include <gtest/gtest.h>

#include "cuda_test_util.h"

#ifdef ARBITER_HAVE_CUDA
#include "runtime/cuda/cuda_check.h"
#endif

namespace arbiter {
namespace {

#ifdef ARBITER_HAVE_CUDA
TEST(CudaErrors, AFailedCallDoesNotLeaveItsErrorForTheNext) {
  ARBITER_SKIP_WITHOUT_GPU();
  void* ptr = nullptr;
  const Status failed = cuda::cuda_status(cudaMalloc(&ptr, size_t(1) << 60), "cudaMalloc(1 EiB)");
  ASSERT_FALSE(failed.is_ok());
  EXPECT_NE(failed.message().find("cudaMalloc(1 EiB)"), std::string::npos) << failed.message();
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}
#else
TEST(CudaErrors, AFailedCallDoesNotLeaveItsErrorForTheNext) { GTEST_SKIP() << "this build has no CUDA support"; }
#endif

}  // namespace
}  // namespace arbiter
