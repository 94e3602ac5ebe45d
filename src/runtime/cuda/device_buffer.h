// An owned block of device memory (cudaMalloc; never managed memory), grown on demand.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "runtime/cuda/cuda_check.h"

namespace arbiter::cuda {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() {
    if (ptr_) cudaFree(ptr_);
  }
  DeviceBuffer(DeviceBuffer&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    std::swap(ptr_, other.ptr_);
    std::swap(bytes_, other.bytes_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // At least `bytes` of storage; the old contents are not kept when it grows.
  Status reserve(size_t bytes) {
    if (bytes <= bytes_) return Status::ok();
    if (ptr_) ARB_CUDA(cudaFree(ptr_));
    ptr_ = nullptr;
    bytes_ = 0;
    ARB_CUDA(cudaMalloc(&ptr_, bytes));
    bytes_ = bytes;
    return Status::ok();
  }

  template <typename T>
  T* as() const { return static_cast<T*>(ptr_); }
  bool empty() const { return ptr_ == nullptr; }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace arbiter::cuda
