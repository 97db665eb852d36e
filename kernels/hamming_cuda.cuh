// Exact Hamming search on the GPU: the host launchers of hamming_cuda.cu.
// Private to the CUDA backend (includes cuda_runtime.h); the public face is
// hamming_gpu.hpp. The design, and the tensor-core plan, are described at the
// top of hamming_cuda.cu.
//
// Hits travel as 64-bit keys that sort into the CPU twin's order
// (kernels/hamming_cpu.hpp), so one radix sort makes the output deterministic
// whatever order the blocks found them in:
//   range key: query << 40 | ref << 9 | distance   (sorts by query, then ref)
//   top-k key: query << 40 | distance << 31 | ref  (sorts by query, distance, ref)
// `query` is the row within the launch's batch (< 2^24), `ref` the reference
// row (< 2^31 - 1), `distance` 0 .. 256 (9 bits; 511 marks top-k padding).
#pragma once

#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

#include "hm_hd.hpp"

namespace hm::hamming {

/// Threads (= queries) per block of the range kernel.
constexpr int kRangeThreads = 128;
/// Threads (= queries) per block of the top-k kernels: each owns a
/// 257-bin histogram column in shared memory, which bounds the block.
constexpr int kKnnThreads = 64;
/// References staged in shared memory at a time (8 KiB).
constexpr int kRefTile = 256;
/// Distances 0 .. 256.
constexpr int kDistanceBins = 257;

/// Most queries in one launch (the key's 24 query bits).
constexpr int64_t kMaxBatchQueries = int64_t{1} << 24;
/// References must number fewer than this (the key's 31 ref bits; the
/// largest value is the padding label).
constexpr int64_t kMaxRefs = (int64_t{1} << 31) - 1;
/// Bits of a key below the query field.
constexpr int kKeyQueryShift = 40;
constexpr uint64_t kRefMask = (uint64_t{1} << 31) - 1;
constexpr uint64_t kDistanceMask = 511;
/// Distance field of a top-k padding key (above any real distance).
constexpr uint64_t kKnnPadDistanceField = 511;

/// Range key: sorts by (query, ref); the distance rides along.
HM_HD uint64_t range_key(uint64_t query, uint64_t ref, uint64_t distance) {
  return query << kKeyQueryShift | ref << 9 | distance;
}
HM_HD uint64_t range_key_query(uint64_t key) { return key >> kKeyQueryShift; }
HM_HD uint64_t range_key_ref(uint64_t key) { return (key >> 9) & kRefMask; }
HM_HD uint64_t range_key_distance(uint64_t key) { return key & kDistanceMask; }

/// Top-k key: sorts by (query, distance, ref), the CPU twin's tie order.
HM_HD uint64_t knn_key(uint64_t query, uint64_t distance, uint64_t ref) {
  return query << kKeyQueryShift | distance << 31 | ref;
}
/// Fills the slots of a row past min(k, refs): sorts after every real entry.
HM_HD uint64_t knn_pad_key(uint64_t query) {
  return knn_key(query, kKnnPadDistanceField, kRefMask);
}
HM_HD uint64_t knn_key_query(uint64_t key) { return key >> kKeyQueryShift; }
HM_HD uint64_t knn_key_distance(uint64_t key) { return (key >> 31) & kDistanceMask; }
HM_HD uint64_t knn_key_ref(uint64_t key) { return key & kRefMask; }

/// What every search kernel scans: a batch of queries against all the
/// references, cut into blocks of (up to kThreads queries) x (chunk_refs refs).
/// Device pointers; a hash is two ulonglong2 (= 32 bytes, row-major).
struct HammingScan {
  const ulonglong2* queries = nullptr;  ///< [nq][2]
  int64_t nq = 0;                       ///< 1 .. kMaxBatchQueries
  const ulonglong2* refs = nullptr;     ///< [nr][2]
  int64_t nr = 0;                       ///< 1 .. kMaxRefs
  int64_t chunk_refs = 0;               ///< refs per block, a multiple of kRefTile
};

/// Range search: appends range_key(q, ref, d) for every pair with
/// d <= max_distance, in no particular order, at hits[atomicAdd(hit_count)].
/// Slots at or past `capacity` are not written, but still counted: when
/// *hit_count ends above capacity, rerun with more room.
struct HammingRangeArgs {
  HammingScan scan;
  int max_distance = 0;      ///< 0 .. 256
  uint64_t* hits = nullptr;  ///< [capacity]
  uint64_t capacity = 0;
  unsigned long long* hit_count = nullptr;  ///< zeroed by the caller before the launch
};

/// Refs per block for a range search of nq queries on a device with `sms`
/// multiprocessors: enough blocks to fill the device several times over.
int64_t hamming_range_chunk_refs(int64_t nq, int64_t nr, int sms);

/// Launches the range kernel. Asynchronous on `stream`; allocates nothing.
/// Throws std::invalid_argument for shapes the kernels cannot take.
void launch_hamming_range_async(const HammingRangeArgs& args, cudaStream_t stream);

/// Per-query cut of a top-k row: every ref closer than `distance` is in (there
/// are `below` of them), and the `ties` smallest refs at exactly `distance`.
struct KnnCutoff {
  int32_t distance;
  int32_t below;
  int32_t ties;
};

/// Top-k search of a batch; scratch and output are device memory the caller
/// owns, sized by the shapes. `sorted_keys` ends up holding each query's row
/// of k keys sorted by (distance, ref), padding last.
struct HammingKnnArgs {
  HammingScan scan;                 ///< chunk_refs from hamming_knn_chunk_refs
  int64_t k = 0;                    ///< row length, >= 1
  uint32_t* histogram = nullptr;    ///< [nq][kDistanceBins]
  KnnCutoff* cutoff = nullptr;      ///< [nq]
  uint32_t* fill = nullptr;         ///< [nq]: entries below the cutoff written so far
  uint32_t* tie_offsets = nullptr;  ///< [nq][chunks]: ties per chunk, then their prefix
  uint64_t* keys = nullptr;         ///< [nq][k]
  uint64_t* sorted_keys = nullptr;  ///< [nq][k]
  void* sort_temp = nullptr;        ///< hamming_knn_sort_temp_bytes(nq, k) bytes
  size_t sort_temp_bytes = 0;
};

/// Refs per block for a top-k search (at most kMaxKnnChunks chunks, so the
/// tie table stays small).
int64_t hamming_knn_chunk_refs(int64_t nq, int64_t nr, int sms);
/// Most chunks a top-k search cuts the references into.
constexpr int64_t kMaxKnnChunks = 512;
/// ceil(nr / chunk_refs).
int64_t hamming_chunks(int64_t nr, int64_t chunk_refs);

/// Device scratch the sort of a top-k batch needs.
size_t hamming_knn_sort_temp_bytes(int64_t nq, int64_t k);

/// The whole top-k of a batch: histogram pass, cutoffs, collect pass for the
/// refs below the cutoff, tie prefix, collect pass for the ties, radix sort.
/// Asynchronous on `stream`; allocates nothing.
void launch_hamming_knn_async(const HammingKnnArgs& args, cudaStream_t stream);

/// Device scratch for sorting n keys on bits [begin_bit, end_bit).
size_t hamming_sort_temp_bytes(uint64_t n, int begin_bit, int end_bit);

/// Radix-sorts n keys from `in` into `out` on bits [begin_bit, end_bit)
/// (CUB). Asynchronous on `stream`; temp is caller-owned scratch.
void launch_hamming_sort_async(void* temp, size_t temp_bytes, const uint64_t* in, uint64_t* out,
                               uint64_t n, int begin_bit, int end_bit, cudaStream_t stream);

/// Bits that hold every query row of a batch of nq: the sorts' end_bit is
/// kKeyQueryShift + query_bits(nq).
int query_bits(int64_t nq);

}  // namespace hm::hamming
