// Exact brute-force index of 256-bit hashes searched on a CUDA device
// (index type cuda-flat): a faiss::IndexBinary with FlatIndex's interface and
// answers, bit for bit, whose codes also live in device memory. CUDA-free; it
// is compiled into hm_cuda, so only CUDA builds have it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <mutex>

#include "brute_force_index.hpp"
#include "hamming_cpu.hpp"
#include "hamming_gpu.hpp"

namespace hm {

/// Flat (exhaustive) binary index for d = 256 on the GPU. Codes are stored
/// row-major, 32 bytes each, on the host (for reconstruct and saving) and on
/// the device (for searching); labels are insertion order (0 .. ntotal - 1).
/// At most 2^31 - 2 codes in all; reset also frees their device memory.
/// Searches are serialised by a lock (the device search owns one stream).
class CudaFlatIndex : public BruteForceIndex {
 public:
  /// d must be 256 (std::invalid_argument otherwise). Binds to
  /// options.device: throws std::runtime_error when there is no such device.
  explicit CudaFlatIndex(int d = 256, const HammingGpuOptions& options = HammingGpuOptions{});

  /// Device bytes held: the codes' device copy and the search scratch.
  size_t device_memory_bytes() const;

  /// Device timing of the last search on this index.
  HammingGpuTiming last_timing() const;

  /// The device searches run on.
  const CudaDeviceInfo& device() const { return gpu_.device(); }

 protected:
  void search_within(idx_t n, const uint8_t* x, int max_distance,
                     HammingRangeResult& hits) const override;
  void search_knn(idx_t n, const uint8_t* x, idx_t k, int32_t* distances,
                  idx_t* labels) const override;
  /// Device first: if it fails (out of memory, too many codes), the host copy
  /// and ntotal stay as they were.
  void on_add(idx_t n, const uint8_t* x) override;
  void on_reset() override;

 private:
  // Searching needs the device object's scratch, but faiss's search methods
  // are const: the lock makes concurrent const calls safe.
  mutable HammingGpuSearch gpu_;
  mutable std::mutex mutex_;
};

}  // namespace hm
