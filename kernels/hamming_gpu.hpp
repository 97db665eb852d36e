// Exact Hamming search of 256-bit hashes on a CUDA device: the public face of
// hamming_cuda.cu. CUDA-free (no cuda_runtime.h), so anything may include
// it; it is only built, and only linked (hm_cuda), when the build has CUDA
// (HM_HAS_CUDA).
//
// The results are those of the CPU twin (kernels/hamming_cpu.hpp), bit for
// bit: the same hits in the same order, the same top-k rows with the same
// tie order and padding.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <memory>

#include "hamming_cpu.hpp"
#include "pdq_gpu.hpp"

namespace hm {

/// How a HammingGpuSearch uses its device.
struct HammingGpuOptions {
  int device = 0;  ///< CUDA device index
  /// Queries per launch (at most 2^24). For the 8 dihedral variants of an
  /// image pass 8 rows: they share every reference tile within a launch.
  size_t max_queries_per_batch = 65536;
  /// Range search: device bytes for hits (8 bytes each, twice: found and
  /// sorted) a batch may use before it is split into smaller batches. A
  /// single query always gets room for all its hits.
  size_t max_hit_bytes = size_t(1) << 30;
  /// Top-k: most row entries (queries x k) per batch; each costs 16 device
  /// bytes (row and sorted row) plus the sort's scratch.
  size_t max_knn_entries = size_t(1) << 25;
};

/// Device time of the last range or knn call, from CUDA events.
struct HammingGpuTiming {
  /// From before the first query upload to after the last result came back
  /// (includes the host's decoding between batches, when the device waits).
  double device_ms = 0.0;
  /// The comparing kernels alone (range: the range kernel, reruns included;
  /// top-k: the whole top-k launch, sort included).
  double search_ms = 0.0;
  int batches = 0;  ///< launches it took
  int reruns = 0;   ///< range batches rerun because the hit buffer was too small
};

/// Exhaustive Hamming search on one CUDA device against references resident
/// in device memory. Owns a stream, the references and the scratch; not
/// thread-safe (one search per host thread, or a lock around it). Throws
/// hm::CudaError (a std::runtime_error) on CUDA failures and
/// std::invalid_argument on bad arguments.
class HammingGpuSearch {
 public:
  /// Binds to options.device (throws when there is no such device).
  explicit HammingGpuSearch(const HammingGpuOptions& options = HammingGpuOptions{});
  ~HammingGpuSearch();
  HammingGpuSearch(const HammingGpuSearch&) = delete;
  HammingGpuSearch& operator=(const HammingGpuSearch&) = delete;

  /// Replaces the references with n hashes, row-major [n, 32] bytes; they get
  /// labels 0 .. n - 1. Synchronous.
  void set_references(const uint8_t* refs, size_t n);

  /// Appends n hashes, row-major [n, 32] bytes, labelled reference_count()
  /// onwards (device storage grows geometrically). At most 2^31 - 2
  /// references in all. Synchronous.
  void add_references(const uint8_t* refs, size_t n);

  /// Drops every reference and frees their device memory.
  void clear_references();

  /// References on the device.
  size_t reference_count() const;

  /// Device bytes held: references (capacity) and scratch.
  size_t device_bytes() const;

  /// Every (query, ref) pair with hamming256 <= max_distance (inclusive; a
  /// negative max_distance finds nothing), exactly as hamming_range_cpu:
  /// queries row-major [nq, 32] bytes; `out` is overwritten, each query's
  /// hits in ascending label order. Synchronous.
  void range(const uint8_t* queries, size_t nq, int max_distance, HammingRangeResult& out);

  /// The k nearest references of each query, exactly as hamming_knn_cpu:
  /// sorted by (distance, label), ties to the smaller label; distances and
  /// labels row-major [nq, k]; rows with fewer than k references padded with
  /// kKnnPadDistance / kKnnPadLabel. Synchronous.
  void knn(const uint8_t* queries, size_t nq, size_t k, int32_t* distances, int64_t* labels);

  /// Timing of the last range or knn call.
  const HammingGpuTiming& last_timing() const;

  /// The device this search runs on.
  const CudaDeviceInfo& device() const;

  /// Comparisons per second the device's CUDA cores can count: SMs x 16
  /// POPC per clock x peak SM clock / 8 POPC per 256-bit comparison (about
  /// 5.2e11 on an H100 SXM). The yardstick of the range kernel.
  double popcount_ceiling() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hm
