// cuBLAS, loaded when the CUDA backend first needs it instead of when the program starts. Linked, the
// library (with cuBLASLt, which it loads) runs static initializers for about 0.4 s at every start: every
// command paid that, on the CPU too, and `arbiter --version` took 0.43 s instead of 0.05 s.
//
// The library is looked for by its soname (libcublas.so.<major> of the toolkit built against, so the
// loader's path and LD_LIBRARY_PATH apply, as for a pip-installed nvidia-cublas), then in the toolkit's
// library folder at build time.
#pragma once

#include <cublas_v2.h>

#include "core/status.h"

namespace arbiter::cuda {

// The few entry points the backend uses (cublas_v2.h maps cublasCreate to cublasCreate_v2, and so on).
struct CublasApi {
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasDestroy_v2) destroy = nullptr;
  decltype(&cublasSetStream_v2) set_stream = nullptr;
  // Spelled out: C++ builds see a second cublasGemmEx overload (a compatibility wrapper).
  cublasStatus_t (*gemm_ex)(cublasHandle_t, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
                            const void* alpha, const void* a, cudaDataType a_type, int lda, const void* b,
                            cudaDataType b_type, int ldb, const void* beta, void* c, cudaDataType c_type, int ldc,
                            cublasComputeType_t compute, cublasGemmAlgo_t algo) = nullptr;
  decltype(&cublasGetStatusString) status_string = nullptr;
};

// Loads the library on the first call; later calls return the same table, or the same error (which
// names the files tried and the loader's reason).
Result<const CublasApi*> cublas_api();

}  // namespace arbiter::cuda
