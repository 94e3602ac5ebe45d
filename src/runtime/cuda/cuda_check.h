// CUDA and cuBLAS return codes as arbiter Statuses: every call is checked, and a failed one names the call.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "core/status.h"
#include "runtime/cuda/cublas_api.h"

namespace arbiter::cuda {

inline Status cuda_status(cudaError_t code, const char* what) {
  if (code == cudaSuccess) return Status::ok();
  // A failed call also leaves its error as the thread's "last error", which the next launch check would
  // report as its own (an out-of-memory batch would fail the request after it too). Clearing it here
  // loses nothing: a sticky error (an illegal address) stays whatever is done.
  cudaGetLastError();
  return error(std::string("CUDA: ") + what + ": " + cudaGetErrorName(code) + " (" + cudaGetErrorString(code) + ")");
}

// A failed call was made through cublas_api(), so the library is loaded and can name the code.
inline Status cublas_status(cublasStatus_t code, const char* what) {
  if (code == CUBLAS_STATUS_SUCCESS) return Status::ok();
  const Result<const CublasApi*> api = cublas_api();
  const std::string name = api.is_ok() ? (*api)->status_string(code) : "status " + std::to_string(int(code));
  return error(std::string("cuBLAS: ") + what + ": " + name);
}

}  // namespace arbiter::cuda

#define ARB_CUDA(call) ARB_TRY(::arbiter::cuda::cuda_status((call), #call))
#define ARB_CUBLAS(call) ARB_TRY(::arbiter::cuda::cublas_status((call), #call))
