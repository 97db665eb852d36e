#include "index_cuda_flat.hpp"

#include <faiss/impl/AuxIndexStructures.h>
#include <string.h>

#include <stdexcept>
#include <string>

#include "hamming.hpp"

namespace hm {

namespace {

/// Checked before faiss::IndexBinary's constructor, which would throw its own
/// exception type for some bad values and accept others.
int checked_dimension(int d) {
  if (d != 8 * kHash256Bytes) {
    throw std::invalid_argument("CudaFlatIndex: d must be 256, got " + std::to_string(d));
  }
  return d;
}

void check_no_params(const faiss::SearchParameters* params) {
  if (params != nullptr)
    throw std::invalid_argument("CudaFlatIndex: search parameters not supported");
}

void check_count(faiss::IndexBinary::idx_t n, const char* what) {
  if (n < 0) throw std::invalid_argument(std::string("CudaFlatIndex: negative ") + what);
}

}  // namespace

CudaFlatIndex::CudaFlatIndex(int d, const HammingGpuOptions& options)
    : faiss::IndexBinary(checked_dimension(d)), gpu_(options) {}

void CudaFlatIndex::add(idx_t n, const uint8_t* x) {
  check_count(n, "add count");
  if (n == 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  // Device first: if it fails (out of memory, too many codes), the host copy
  // and ntotal stay as they were.
  gpu_.add_references(x, static_cast<size_t>(n));
  codes_.insert(codes_.end(), x, x + static_cast<size_t>(n) * kHash256Bytes);
  ntotal += n;
}

void CudaFlatIndex::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  gpu_.clear_references();
  codes_.clear();
  codes_.shrink_to_fit();
  ntotal = 0;
}

void CudaFlatIndex::search(idx_t n, const uint8_t* x, idx_t k, int32_t* distances, idx_t* labels,
                           const faiss::SearchParameters* params) const {
  check_no_params(params);
  check_count(n, "query count");
  if (k <= 0) throw std::invalid_argument("CudaFlatIndex: k must be positive");
  static_assert(sizeof(idx_t) == sizeof(int64_t), "FAISS labels are 64-bit");
  std::lock_guard<std::mutex> lock(mutex_);
  gpu_.knn(x, static_cast<size_t>(n), static_cast<size_t>(k), distances,
           reinterpret_cast<int64_t*>(labels));
}

void CudaFlatIndex::range_search(idx_t n, const uint8_t* x, int radius,
                                 faiss::RangeSearchResult* result,
                                 const faiss::SearchParameters* params) const {
  check_no_params(params);
  check_count(n, "query count");
  if (result == nullptr || result->nq != static_cast<size_t>(n) || result->lims == nullptr) {
    throw std::invalid_argument(
        "CudaFlatIndex: range_search needs a RangeSearchResult for n queries");
  }
  // FAISS counts a hit when distance < radius; hm's kernels take <=.
  const HammingRangeResult hits = range_search_within(n, x, radius > 0 ? radius - 1 : -1);
  for (size_t i = 0; i < result->nq; ++i) result->lims[i] = hits.lims[i + 1] - hits.lims[i];
  result->do_allocation();
  for (size_t j = 0; j < hits.labels.size(); ++j) {
    result->labels[j] = hits.labels[j];
    result->distances[j] = static_cast<float>(hits.distances[j]);
  }
}

void CudaFlatIndex::reconstruct(idx_t key, uint8_t* recons) const {
  if (key < 0 || key >= ntotal) {
    throw std::out_of_range("CudaFlatIndex: no code " + std::to_string(key));
  }
  memcpy(recons, codes_.data() + static_cast<size_t>(key) * kHash256Bytes, kHash256Bytes);
}

void CudaFlatIndex::reconstruct_n(idx_t i0, idx_t ni, uint8_t* recons) const {
  if (i0 < 0 || ni < 0 || i0 > ntotal || ni > ntotal - i0) {
    throw std::out_of_range("CudaFlatIndex: codes " + std::to_string(i0) + " + " +
                            std::to_string(ni) + " past " + std::to_string(ntotal));
  }
  if (ni == 0) return;
  memcpy(recons, codes_.data() + static_cast<size_t>(i0) * kHash256Bytes,
         static_cast<size_t>(ni) * kHash256Bytes);
}

HammingRangeResult CudaFlatIndex::range_search_within(idx_t n, const uint8_t* x,
                                                      int max_distance) const {
  check_count(n, "query count");
  HammingRangeResult hits;
  std::lock_guard<std::mutex> lock(mutex_);
  gpu_.range(x, static_cast<size_t>(n), max_distance, hits);
  return hits;
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
