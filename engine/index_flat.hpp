// Exact brute-force index of 256-bit hashes: a faiss::IndexBinary that scans
// every stored code with hm's vectorised, multi-threaded kernels
// (kernels/hamming_cpu.hpp). FAISS's own IndexBinaryFlat is not used: the
// Debian build of FAISS counts bits without the POPCNT instruction.
#pragma once

#include "brute_force_index.hpp"
#include "hamming_cpu.hpp"

namespace hm {

/// Flat (exhaustive) binary index for d = 256. Codes are stored row-major,
/// 32 bytes each, labels are insertion order (0 .. ntotal - 1); adding,
/// reconstructing and FAISS's range_search come from BruteForceIndex.
class FlatIndex : public BruteForceIndex {
 public:
  /// d must be 256 (std::invalid_argument otherwise). `kernel` is the
  /// popcount kernel searches run with (std::invalid_argument if this CPU
  /// cannot run it).
  explicit FlatIndex(int d = 256, PopcountKernel kernel = popcount_kernel_best());

  /// The popcount kernel searches run with.
  PopcountKernel kernel() const { return kernel_; }

 protected:
  void search_within(idx_t n, const uint8_t* x, int max_distance,
                     HammingRangeResult& hits) const override;
  void search_knn(idx_t n, const uint8_t* x, idx_t k, int32_t* distances,
                  idx_t* labels) const override;

 private:
  PopcountKernel kernel_;
};

}  // namespace hm
