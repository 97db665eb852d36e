// RAII owners of the CUDA backend's device buffers, pinned host buffers,
// streams and events, shared by its .cpp files (hamming_gpu.cpp, pdq_gpu.cpp).
// Private to the CUDA backend: it includes cuda_runtime.h (via
// cuda_check.cuh), so public headers never include it.
#pragma once

#include <cuda_runtime.h>
#include <stddef.h>

#include "cuda_check.cuh"
#include "pdq_gpu.hpp"

namespace hm {
namespace cuda {

/// cudaMalloc'd array of T; freed without throwing.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  /// Makes room for n elements; the contents are lost when it grows.
  void reserve(size_t n) {
    if (n <= size_) return;
    reset();
    HM_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), sizeof(T) * n));
    size_ = n;
  }

  /// Makes room for n elements keeping the first `used`, copied on `stream`
  /// (which the caller synchronises before the old block would be reused).
  void reserve_keep(size_t n, size_t used, cudaStream_t stream) {
    if (n <= size_) return;
    T* grown = nullptr;
    HM_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&grown), sizeof(T) * n));
    if (used > 0) {
      const cudaError_t copied =
          cudaMemcpyAsync(grown, data_, sizeof(T) * used, cudaMemcpyDeviceToDevice, stream);
      const cudaError_t synced = copied == cudaSuccess ? cudaStreamSynchronize(stream) : copied;
      if (synced != cudaSuccess) {
        HM_CUDA_CHECK_NO_THROW(cudaFree(grown));
        HM_CUDA_CHECK(synced);
      }
    }
    reset();
    data_ = grown;
    size_ = n;
  }

  /// Frees the array (size 0).
  void reset() {
    if (data_) HM_CUDA_CHECK_NO_THROW(cudaFree(data_));
    data_ = nullptr;
    size_ = 0;
  }

  T* get() const { return data_; }
  size_t size() const { return size_; }
  size_t bytes() const { return sizeof(T) * size_; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

/// Page-locked host array of T (so copies are DMA, and asynchronous); freed
/// without throwing.
template <typename T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  ~PinnedBuffer() { reset(); }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  /// Makes room for n elements; the contents are lost when it grows.
  void reserve(size_t n) {
    if (n <= size_) return;
    reset();
    HM_CUDA_CHECK(
        cudaHostAlloc(reinterpret_cast<void**>(&data_), sizeof(T) * n, cudaHostAllocDefault));
    size_ = n;
  }

  /// Frees the array (size 0).
  void reset() {
    if (data_) HM_CUDA_CHECK_NO_THROW(cudaFreeHost(data_));
    data_ = nullptr;
    size_ = 0;
  }

  T* get() const { return data_; }
  size_t size() const { return size_; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

/// Owns a non-blocking stream on the current device.
class Stream {
 public:
  Stream() { HM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  ~Stream() { HM_CUDA_CHECK_NO_THROW(cudaStreamDestroy(stream_)); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

/// Owns an event (timing enabled) on the current device.
class Event {
 public:
  Event() { HM_CUDA_CHECK(cudaEventCreate(&event_)); }
  ~Event() { HM_CUDA_CHECK_NO_THROW(cudaEventDestroy(event_)); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_ = nullptr;
};

/// Milliseconds between two recorded events (both must have completed).
inline double elapsed_ms(const Event& start, const Event& stop) {
  float ms = 0.0f;
  HM_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
  return ms;
}

/// Device `index` as described by the runtime's properties `p`.
inline CudaDeviceInfo device_info_of(int index, const cudaDeviceProp& p) {
  CudaDeviceInfo info;
  info.index = index;
  info.name = p.name;
  info.compute_major = p.major;
  info.compute_minor = p.minor;
  info.multiprocessors = p.multiProcessorCount;
  info.memory_bytes = p.totalGlobalMem;
  return info;
}

}  // namespace cuda
}  // namespace hm
