// Exact Hamming search of 256-bit hashes on the GPU. See hamming_cuda.cuh
// for the launchers and the key layouts.
//
// Design (CUDA cores)
// -------------------
// A comparison is 4 XORs and 4 64-bit popcounts; the GPU counts 32 bits at a
// time, so it costs 8 POPC, and on Hopper the POPC pipe retires 16 per clock
// per SM. That pipe, not memory, is the limit: an H100 (132 SMs, 1.98 GHz)
// does at most 132 * 16 * 1.98e9 / 8 ~ 5.2e11 comparisons/s. Everything else
// is arranged so nothing but POPC is busy:
//
// - One query per thread, in registers for the whole block (four 64-bit
//   words). A block is a tile of 128 queries (64 for top-k) against a chunk
//   of references; blockIdx enumerates (query tile, chunk) with the tile
//   fastest, so the blocks resident at once read the same chunk (L2 reuse).
// - The chunk streams through shared memory 256 refs (8 KiB) at a time,
//   loaded once, coalesced, by the whole block. Every thread of a warp then
//   reads the same ref (a broadcast, no bank conflicts): one 128-bit load per
//   half-hash serves 32 comparisons, so each query tile is reused across
//   every reference tile, and each reference tile across 128 queries.
// - Compare and skip: up to max_distance 48 (as the CPU twin) the range
//   kernel first counts the first 128 bits, a lower bound of the distance.
//   For unrelated hashes it averages 64, so at PDQ's usual 31 the second half
//   is almost never needed by any lane of a warp: 4 POPC per comparison, and
//   the kernel can run above the 8-POPC "ceiling". Above 48 a warp would
//   seldom skip, so the full distance is computed straight away.
// - Output is compacted without a second pass: a hit takes a slot with one
//   warp-aggregated atomic (coalesced group: one atomicAdd per warp and
//   branch), and its key sorts into the CPU's order. A two-pass count + fill
//   would compare every pair twice, halving the rate; hits are rare, so the
//   one radix sort of the hits (CUB) costs far less. A buffer that turns out
//   too small is counted anyway and the host reruns the batch with more room.
// - The 8 dihedral variants of a query image are simply 8 query rows of the
//   batch: they sit in the same block, so every reference tile is read once
//   for all of them.
//
// Top-k exactly as the CPU (sorted by distance, then ref; ties to the smaller
// ref), for any k: distances are integers 0 .. 256, so a histogram pass finds
// each query's cutoff distance D (the k-th smallest) and how many refs lie
// below it; a collect pass writes every ref below D (fewer than k) into the
// query's row and counts, per chunk, the refs at exactly D; an exclusive scan
// of those counts over the chunks orders the ties by ref; a last pass writes
// the first ones, each thread walking its chunk in ascending ref order. The
// rows are then sorted by key. Three compare passes: top-k is exact, not the
// throughput target.
//
// Plan for the tensor cores (not implemented here)
// ------------------------------------------------
// Hopper's only binary MMA is mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32
// .and.popc (there is no .xor.popc on sm_90, and wgmma takes no b1): it
// computes c[i][j] += popc(a_i AND b_j) over 256 bits, i.e. one full hash per
// row, a 16 x 8 tile of comparisons per instruction. With the popcount of
// every hash precomputed (one byte per ref, stored beside the refs; the
// queries' in registers):
//     d = popc(a) + popc(b) - 2 popc(a AND b),
// so d <= T  <=>  2 c >= popc(a) + popc(b) - T, an integer test in the
// epilogue. Layout: a warp holds a 16-query A fragment (each thread 4 x
// 32-bit registers of the row-major 16 x 256-bit tile) for the whole chunk,
// loads B fragments (8 refs, column-major, 2 registers per thread) with
// ldmatrix from the same shared tiles as above, and issues one mma per 8
// refs; the thread owning accumulator (row groupID / groupID + 8, columns
// 2 * (lane % 4) + {0, 1}) tests its 4 entries and appends hits through the
// same warp-aggregated path. Several A fragments per warp (e.g. 4, 64
// queries) amortise the B loads. The epilogue (4 compares per 128
// comparisons) and the ldmatrix traffic are then the limits, which is what
// would have to be measured to reach the 1e13 comparisons/s the issue aims
// at. Top-k would keep its histogram design, fed by the same tiles.
#include "hamming_cuda.cuh"

#include <cooperative_groups.h>

#include <cub/device/device_radix_sort.cuh>
#include <stdexcept>
#include <string>

#include "cuda_check.cuh"
#include "hamming.hpp"

namespace hm::hamming {

namespace {

namespace cg = cooperative_groups;

/// Up to this max_distance the range kernel tests the first 128 bits first.
constexpr int kHalfFilterMaxDistance = 48;
/// Threads of the small per-query kernels (cutoff, tie prefix, padding).
constexpr int kRowThreads = 256;
/// Range blocks: at least 4 ref tiles per block, at most 64 (16 Ki refs:
/// 2 Mi comparisons, about a millisecond), aiming at this many blocks per SM
/// (about 10 resident at 48 registers a thread, times 8 waves) so the last
/// wave is a small part of the run.
constexpr int64_t kRangeMinChunk = 4 * kRefTile;
constexpr int64_t kRangeMaxChunk = 64 * kRefTile;
constexpr int64_t kRangeBlocksPerSm = 10 * 8;
/// Top-k blocks: each flushes a 257-bin histogram per query, so chunks are
/// longer; 3 histogram blocks fit an SM (74 KiB of shared memory each).
constexpr int64_t kKnnMinChunk = 16 * kRefTile;
constexpr int64_t kKnnBlocksPerSm = 3 * 32;
constexpr int64_t kMaxGridBlocks = 0x7fffffff;

HM_HD int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
HM_HD int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
HM_HD int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

/// One hash in registers, as four little-endian 64-bit words (the layout
/// kernels/hamming.hpp's functions take).
struct Hash {
  uint64_t w[4];
};

__device__ __forceinline__ Hash load_hash(const ulonglong2* p) {
  const ulonglong2 lo = p[0];
  const ulonglong2 hi = p[1];
  return Hash{{lo.x, lo.y, hi.x, hi.y}};
}

/// Distance over the first 128 bits: a lower bound of the full distance.
__device__ __forceinline__ int half_distance(const Hash& q, const ulonglong2& lo) {
  return popcount64(q.w[0] ^ lo.x) + popcount64(q.w[1] ^ lo.y);
}

/// The rest of the distance, for the last 128 bits.
__device__ __forceinline__ int rest_distance(const Hash& q, const ulonglong2& hi) {
  return popcount64(q.w[2] ^ hi.x) + popcount64(q.w[3] ^ hi.y);
}

/// hamming256 of a query and a staged ref (its two halves).
__device__ __forceinline__ int full_distance(const Hash& q, const ulonglong2& lo,
                                             const ulonglong2& hi) {
  const uint64_t r[4] = {lo.x, lo.y, hi.x, hi.y};
  return hamming256_words(q.w, r);
}

/// The references staged in shared memory: [kRefTile][2] half-hashes.
using RefTile = ulonglong2[kRefTile][2];

/// Which queries and refs this thread's block covers.
struct BlockPlace {
  int64_t query;  ///< this thread's query row in the batch
  int64_t chunk;  ///< the block's chunk of refs
  int64_t begin;  ///< its first ref
  int64_t end;    ///< one past its last ref
  bool active;    ///< query < nq (the last tile may be partial)
};

template <int kThreads>
__device__ __forceinline__ BlockPlace block_place(const HammingScan& s) {
  const int64_t tiles = ceil_div(s.nq, kThreads);
  const int64_t block = blockIdx.x;
  BlockPlace p;
  p.chunk = block / tiles;
  p.query = (block % tiles) * kThreads + threadIdx.x;
  p.active = p.query < s.nq;
  p.begin = p.chunk * s.chunk_refs;
  p.end = min64(p.begin + s.chunk_refs, s.nr);
  return p;
}

/// Streams the block's chunk through `tile`, kRefTile refs at a time, and
/// calls visit(count, base) on every thread for each staged tile: refs
/// base .. base + count - 1 are tile[0 .. count - 1]. Every thread of the
/// block must call it (it synchronises); `visit` must not.
template <int kThreads, class Visit>
__device__ __forceinline__ void scan_chunk(const HammingScan& s, const BlockPlace& p, RefTile& tile,
                                           Visit&& visit) {
  for (int64_t base = p.begin; base < p.end; base += kRefTile) {
    const int count = static_cast<int>(min64(kRefTile, p.end - base));
    __syncthreads();  // every thread is done reading the previous tile
    const ulonglong2* src = s.refs + 2 * base;
    ulonglong2* dst = &tile[0][0];
    for (int i = threadIdx.x; i < 2 * count; i += kThreads) dst[i] = src[i];
    __syncthreads();  // the tile is complete
    visit(count, base);
  }
}

/// Appends one hit. The threads that reach this call together take their
/// slots with one atomic: hits come in bursts (duplicates, high thresholds),
/// and one atomic per hit would serialise on the counter.
__device__ __forceinline__ void append_hit(const HammingRangeArgs& a, uint64_t key) {
  const cg::coalesced_group group = cg::coalesced_threads();
  unsigned long long first = 0;
  if (group.thread_rank() == 0) first = atomicAdd(a.hit_count, (unsigned long long)group.size());
  const unsigned long long slot = group.shfl(first, 0) + group.thread_rank();
  if (slot < a.capacity) a.hits[slot] = key;
}

template <bool kHalfFilter>
__global__ void __launch_bounds__(kRangeThreads) range_kernel(const HammingRangeArgs a) {
  __shared__ RefTile tile;
  const BlockPlace p = block_place<kRangeThreads>(a.scan);
  const Hash q = p.active ? load_hash(a.scan.queries + 2 * p.query) : Hash{};
  const int limit = a.max_distance;
  scan_chunk<kRangeThreads>(a.scan, p, tile, [&](int count, int64_t base) {
    if (!p.active) return;
#pragma unroll 4
    for (int j = 0; j < count; ++j) {
      int d;
      if constexpr (kHalfFilter) {
        d = half_distance(q, tile[j][0]);
        if (d > limit) continue;  // the lower bound is already too far
        d += rest_distance(q, tile[j][1]);
      } else {
        d = full_distance(q, tile[j][0], tile[j][1]);
      }
      if (d <= limit) append_hit(a, range_key(p.query, base + j, d));
    }
  });
}

// ---------------------------------------------------------------------------
// Top-k.

/// Sets every key of the [nq][k] rows to its row's padding key.
__global__ void knn_pad_kernel(uint64_t* keys, int64_t entries, int64_t k) {
  const int64_t stride = int64_t{gridDim.x} * blockDim.x;
  for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < entries; i += stride)
    keys[i] = knn_pad_key(i / k);
}

/// histogram[q][d] += the chunk's refs at distance d from query q. Each
/// thread owns one column of the shared [kDistanceBins][kKnnThreads] counts,
/// so it counts without atomics and the warp's accesses fall in 32 distinct
/// banks.
__global__ void __launch_bounds__(kKnnThreads) knn_histogram_kernel(const HammingKnnArgs a) {
  __shared__ RefTile tile;
  extern __shared__ uint32_t counts[];  // [kDistanceBins][kKnnThreads]
  const BlockPlace p = block_place<kKnnThreads>(a.scan);
  uint32_t* const mine = counts + threadIdx.x;
  for (int d = 0; d < kDistanceBins; ++d) mine[d * kKnnThreads] = 0;
  const Hash q = p.active ? load_hash(a.scan.queries + 2 * p.query) : Hash{};
  scan_chunk<kKnnThreads>(a.scan, p, tile, [&](int count, int64_t) {
    if (!p.active) return;
    for (int j = 0; j < count; ++j)
      mine[full_distance(q, tile[j][0], tile[j][1]) * kKnnThreads] += 1;
  });
  if (!p.active) return;
  uint32_t* const row = a.histogram + p.query * kDistanceBins;
  for (int d = 0; d < kDistanceBins; ++d) {
    const uint32_t n = mine[d * kKnnThreads];
    if (n != 0) atomicAdd(row + d, n);
  }
}

/// cutoff[q] from histogram row q: the smallest D with at least kept = min(k,
/// nr) refs at distance <= D. The histogram sums to nr >= kept, so D <= 256.
__global__ void knn_cutoff_kernel(const uint32_t* histogram, int64_t nq, int64_t kept,
                                  KnnCutoff* cutoff) {
  const int64_t q = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (q >= nq) return;
  const uint32_t* row = histogram + q * kDistanceBins;
  int64_t below = 0;
  int d = 0;
  while (d < kDistanceBins - 1 && below + row[d] < kept) below += row[d++];
  cutoff[q] = KnnCutoff{d, static_cast<int32_t>(below), static_cast<int32_t>(kept - below)};
}

/// Writes the refs closer than the cutoff into the first `below` slots of
/// their query's row (in no order: the final sort orders them), and counts
/// the refs at the cutoff in this chunk into tie_offsets[q][chunk].
__global__ void __launch_bounds__(kKnnThreads) knn_collect_below_kernel(const HammingKnnArgs a) {
  __shared__ RefTile tile;
  const BlockPlace p = block_place<kKnnThreads>(a.scan);
  const int64_t chunks = ceil_div(a.scan.nr, a.scan.chunk_refs);
  const KnnCutoff cut = p.active ? a.cutoff[p.query] : KnnCutoff{-1, 0, 0};
  const Hash q = p.active ? load_hash(a.scan.queries + 2 * p.query) : Hash{};
  uint32_t ties = 0;
  scan_chunk<kKnnThreads>(a.scan, p, tile, [&](int count, int64_t base) {
    if (!p.active) return;
    for (int j = 0; j < count; ++j) {
      const int d = full_distance(q, tile[j][0], tile[j][1]);
      if (d < cut.distance) {
        // Exactly `below` refs get here over all chunks; the test only
        // keeps a broken invariant from writing into the next row.
        const uint32_t slot = atomicAdd(a.fill + p.query, 1u);
        if (slot < static_cast<uint32_t>(cut.below))
          a.keys[p.query * a.k + slot] = knn_key(p.query, d, base + j);
      } else if (d == cut.distance) {
        ++ties;
      }
    }
  });
  if (p.active) a.tie_offsets[p.query * chunks + p.chunk] = ties;
}

/// Each query's tie counts per chunk become their exclusive prefix sums: the
/// rank of a chunk's first tie among all the query's ties, in ref order.
__global__ void knn_tie_prefix_kernel(uint32_t* tie_offsets, int64_t nq, int64_t chunks) {
  const int64_t q = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (q >= nq) return;
  uint32_t* row = tie_offsets + q * chunks;
  uint32_t sum = 0;  // at most nr < 2^31
  for (int64_t c = 0; c < chunks; ++c) {
    const uint32_t n = row[c];
    row[c] = sum;
    sum += n;
  }
}

/// Writes the `ties` smallest refs at the cutoff distance after the `below`
/// entries of their row: a thread walks its chunk in ascending ref order,
/// starting at the rank its chunk's first tie has among all the query's.
__global__ void __launch_bounds__(kKnnThreads) knn_collect_ties_kernel(const HammingKnnArgs a) {
  __shared__ RefTile tile;
  const BlockPlace p = block_place<kKnnThreads>(a.scan);
  const int64_t chunks = ceil_div(a.scan.nr, a.scan.chunk_refs);
  const KnnCutoff cut = p.active ? a.cutoff[p.query] : KnnCutoff{-1, 0, 0};
  const uint32_t need = static_cast<uint32_t>(cut.ties);
  uint32_t rank = p.active ? a.tie_offsets[p.query * chunks + p.chunk] : 0;
  // Chunks after a query's last wanted tie are common: skip the block when
  // none of its queries wants one here (every thread sees the same answer).
  if (!__syncthreads_or(rank < need)) return;
  const Hash q = p.active ? load_hash(a.scan.queries + 2 * p.query) : Hash{};
  scan_chunk<kKnnThreads>(a.scan, p, tile, [&](int count, int64_t base) {
    if (rank >= need) return;  // also every inactive thread (need = 0)
    for (int j = 0; j < count; ++j) {
      if (full_distance(q, tile[j][0], tile[j][1]) != cut.distance) continue;
      if (rank < need)
        a.keys[p.query * a.k + cut.below + rank] = knn_key(p.query, cut.distance, base + j);
      ++rank;
    }
  });
}

void check_scan(const HammingScan& s, int threads) {
  if (s.queries == nullptr || s.refs == nullptr)
    throw std::invalid_argument("hamming search: null queries or refs");
  if (s.nq < 1 || s.nq > kMaxBatchQueries)
    throw std::invalid_argument("hamming search: batch of " + std::to_string(s.nq) +
                                " queries (1 .. 2^24)");
  if (s.nr < 1 || s.nr > kMaxRefs)
    throw std::invalid_argument("hamming search: " + std::to_string(s.nr) +
                                " references (1 .. 2^31 - 1)");
  if (s.chunk_refs < kRefTile || s.chunk_refs % kRefTile != 0)
    throw std::invalid_argument("hamming search: chunk_refs must be a multiple of the ref tile");
  if (ceil_div(s.nq, threads) > kMaxGridBlocks / ceil_div(s.nr, s.chunk_refs))
    throw std::invalid_argument("hamming search: too many blocks; use longer chunks");
}

unsigned grid_blocks(const HammingScan& s, int threads) {
  return static_cast<unsigned>(ceil_div(s.nq, threads) * ceil_div(s.nr, s.chunk_refs));
}

unsigned row_blocks(int64_t rows) { return static_cast<unsigned>(ceil_div(rows, kRowThreads)); }

/// Refs per chunk so that the grid has about `target_blocks` blocks, clamped
/// to [min_chunk, max_chunk], never so short that the grid overflows or the
/// chunks number more than max_chunks.
int64_t chunk_refs_for(int64_t nq, int64_t nr, int threads, int64_t target_blocks,
                       int64_t min_chunk, int64_t max_chunk, int64_t max_chunks) {
  const int64_t tiles = ceil_div(max64(nq, 1), threads);
  const int64_t chunks_wanted = max64(1, ceil_div(target_blocks, tiles));
  int64_t chunk = min64(max64(ceil_div(max64(nr, 1), chunks_wanted), min_chunk), max_chunk);
  chunk = max64(chunk, ceil_div(nr, max_chunks));
  chunk = max64(chunk, ceil_div(nr, max64(1, kMaxGridBlocks / tiles)));
  return round_up(chunk, kRefTile);
}

}  // namespace

int query_bits(int64_t nq) {
  int bits = 0;
  while (bits < 63 && (int64_t{1} << bits) < nq) ++bits;
  return bits;
}

int64_t hamming_chunks(int64_t nr, int64_t chunk_refs) { return ceil_div(nr, chunk_refs); }

int64_t hamming_range_chunk_refs(int64_t nq, int64_t nr, int sms) {
  return chunk_refs_for(nq, nr, kRangeThreads, max64(sms, 1) * kRangeBlocksPerSm, kRangeMinChunk,
                        kRangeMaxChunk, kMaxGridBlocks);
}

int64_t hamming_knn_chunk_refs(int64_t nq, int64_t nr, int sms) {
  return chunk_refs_for(nq, nr, kKnnThreads, max64(sms, 1) * kKnnBlocksPerSm, kKnnMinChunk,
                        kMaxRefs, kMaxKnnChunks);
}

void launch_hamming_range_async(const HammingRangeArgs& a, cudaStream_t stream) {
  check_scan(a.scan, kRangeThreads);
  if (a.max_distance < 0 || a.max_distance > 8 * kHash256Bytes)
    throw std::invalid_argument("hamming range search: max_distance must be 0 .. 256");
  if (a.hit_count == nullptr || (a.capacity > 0 && a.hits == nullptr))
    throw std::invalid_argument("hamming range search: no hit buffer");
  const unsigned grid = grid_blocks(a.scan, kRangeThreads);
  if (a.max_distance <= kHalfFilterMaxDistance)
    range_kernel<true><<<grid, kRangeThreads, 0, stream>>>(a);
  else
    range_kernel<false><<<grid, kRangeThreads, 0, stream>>>(a);
  HM_CUDA_CHECK_LAUNCH();
}

size_t hamming_sort_temp_bytes(uint64_t n, int begin_bit, int end_bit) {
  size_t bytes = 0;
  HM_CUDA_CHECK(
      cub::DeviceRadixSort::SortKeys(nullptr, bytes, static_cast<const uint64_t*>(nullptr),
                                     static_cast<uint64_t*>(nullptr), n, begin_bit, end_bit));
  return bytes;
}

void launch_hamming_sort_async(void* temp, size_t temp_bytes, const uint64_t* in, uint64_t* out,
                               uint64_t n, int begin_bit, int end_bit, cudaStream_t stream) {
  if (n == 0) return;
  HM_CUDA_CHECK(
      cub::DeviceRadixSort::SortKeys(temp, temp_bytes, in, out, n, begin_bit, end_bit, stream));
}

size_t hamming_knn_sort_temp_bytes(int64_t nq, int64_t k) {
  return hamming_sort_temp_bytes(static_cast<uint64_t>(nq) * static_cast<uint64_t>(k), 0,
                                 kKeyQueryShift + query_bits(nq));
}

void launch_hamming_knn_async(const HammingKnnArgs& a, cudaStream_t stream) {
  check_scan(a.scan, kKnnThreads);
  const int64_t chunks = hamming_chunks(a.scan.nr, a.scan.chunk_refs);
  if (a.k < 1) throw std::invalid_argument("hamming top-k: k must be positive");
  if (chunks > kMaxKnnChunks)
    throw std::invalid_argument("hamming top-k: chunks longer than hamming_knn_chunk_refs");
  if (!a.histogram || !a.cutoff || !a.fill || !a.tie_offsets || !a.keys || !a.sorted_keys)
    throw std::invalid_argument("hamming top-k: missing scratch");
  const int64_t nq = a.scan.nq;
  const int64_t entries = nq * a.k;
  const unsigned grid = grid_blocks(a.scan, kKnnThreads);

  HM_CUDA_CHECK(cudaMemsetAsync(a.histogram, 0, sizeof(uint32_t) * kDistanceBins * nq, stream));
  HM_CUDA_CHECK(cudaMemsetAsync(a.fill, 0, sizeof(uint32_t) * nq, stream));
  knn_pad_kernel<<<static_cast<unsigned>(min64(ceil_div(entries, kRowThreads), 8192)), kRowThreads,
                   0, stream>>>(a.keys, entries, a.k);
  HM_CUDA_CHECK_LAUNCH();

  const int histogram_bytes = static_cast<int>(sizeof(uint32_t)) * kDistanceBins * kKnnThreads;
  HM_CUDA_CHECK(cudaFuncSetAttribute(knn_histogram_kernel,
                                     cudaFuncAttributeMaxDynamicSharedMemorySize, histogram_bytes));
  knn_histogram_kernel<<<grid, kKnnThreads, histogram_bytes, stream>>>(a);
  HM_CUDA_CHECK_LAUNCH();
  knn_cutoff_kernel<<<row_blocks(nq), kRowThreads, 0, stream>>>(a.histogram, nq,
                                                                min64(a.k, a.scan.nr), a.cutoff);
  HM_CUDA_CHECK_LAUNCH();
  knn_collect_below_kernel<<<grid, kKnnThreads, 0, stream>>>(a);
  HM_CUDA_CHECK_LAUNCH();
  knn_tie_prefix_kernel<<<row_blocks(nq), kRowThreads, 0, stream>>>(a.tie_offsets, nq, chunks);
  HM_CUDA_CHECK_LAUNCH();
  knn_collect_ties_kernel<<<grid, kKnnThreads, 0, stream>>>(a);
  HM_CUDA_CHECK_LAUNCH();
  launch_hamming_sort_async(a.sort_temp, a.sort_temp_bytes, a.keys, a.sorted_keys,
                            static_cast<uint64_t>(entries), 0, kKeyQueryShift + query_bits(nq),
                            stream);
}

}  // namespace hm::hamming
