#include "index_flat.hpp"

#include <stdexcept>
#include <string>
#include <type_traits>

namespace hm {

FlatIndex::FlatIndex(int d, PopcountKernel kernel)
    : BruteForceIndex(d, "FlatIndex"), kernel_(kernel) {
  if (!popcount_kernel_supported(kernel)) {
    throw std::invalid_argument(std::string("FlatIndex: this CPU cannot run the ") +
                                popcount_kernel_name(kernel) + " kernel");
  }
}

void FlatIndex::search_within(idx_t n, const uint8_t* x, int max_distance,
                              HammingRangeResult& hits) const {
  hamming_range_cpu(x, static_cast<size_t>(n), codes(), static_cast<size_t>(ntotal),
                    max_distance, hits, kernel_);
}

void FlatIndex::search_knn(idx_t n, const uint8_t* x, idx_t k, int32_t* distances,
                           idx_t* labels) const {
  static_assert(std::is_same<idx_t, int64_t>::value, "FAISS labels are int64_t");
  hamming_knn_cpu(x, static_cast<size_t>(n), codes(), static_cast<size_t>(ntotal),
                  static_cast<size_t>(k), distances, labels, kernel_);
}

}  // namespace hm
