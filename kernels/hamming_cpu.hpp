// Exact brute-force Hamming search of 256-bit hashes on the CPU: range search
// (every reference within a distance) and top-k. The CPU twin of the CUDA
// search kernels: plain pointers and counts, no FAISS.
//
// Hashes are rows of 32 bytes (kernels/hamming.hpp); the distance is
// hm::hamming256. Work runs on omp_get_max_threads() threads (one when called
// from inside an OpenMP parallel region), and the output is the same for any
// thread count and any kernel.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <vector>

namespace hm {

/// The instruction set a search runs its popcounts with.
enum class PopcountKernel {
  Scalar,  ///< 64-bit popcount (the POPCNT instruction where the CPU has it)
  Avx2,    ///< AVX2 byte-table popcount (vpshufb) summed with vpsadbw
  Avx512,  ///< AVX-512 VPOPCNTDQ, eight 64-bit popcounts per instruction
};

/// Whether this CPU (and OS) can run `kernel`.
bool popcount_kernel_supported(PopcountKernel kernel);

/// The fastest kernel this CPU supports.
PopcountKernel popcount_kernel_best();

/// "scalar", "avx2" or "avx512".
const char* popcount_kernel_name(PopcountKernel kernel);

/// Range search output in CSR form: query i's hits are entries
/// [lims[i], lims[i + 1]) of labels and distances, in ascending label order.
struct HammingRangeResult {
  std::vector<size_t> lims;        ///< [nq + 1], lims[0] = 0
  std::vector<int64_t> labels;     ///< [lims[nq]] row index of each hit in refs
  std::vector<int32_t> distances;  ///< [lims[nq]] Hamming distance of each hit
};

/// Every (query, ref) pair with hamming256 <= max_distance (inclusive; a
/// negative max_distance finds nothing). queries: row-major [nq, 32] bytes;
/// refs: row-major [nr, 32] bytes. `out` is overwritten. Throws
/// std::invalid_argument if the CPU cannot run `kernel`.
void hamming_range_cpu(const uint8_t* queries, size_t nq, const uint8_t* refs, size_t nr,
                       int max_distance, HammingRangeResult& out,
                       PopcountKernel kernel = popcount_kernel_best());

/// Distance of the padding entries of a top-k row with fewer than k refs.
constexpr int32_t kKnnPadDistance = INT32_MAX;
/// Label of the padding entries of a top-k row with fewer than k refs.
constexpr int64_t kKnnPadLabel = -1;

/// The k nearest refs of each query, sorted by (distance, label): ties go to
/// the smaller ref index, so the answer is unique. distances: row-major
/// [nq, k] int32; labels: row-major [nq, k] ref row indices. Rows with fewer
/// than k refs are padded with kKnnPadDistance / kKnnPadLabel. queries and
/// refs as for hamming_range_cpu. Throws std::invalid_argument if the CPU
/// cannot run `kernel`.
void hamming_knn_cpu(const uint8_t* queries, size_t nq, const uint8_t* refs, size_t nr, size_t k,
                     int32_t* distances, int64_t* labels,
                     PopcountKernel kernel = popcount_kernel_best());

}  // namespace hm
