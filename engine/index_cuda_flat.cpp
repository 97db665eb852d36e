#include "index_cuda_flat.hpp"

namespace hm {

CudaFlatIndex::CudaFlatIndex(int d, const HammingGpuOptions& options)
    : BruteForceIndex(d, "CudaFlatIndex"), gpu_(options) {}

void CudaFlatIndex::on_add(idx_t n, const uint8_t* x) {
  std::lock_guard<std::mutex> lock(mutex_);
  gpu_.add_references(x, static_cast<size_t>(n));
}

void CudaFlatIndex::on_reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  gpu_.clear_references();
}

void CudaFlatIndex::search_knn(idx_t n, const uint8_t* x, idx_t k, int32_t* distances,
                               idx_t* labels) const {
  static_assert(sizeof(idx_t) == sizeof(int64_t), "FAISS labels are 64-bit");
  std::lock_guard<std::mutex> lock(mutex_);
  gpu_.knn(x, static_cast<size_t>(n), static_cast<size_t>(k), distances,
           reinterpret_cast<int64_t*>(labels));
}

void CudaFlatIndex::search_within(idx_t n, const uint8_t* x, int max_distance,
                                  HammingRangeResult& hits) const {
  std::lock_guard<std::mutex> lock(mutex_);
  gpu_.range(x, static_cast<size_t>(n), max_distance, hits);
}

size_t CudaFlatIndex::device_memory_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return gpu_.device_bytes();
}

HammingGpuTiming CudaFlatIndex::last_timing() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return gpu_.last_timing();
}

}  // namespace hm
