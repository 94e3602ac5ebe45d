#include "runtime/cuda/cublas_api.h"

#include <dlfcn.h>

#include <type_traits>
#include <string>
#include <vector>

namespace arbiter::cuda {

namespace {

#define ARBITER_STRINGIFY_(x) #x
#define ARBITER_STRINGIFY(x) ARBITER_STRINGIFY_(x)

struct Loaded {
  CublasApi api;
  std::string error;  // empty when loaded
};

// Opens the library and finds every entry point; the handle is kept for the life of the process.
Loaded load() {
  Loaded loaded;
  std::vector<std::string> candidates{"libcublas.so." ARBITER_STRINGIFY(CUBLAS_VER_MAJOR)};
#ifdef ARBITER_CUDA_LIBRARY_DIR
  candidates.push_back(std::string(ARBITER_CUDA_LIBRARY_DIR) + "/libcublas.so." ARBITER_STRINGIFY(CUBLAS_VER_MAJOR));
#endif
  void* library = nullptr;
  std::string reasons;
  for (const std::string& name : candidates) {
    library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (library != nullptr) break;
    const char* reason = dlerror();
    reasons += "\n  " + name + ": " + (reason != nullptr ? reason : "not found");
  }
  if (library == nullptr) {
    loaded.error = "cannot load cuBLAS (the CUDA toolkit's, or the nvidia-cublas package's; put its folder on "
                   "LD_LIBRARY_PATH):" + reasons;
    return loaded;
  }
  auto find = [&](auto& entry, const char* symbol) {
    entry = reinterpret_cast<std::remove_reference_t<decltype(entry)>>(dlsym(library, symbol));
    if (entry == nullptr && loaded.error.empty()) loaded.error = std::string("cuBLAS has no '") + symbol + "'";
  };
  find(loaded.api.create, "cublasCreate_v2");
  find(loaded.api.destroy, "cublasDestroy_v2");
  find(loaded.api.set_stream, "cublasSetStream_v2");
  find(loaded.api.gemm_ex, "cublasGemmEx");
  find(loaded.api.status_string, "cublasGetStatusString");
  return loaded;
}

const Loaded& loaded_once() {
  static const Loaded loaded = load();  // thread-safe, once
  return loaded;
}

}  // namespace

Result<const CublasApi*> cublas_api() {
  const Loaded& loaded = loaded_once();
  if (!loaded.error.empty()) return error(loaded.error);
  return &loaded.api;
}

}  // namespace arbiter::cuda
