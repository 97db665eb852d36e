// Exact brute-force index of 256-bit hashes: a faiss::IndexBinary that scans
// every stored code with hm's vectorised, multi-threaded kernels
// (kernels/hamming_cpu.hpp). FAISS's own IndexBinaryFlat is not used: the
// Debian build of FAISS counts bits without the POPCNT instruction.
#pragma once

#include <faiss/IndexBinary.h>
#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "hamming_cpu.hpp"

namespace hm {

/// Flat (exhaustive) binary index for d = 256. Codes are stored row-major,
/// 32 bytes each, labels are insertion order (0 .. ntotal - 1).
class FlatIndex : public faiss::IndexBinary {
 public:
  /// d must be 256 (std::invalid_argument otherwise). `kernel` is the
  /// popcount kernel searches run with (std::invalid_argument if this CPU
  /// cannot run it).
  explicit FlatIndex(int d = 256, PopcountKernel kernel = popcount_kernel_best());

  /// Appends n codes, row-major [n, 32] bytes; they get labels ntotal ..
  /// ntotal + n - 1.
  void add(idx_t n, const uint8_t* x) override;

  /// Removes every code.
  void reset() override;

  /// k-NN: for each of the n queries (row-major [n, 32] bytes) the k nearest
  /// codes, sorted by (distance, label) (ties go to the smaller label), into
  /// distances and labels, row-major [n, k]. Rows with fewer than k codes are
  /// padded with distance INT32_MAX and label -1. params must be null.
  void search(idx_t n, const uint8_t* x, idx_t k, int32_t* distances, idx_t* labels,
              const faiss::SearchParameters* params = nullptr) const override;

  /// FAISS's range search: every code at a distance STRICTLY below radius,
  /// per query in ascending label order. `result` must have been built for n
  /// queries with its lims allocated (faiss::RangeSearchResult(n)); its
  /// distances are the integer distances as floats. params must be null.
  void range_search(idx_t n, const uint8_t* x, int radius, faiss::RangeSearchResult* result,
                    const faiss::SearchParameters* params = nullptr) const override;

  /// Copies code `key` (32 bytes) into recons; std::out_of_range if key is
  /// not in [0, ntotal).
  void reconstruct(idx_t key, uint8_t* recons) const override;

  /// Copies codes i0 .. i0 + ni - 1 into recons, row-major [ni, 32] bytes.
  void reconstruct_n(idx_t i0, idx_t ni, uint8_t* recons) const override;

  /// hm's matching convention: every code within max_distance INCLUSIVE of
  /// each of the n queries (row-major [n, 32] bytes).
  HammingRangeResult range_search_within(idx_t n, const uint8_t* x, int max_distance) const;

  /// The stored codes, row-major [ntotal, 32] bytes.
  const uint8_t* codes() const { return codes_.data(); }

  /// Heap bytes held by the index (the code buffer's capacity).
  size_t memory_bytes() const { return codes_.capacity(); }

  /// The popcount kernel searches run with.
  PopcountKernel kernel() const { return kernel_; }

 private:
  std::vector<uint8_t> codes_;  // [ntotal, 32]
  PopcountKernel kernel_;
};

}  // namespace hm
