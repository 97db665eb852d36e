// Exact brute-force index of 256-bit hashes searched on a CUDA device
// (index type cuda-flat): a faiss::IndexBinary with FlatIndex's interface and
// answers, bit for bit, whose codes also live in device memory. CUDA-free; it
// is compiled into hm_cuda, so only CUDA builds have it.
#pragma once

#include <faiss/IndexBinary.h>
#include <stddef.h>
#include <stdint.h>

#include <mutex>
#include <vector>

#include "hamming_cpu.hpp"
#include "hamming_gpu.hpp"

namespace hm {

/// Flat (exhaustive) binary index for d = 256 on the GPU. Codes are stored
/// row-major, 32 bytes each, on the host (for reconstruct and saving) and on
/// the device (for searching); labels are insertion order (0 .. ntotal - 1).
/// Searches are serialised by a lock (the device search owns one stream).
class CudaFlatIndex : public faiss::IndexBinary {
 public:
  /// d must be 256 (std::invalid_argument otherwise). Binds to
  /// options.device: throws std::runtime_error when there is no such device.
  explicit CudaFlatIndex(int d = 256, const HammingGpuOptions& options = HammingGpuOptions{});

  /// Appends n codes, row-major [n, 32] bytes; they get labels ntotal ..
  /// ntotal + n - 1. At most 2^31 - 2 codes in all.
  void add(idx_t n, const uint8_t* x) override;

  /// Removes every code (and frees their device memory).
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

  /// The stored codes, row-major [ntotal, 32] bytes (the host copy).
  const uint8_t* codes() const { return codes_.data(); }

  /// Host heap bytes held by the index (the code buffer's capacity).
  size_t memory_bytes() const { return codes_.capacity(); }

  /// Device bytes held: the codes' device copy and the search scratch.
  size_t device_memory_bytes() const;

  /// Device timing of the last search on this index.
  HammingGpuTiming last_timing() const;

  /// The device searches run on.
  const CudaDeviceInfo& device() const { return gpu_.device(); }

 private:
  std::vector<uint8_t> codes_;  // [ntotal, 32]
  // Searching needs the device object's scratch, but faiss's search methods
  // are const: the lock makes concurrent const calls safe.
  mutable HammingGpuSearch gpu_;
  mutable std::mutex mutex_;
};

}  // namespace hm
