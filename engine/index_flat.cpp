#include "index_flat.hpp"

#include <faiss/impl/AuxIndexStructures.h>
#include <string.h>

#include <stdexcept>
#include <string>
#include <type_traits>

#include "hamming.hpp"

namespace hm {

namespace {

/// Checked before faiss::IndexBinary's constructor, which would throw its own
/// exception type for some bad values and accept others.
int checked_dimension(int d) {
  if (d != 8 * kHash256Bytes) {
    throw std::invalid_argument("FlatIndex: d must be 256, got " + std::to_string(d));
  }
  return d;
}

void check_no_params(const faiss::SearchParameters* params) {
  if (params != nullptr) throw std::invalid_argument("FlatIndex: search parameters not supported");
}

void check_count(faiss::IndexBinary::idx_t n, const char* what) {
  if (n < 0) throw std::invalid_argument(std::string("FlatIndex: negative ") + what);
}

}  // namespace

FlatIndex::FlatIndex(int d, PopcountKernel kernel)
    : faiss::IndexBinary(checked_dimension(d)), kernel_(kernel) {
  if (!popcount_kernel_supported(kernel)) {
    throw std::invalid_argument(std::string("FlatIndex: this CPU cannot run the ") +
                                popcount_kernel_name(kernel) + " kernel");
  }
}

void FlatIndex::add(idx_t n, const uint8_t* x) {
  check_count(n, "add count");
  if (n == 0) return;
  codes_.insert(codes_.end(), x, x + static_cast<size_t>(n) * kHash256Bytes);
  ntotal += n;
}

void FlatIndex::reset() {
  codes_.clear();
  codes_.shrink_to_fit();
  ntotal = 0;
}

void FlatIndex::search(idx_t n, const uint8_t* x, idx_t k, int32_t* distances, idx_t* labels,
                       const faiss::SearchParameters* params) const {
  check_no_params(params);
  check_count(n, "query count");
  if (k <= 0) throw std::invalid_argument("FlatIndex: k must be positive");
  static_assert(std::is_same<idx_t, int64_t>::value, "FAISS labels are int64_t");
  hamming_knn_cpu(x, static_cast<size_t>(n), codes_.data(), static_cast<size_t>(ntotal),
                  static_cast<size_t>(k), distances, labels, kernel_);
}

void FlatIndex::range_search(idx_t n, const uint8_t* x, int radius,
                             faiss::RangeSearchResult* result,
                             const faiss::SearchParameters* params) const {
  check_no_params(params);
  check_count(n, "query count");
  if (result == nullptr || result->nq != static_cast<size_t>(n) || result->lims == nullptr) {
    throw std::invalid_argument("FlatIndex: range_search needs a RangeSearchResult for n queries");
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

void FlatIndex::reconstruct(idx_t key, uint8_t* recons) const {
  if (key < 0 || key >= ntotal) {
    throw std::out_of_range("FlatIndex: no code " + std::to_string(key));
  }
  memcpy(recons, codes_.data() + static_cast<size_t>(key) * kHash256Bytes, kHash256Bytes);
}

void FlatIndex::reconstruct_n(idx_t i0, idx_t ni, uint8_t* recons) const {
  if (i0 < 0 || ni < 0 || i0 > ntotal || ni > ntotal - i0) {
    throw std::out_of_range("FlatIndex: codes " + std::to_string(i0) + " + " + std::to_string(ni) +
                            " past " + std::to_string(ntotal));
  }
  if (ni == 0) return;
  memcpy(recons, codes_.data() + static_cast<size_t>(i0) * kHash256Bytes,
         static_cast<size_t>(ni) * kHash256Bytes);
}

HammingRangeResult FlatIndex::range_search_within(idx_t n, const uint8_t* x,
                                                  int max_distance) const {
  check_count(n, "query count");
  HammingRangeResult hits;
  hamming_range_cpu(x, static_cast<size_t>(n), codes_.data(), static_cast<size_t>(ntotal),
                    max_distance, hits, kernel_);
  return hits;
}

}  // namespace hm
