#include "runtime/cuda/gemm.h"

#include <algorithm>
#include <vector>

#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/device_buffer.h"

namespace arbiter::cuda {

Status gemm_bf16(cublasHandle_t handle, const bf16* w, int64_t out, int64_t in, const bf16* x, int64_t n, void* y,
                 bool y_bf16) {
  if (n == 0 || out == 0) return Status::ok();
  // cuBLAS is column-major: y^T [out, n] = w [out, in] (stored as in x out column-major, so transposed) times
  // x^T [in, n] (x row-major is x^T column-major). The "TN" case, cuBLAS's fastest for these shapes.
  const float alpha = 1.0f, beta = 0.0f;
  ARB_ASSIGN(const CublasApi* cublas, cublas_api());
  ARB_CUBLAS(cublas->gemm_ex(handle, CUBLAS_OP_T, CUBLAS_OP_N, int(out), int(n), int(in), &alpha, w, CUDA_R_16BF, int(in), x,
                             CUDA_R_16BF, int(in), &beta, y, y_bf16 ? CUDA_R_16BF : CUDA_R_32F, int(out),
                             CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  return Status::ok();
}

Result<double> gemm_tflops(int64_t n, int repeats) {
  if (n <= 0 || repeats <= 0) return error("GEMM size and repeats must be positive");
  const size_t count = size_t(n) * size_t(n);
  DeviceBuffer a, b, c;
  ARB_TRY(a.reserve(count * sizeof(bf16)));
  ARB_TRY(b.reserve(count * sizeof(bf16)));
  ARB_TRY(c.reserve(count * sizeof(bf16)));
  // Random operands: zeros run measurably faster than real data.
  ARB_CUDA(fill_random_bf16(a.as<bf16>(), int64_t(count), 0.0f, 1.0f, 1, nullptr));
  ARB_CUDA(fill_random_bf16(b.as<bf16>(), int64_t(count), 0.0f, 1.0f, 2, nullptr));
  ARB_ASSIGN(const CublasApi* cublas, cublas_api());
  cublasHandle_t handle = nullptr;
  ARB_CUBLAS(cublas->create(&handle));
  cudaEvent_t start = nullptr, stop = nullptr;
  std::vector<double> seconds;
  Status status = [&]() -> Status {
    ARB_CUDA(cudaEventCreate(&start));
    ARB_CUDA(cudaEventCreate(&stop));
    for (int i = 0; i < 3; ++i) ARB_TRY(gemm_bf16(handle, a.as<bf16>(), n, n, b.as<bf16>(), n, c.as<bf16>(), true));
    for (int i = 0; i < repeats; ++i) {
      ARB_CUDA(cudaEventRecord(start));
      ARB_TRY(gemm_bf16(handle, a.as<bf16>(), n, n, b.as<bf16>(), n, c.as<bf16>(), true));
      ARB_CUDA(cudaEventRecord(stop));
      ARB_CUDA(cudaEventSynchronize(stop));
      float ms = 0;
      ARB_CUDA(cudaEventElapsedTime(&ms, start, stop));
      seconds.push_back(double(ms) / 1e3);
    }
    return Status::ok();
  }();
  if (start) cudaEventDestroy(start);
  if (stop) cudaEventDestroy(stop);
  cublas->destroy(handle);
  ARB_TRY(status);
  std::sort(seconds.begin(), seconds.end());
  return 2.0 * double(n) * double(n) * double(n) / seconds[seconds.size() / 2] / 1e12;
}

}  // namespace arbiter::cuda
