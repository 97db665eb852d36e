#include "hamming_cpu.hpp"

#include <omp.h>
#include <string.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "hamming.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HM_HAVE_X86_KERNELS 1
#define HM_TARGET_AVX2 __attribute__((target("avx2,popcnt")))
#define HM_TARGET_AVX512 __attribute__((target("avx512f,avx512vpopcntdq,popcnt")))
#define HM_TARGET_POPCNT __attribute__((target("popcnt")))
#endif

#define HM_ALWAYS_INLINE inline __attribute__((always_inline))

namespace hm {

namespace {

// How the work is cut. A tile of queries stays in L1 while a block of refs,
// transposed once, is compared with every query of the tile: the refs stream
// through the cache once per tile, not once per query, and the transposition
// costs a few percent. Measured on AMD EPYC (Zen 3, AVX2), one thread, range
// search at threshold 31: tiles of 16, 32, 64 queries ran about 0.75x, 0.85x,
// 0.95x as fast as 128 or 256; blocks of 128 to 1024 refs were within noise.
constexpr size_t kQueryTile = 128;  // 4 KB of query words
constexpr size_t kRefBlock = 256;   // 8 KB of transposed refs, L1-resident with the tile
// A top-k tile keeps k neighbors per query: with a large k, fewer queries per
// tile bound that memory (16 bytes a neighbor, 16 MiB a task at most).
constexpr size_t kKnnTileNeighbors = size_t{1} << 20;
constexpr size_t kLanes = 8;  // refs per transposed group
constexpr size_t kGroupsPerBlock = kRefBlock / kLanes;
// A thread costs tens of microseconds to start; give each at least this many
// comparisons (about 30 us of work).
constexpr double kMinPairsPerThread = 65536;
// Splitting the refs of a query tile across threads costs a merge; parts are
// never smaller than this.
constexpr size_t kMinPartRefs = 4 * kRefBlock;
// Up to this max_distance a range search first compares the distance over
// the first two words (128 bits) of each hash: it is a lower bound of the
// full distance, and for unrelated hashes it already exceeds the threshold
// (its mean is 64), so the full distance is computed only for the rare
// candidates. Above it more and more pairs pass the half test, and the full
// distance computed directly is faster: with AVX2 the half test ran 1.5x as
// fast at threshold 48 and 0.9x at 52 (scalar: 1.7x and 1.35x).
constexpr int kHalfFilterMaxDistance = 48;
// Above any distance: a top-k row that is not full accepts every ref.
constexpr int32_t kAcceptAll = 257;

/// One query as four little-endian 64-bit words.
struct QueryWords {
  uint64_t w[kHash256Words];
};

/// Eight refs with their words transposed: w[j][lane] is word j of ref
/// `lane`, so one vector load gives word j of 4 (AVX2) or 8 (AVX-512) refs
/// and the per-ref sums need no horizontal adds. Lanes past the last ref are
/// zero; the kernels compare them too and drop them with the candidates.
struct alignas(64) RefGroup {
  uint64_t w[kHash256Words][kLanes];
};

/// A tile of queries against a block of transposed refs: what one kernel
/// call compares (nq * nrefs pairs).
struct TileBlock {
  const QueryWords* queries;  ///< [nq]
  size_t nq;
  const RefGroup* groups;  ///< [ceil(nrefs / 8)]
  size_t nrefs;
  int64_t first_label;  ///< ref index of groups[0] lane 0
};

/// Bit l set for each valid lane l of group g.
HM_ALWAYS_INLINE unsigned group_lanes(const TileBlock& b, size_t g) {
  const size_t left = b.nrefs - g * kLanes;
  return left >= kLanes ? 0xFFu : (1u << left) - 1u;
}

/// A range hit inside one task: `query` is the query's index in its tile.
struct RangeHit {
  int64_t label;
  uint32_t query;
  int32_t distance;
};

/// Computes the exact distance of each lane set in `lanes` of group g and
/// keeps those within max_distance. The kernels call it for candidates only,
/// which may include the zero padding lanes past the last ref.
inline void append_range_hits(const TileBlock& b, size_t qi, size_t g, unsigned lanes,
                              int max_distance, std::vector<RangeHit>& hits) {
  const RefGroup& group = b.groups[g];
  lanes &= group_lanes(b, g);
  while (lanes != 0) {
    const unsigned lane = static_cast<unsigned>(__builtin_ctz(lanes));
    lanes &= lanes - 1;
    const uint64_t ref[kHash256Words] = {group.w[0][lane], group.w[1][lane], group.w[2][lane],
                                         group.w[3][lane]};
    const int d = hamming256_words(b.queries[qi].w, ref);
    if (d <= max_distance) {
      hits.push_back(
          {b.first_label + static_cast<int64_t>(g * kLanes + lane), static_cast<uint32_t>(qi), d});
    }
  }
}

/// One query's nearest refs so far, ordered by (distance, label).
struct Neighbor {
  int32_t distance;
  int64_t label;
};

inline bool operator<(const Neighbor& a, const Neighbor& b) {
  return a.distance != b.distance ? a.distance < b.distance : a.label < b.label;
}

/// The top-k state of a tile of queries: one max-heap of up to k neighbors
/// per query, whose top is the worst kept. Refs are offered in ascending
/// label order, so a ref that ties with the top is never better than it:
/// only a strictly smaller distance gets in once the heap is full.
class KnnTile {
 public:
  KnnTile(size_t nq, size_t k) : k_(k), heaps_(nq * k), sizes_(nq, 0) {}

  /// Refs at a distance below this may enter query q's heap.
  int32_t threshold(size_t q) const {
    return sizes_[q] < k_ ? kAcceptAll : heaps_[q * k_].distance;
  }

  /// Adds a ref with distance < threshold(q); returns the new threshold.
  int32_t offer(size_t q, int32_t distance, int64_t label) {
    Neighbor* heap = &heaps_[q * k_];
    size_t& n = sizes_[q];
    if (n < k_) {
      heap[n++] = {distance, label};
      std::push_heap(heap, heap + n);
    } else {
      std::pop_heap(heap, heap + n);
      heap[n - 1] = {distance, label};
      std::push_heap(heap, heap + n);
    }
    return threshold(q);
  }

  /// Sorts query q's neighbors ascending; returns them and their count.
  const Neighbor* sorted(size_t q, size_t* count) {
    Neighbor* heap = &heaps_[q * k_];
    std::sort_heap(heap, heap + sizes_[q]);
    *count = sizes_[q];
    return heap;
  }

 private:
  size_t k_;
  std::vector<Neighbor> heaps_;  // [nq][k]
  std::vector<size_t> sizes_;    // [nq]
};

/// Offers ref `lane` of group g, at distance d, to query qi's heap if it
/// beats the threshold and is not a padding lane; returns the threshold.
inline int32_t offer_knn_lane(const TileBlock& b, size_t qi, size_t g, unsigned lane, int32_t d,
                              int32_t threshold, KnnTile& state) {
  const size_t ref = g * kLanes + lane;
  if (d >= threshold || ref >= b.nrefs) return threshold;
  return state.offer(qi, d, b.first_label + static_cast<int64_t>(ref));
}

/// offer_knn_lane for each lane set in `lanes`, in lane order, whose
/// distances are dist[lane]. An earlier lane may lower the threshold.
inline int32_t offer_knn_lanes(const TileBlock& b, size_t qi, size_t g, unsigned lanes,
                               const uint64_t* dist, int32_t threshold, KnnTile& state) {
  while (lanes != 0) {
    const unsigned lane = static_cast<unsigned>(__builtin_ctz(lanes));
    lanes &= lanes - 1;
    threshold = offer_knn_lane(b, qi, g, lane, static_cast<int32_t>(dist[lane]), threshold, state);
  }
  return threshold;
}

// ---------------------------------------------------------------------------
// Scalar kernels: one 64-bit popcount per word. The bodies are instantiated
// twice, with and without the POPCNT instruction (without it the compiler
// calls a bit-twiddling routine).

/// Range search of one tile block on the first kWords words, then exact
/// checks of the candidates (kWords = 4: every candidate is a hit).
template <int kWords>
HM_ALWAYS_INLINE void range_block_scalar_body(const TileBlock& b, int max_distance,
                                              std::vector<RangeHit>& hits) {
  const size_t ngroups = (b.nrefs + kLanes - 1) / kLanes;
  const RefGroup* const groups = b.groups;  // not reloaded after every hit append
  for (size_t qi = 0; qi < b.nq; ++qi) {
    const uint64_t* q = b.queries[qi].w;
    for (size_t g = 0; g < ngroups; ++g) {
      const RefGroup& group = groups[g];
      // A branch per ref: hits are rare, so it is predicted, and cheaper
      // than assembling a lane mask.
#pragma GCC unroll 8
      for (unsigned lane = 0; lane < kLanes; ++lane) {
        int d = 0;
        for (int j = 0; j < kWords; ++j) d += popcount64(group.w[j][lane] ^ q[j]);
        if (d <= max_distance) append_range_hits(b, qi, g, 1u << lane, max_distance, hits);
      }
    }
  }
}

HM_ALWAYS_INLINE void knn_block_scalar_body(const TileBlock& b, KnnTile& state) {
  const size_t ngroups = (b.nrefs + kLanes - 1) / kLanes;
  const RefGroup* const groups = b.groups;  // not reloaded after every hit append
  for (size_t qi = 0; qi < b.nq; ++qi) {
    const uint64_t* q = b.queries[qi].w;
    int32_t threshold = state.threshold(qi);
    for (size_t g = 0; g < ngroups; ++g) {
      const RefGroup& group = groups[g];
#pragma GCC unroll 8
      for (unsigned lane = 0; lane < kLanes; ++lane) {
        int32_t d = 0;
        for (int j = 0; j < kHash256Words; ++j) d += popcount64(group.w[j][lane] ^ q[j]);
        if (d < threshold) threshold = offer_knn_lane(b, qi, g, lane, d, threshold, state);
      }
    }
  }
}

template <int kWords>
void range_block_generic(const TileBlock& b, int max_distance, std::vector<RangeHit>& hits) {
  range_block_scalar_body<kWords>(b, max_distance, hits);
}

void knn_block_generic(const TileBlock& b, KnnTile& state) { knn_block_scalar_body(b, state); }

#if HM_HAVE_X86_KERNELS
template <int kWords>
HM_TARGET_POPCNT void range_block_popcnt(const TileBlock& b, int max_distance,
                                         std::vector<RangeHit>& hits) {
  range_block_scalar_body<kWords>(b, max_distance, hits);
}

HM_TARGET_POPCNT void knn_block_popcnt(const TileBlock& b, KnnTile& state) {
  knn_block_scalar_body(b, state);
}

// ---------------------------------------------------------------------------
// AVX2: popcount of each byte by two 16-entry table lookups (vpshufb, one per
// nibble), summed over the words as bytes (at most 32 per byte), then summed
// per 64-bit lane by vpsadbw: one lane holds one ref's distance.

/// Per-byte popcount of v.
HM_TARGET_AVX2 HM_ALWAYS_INLINE __m256i avx2_popcount_bytes(__m256i v) {
  const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low_nibbles = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_and_si256(v, low_nibbles);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low_nibbles);
  return _mm256_add_epi8(_mm256_shuffle_epi8(table, lo), _mm256_shuffle_epi8(table, hi));
}

/// Distances over the first kWords words between query q (each word
/// broadcast to 4 lanes) and refs 4 * half .. 4 * half + 3 of a group, one
/// per 64-bit lane.
template <int kWords>
HM_TARGET_AVX2 HM_ALWAYS_INLINE __m256i avx2_distances(const RefGroup& group, int half,
                                                       const __m256i* q) {
  __m256i bytes = _mm256_setzero_si256();
  for (int j = 0; j < kWords; ++j) {
    const __m256i r = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&group.w[j][4 * half]));
    bytes = _mm256_add_epi8(bytes, avx2_popcount_bytes(_mm256_xor_si256(r, q[j])));
  }
  return _mm256_sad_epu8(bytes, _mm256_setzero_si256());
}

/// The distances of a group's lanes 0-3 (lo) and 4-7 (hi), which fit in 32
/// bits, interleaved as eight 32-bit values: lo0 hi0 lo1 hi1 ... One compare
/// and one movemask then test all eight.
HM_TARGET_AVX2 HM_ALWAYS_INLINE __m256i avx2_interleave(__m256i lo, __m256i hi) {
  return _mm256_or_si256(lo, _mm256_slli_epi64(hi, 32));
}

/// Bit i set where 32-bit value i of an interleaved vector is <= limit.
HM_TARGET_AVX2 HM_ALWAYS_INLINE unsigned avx2_le_bits(__m256i interleaved, __m256i limit) {
  const __m256i greater = _mm256_cmpgt_epi32(interleaved, limit);
  return ~static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(greater))) & 0xFFu;
}

/// Interleaved bit order (lane 0, 4, 1, 5, ...) to lane order.
inline unsigned lanes_from_interleaved(unsigned bits) {
  unsigned lo = bits & 0x55u, hi = (bits >> 1) & 0x55u;
  lo = (lo | (lo >> 1)) & 0x33u;
  hi = (hi | (hi >> 1)) & 0x33u;
  lo = (lo | (lo >> 2)) & 0x0Fu;
  hi = (hi | (hi >> 2)) & 0x0Fu;
  return lo | (hi << 4);
}

template <int kWords>
HM_TARGET_AVX2 void range_block_avx2(const TileBlock& b, int max_distance,
                                     std::vector<RangeHit>& hits) {
  const size_t ngroups = (b.nrefs + kLanes - 1) / kLanes;
  const RefGroup* const groups = b.groups;  // not reloaded after every hit append
  const __m256i limit = _mm256_set1_epi32(max_distance);
  for (size_t qi = 0; qi < b.nq; ++qi) {
    __m256i q[kWords];
    for (int j = 0; j < kWords; ++j) {
      q[j] = _mm256_set1_epi64x(static_cast<long long>(b.queries[qi].w[j]));
    }
    for (size_t g = 0; g < ngroups; ++g) {
      const __m256i lo = avx2_distances<kWords>(groups[g], 0, q);
      const __m256i hi = avx2_distances<kWords>(groups[g], 1, q);
      const unsigned bits = avx2_le_bits(avx2_interleave(lo, hi), limit);
      if (bits != 0) {
        append_range_hits(b, qi, g, lanes_from_interleaved(bits), max_distance, hits);
      }
    }
  }
}

HM_TARGET_AVX2 void knn_block_avx2(const TileBlock& b, KnnTile& state) {
  const size_t ngroups = (b.nrefs + kLanes - 1) / kLanes;
  const RefGroup* const groups = b.groups;  // not reloaded after every hit append
  for (size_t qi = 0; qi < b.nq; ++qi) {
    __m256i q[kHash256Words];
    for (int j = 0; j < kHash256Words; ++j) {
      q[j] = _mm256_set1_epi64x(static_cast<long long>(b.queries[qi].w[j]));
    }
    int32_t threshold = state.threshold(qi);
    // Lanes pass where distance < threshold, i.e. distance <= threshold - 1.
    __m256i limit = _mm256_set1_epi32(threshold - 1);
    for (size_t g = 0; g < ngroups; ++g) {
      const __m256i lo = avx2_distances<kHash256Words>(groups[g], 0, q);
      const __m256i hi = avx2_distances<kHash256Words>(groups[g], 1, q);
      const unsigned bits = avx2_le_bits(avx2_interleave(lo, hi), limit);
      if (bits != 0) {
        alignas(32) uint64_t dist[kLanes];
        _mm256_store_si256(reinterpret_cast<__m256i*>(dist), lo);
        _mm256_store_si256(reinterpret_cast<__m256i*>(dist + 4), hi);
        threshold = offer_knn_lanes(b, qi, g, lanes_from_interleaved(bits), dist, threshold, state);
        limit = _mm256_set1_epi32(threshold - 1);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// AVX-512 VPOPCNTDQ: one 512-bit load is word j of all eight refs of a group;
// vpopcntq counts each lane, and the lane sums are the distances.

/// Distances over the first kWords words between query q (each word
/// broadcast to 8 lanes) and the 8 refs of a group, one per 64-bit lane.
template <int kWords>
HM_TARGET_AVX512 HM_ALWAYS_INLINE __m512i avx512_distances(const RefGroup& group,
                                                           const __m512i* q) {
  __m512i sum = _mm512_setzero_si512();
  for (int j = 0; j < kWords; ++j) {
    const __m512i r = _mm512_loadu_si512(static_cast<const void*>(group.w[j]));
    sum = _mm512_add_epi64(sum, _mm512_popcnt_epi64(_mm512_xor_si512(r, q[j])));
  }
  return sum;
}

template <int kWords>
HM_TARGET_AVX512 void range_block_avx512(const TileBlock& b, int max_distance,
                                         std::vector<RangeHit>& hits) {
  const size_t ngroups = (b.nrefs + kLanes - 1) / kLanes;
  const RefGroup* const groups = b.groups;  // not reloaded after every hit append
  const __m512i limit = _mm512_set1_epi64(max_distance);
  for (size_t qi = 0; qi < b.nq; ++qi) {
    __m512i q[kWords];
    for (int j = 0; j < kWords; ++j) {
      q[j] = _mm512_set1_epi64(static_cast<long long>(b.queries[qi].w[j]));
    }
    for (size_t g = 0; g < ngroups; ++g) {
      const __m512i d = avx512_distances<kWords>(groups[g], q);
      const unsigned lanes = static_cast<unsigned>(_mm512_cmple_epu64_mask(d, limit));
      if (lanes != 0) append_range_hits(b, qi, g, lanes, max_distance, hits);
    }
  }
}

HM_TARGET_AVX512 void knn_block_avx512(const TileBlock& b, KnnTile& state) {
  const size_t ngroups = (b.nrefs + kLanes - 1) / kLanes;
  const RefGroup* const groups = b.groups;  // not reloaded after every hit append
  for (size_t qi = 0; qi < b.nq; ++qi) {
    __m512i q[kHash256Words];
    for (int j = 0; j < kHash256Words; ++j) {
      q[j] = _mm512_set1_epi64(static_cast<long long>(b.queries[qi].w[j]));
    }
    int32_t threshold = state.threshold(qi);
    __m512i limit = _mm512_set1_epi64(threshold);
    for (size_t g = 0; g < ngroups; ++g) {
      const __m512i d = avx512_distances<kHash256Words>(groups[g], q);
      const unsigned lanes = static_cast<unsigned>(_mm512_cmplt_epu64_mask(d, limit));
      if (lanes != 0) {
        alignas(64) uint64_t dist[kLanes];
        _mm512_store_si512(static_cast<void*>(dist), d);
        threshold = offer_knn_lanes(b, qi, g, lanes, dist, threshold, state);
        limit = _mm512_set1_epi64(threshold);
      }
    }
  }
}
#endif  // HM_HAVE_X86_KERNELS

// ---------------------------------------------------------------------------
// Kernel selection.

using RangeBlockFn = void (*)(const TileBlock&, int, std::vector<RangeHit>&);
using KnnBlockFn = void (*)(const TileBlock&, KnnTile&);

/// The block functions of one kernel.
struct KernelOps {
  RangeBlockFn range_half_filter;  // first two words, then exact checks
  RangeBlockFn range_full;         // all four words
  KnnBlockFn knn;
};

struct CpuFeatures {
  bool popcnt = false;
  bool avx2 = false;
  bool avx512 = false;
};

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures f;
#if HM_HAVE_X86_KERNELS
    __builtin_cpu_init();
    f.popcnt = __builtin_cpu_supports("popcnt");
    f.avx2 = f.popcnt && __builtin_cpu_supports("avx2");
    f.avx512 =
        f.popcnt && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq");
#endif
    return f;
  }();
  return features;
}

KernelOps kernel_ops(PopcountKernel kernel) {
  if (!popcount_kernel_supported(kernel)) {
    throw std::invalid_argument(std::string("hamming search: this CPU cannot run the ") +
                                popcount_kernel_name(kernel) + " kernel");
  }
#if HM_HAVE_X86_KERNELS
  switch (kernel) {
    case PopcountKernel::Avx512:
      return {range_block_avx512<2>, range_block_avx512<4>, knn_block_avx512};
    case PopcountKernel::Avx2:
      return {range_block_avx2<2>, range_block_avx2<4>, knn_block_avx2};
    case PopcountKernel::Scalar:
      if (cpu_features().popcnt) {
        return {range_block_popcnt<2>, range_block_popcnt<4>, knn_block_popcnt};
      }
      break;
  }
#endif
  return {range_block_generic<2>, range_block_generic<4>, knn_block_generic};
}

// ---------------------------------------------------------------------------
// Work plan and threads.

/// Row-major hashes as words.
void load_queries(const uint8_t* rows, size_t n, QueryWords* out) {
  for (size_t i = 0; i < n; ++i) memcpy(out[i].w, rows + i * kHash256Bytes, kHash256Bytes);
}

/// Transposes n <= kRefBlock row-major refs into ceil(n / 8) groups, with
/// zero words in the lanes past n.
void transpose_refs(const uint8_t* rows, size_t n, RefGroup* out) {
  const size_t ngroups = (n + kLanes - 1) / kLanes;
  for (size_t g = 0; g < ngroups; ++g) {
    for (size_t lane = 0; lane < kLanes; ++lane) {
      const size_t i = g * kLanes + lane;
      uint64_t w[kHash256Words] = {0, 0, 0, 0};
      if (i < n) memcpy(w, rows + i * kHash256Bytes, kHash256Bytes);
      for (int j = 0; j < kHash256Words; ++j) out[g].w[j][lane] = w[j];
    }
  }
}

/// How a search is cut into tasks: query tile `t` against ref part `p` is
/// task t * parts + p, so tasks run in (tile, part) order when merged.
struct SearchPlan {
  size_t nq = 0, nr = 0;
  size_t tile = 0;       // queries per tile
  size_t tiles = 0;      // query tiles
  size_t parts = 1;      // ref parts per tile
  size_t part_refs = 0;  // refs per part (the last may be shorter)
  int threads = 1;

  size_t tasks() const { return tiles * parts; }
  size_t tile_begin(size_t t) const { return t * tile; }
  size_t tile_size(size_t t) const { return std::min(tile, nq - tile_begin(t)); }
  size_t part_begin(size_t part) const { return part * part_refs; }
  size_t part_size(size_t part) const { return std::min(part_refs, nr - part_begin(part)); }
};

/// tile: queries per tile, at most kQueryTile.
SearchPlan plan_search(size_t nq, size_t nr, size_t tile) {
  SearchPlan plan;
  plan.nq = nq;
  plan.nr = nr;
  plan.tile = tile;
  plan.tiles = (nq + tile - 1) / tile;
  plan.part_refs = nr;
  // Inside someone else's parallel region the caller already owns the cores.
  int threads = omp_in_parallel() ? 1 : std::max(1, omp_get_max_threads());
  const double pairs = static_cast<double>(nq) * static_cast<double>(nr);
  threads = static_cast<int>(std::min<double>(threads, std::max(1.0, pairs / kMinPairsPerThread)));
  plan.threads = threads;
  if (threads > 1 && plan.tiles < 4 * static_cast<size_t>(threads)) {
    // Too few tiles to keep every thread busy: split the refs too, in about
    // four tasks per thread so that uneven tasks still balance.
    const size_t want = (4 * static_cast<size_t>(threads) + plan.tiles - 1) / plan.tiles;
    const size_t parts = std::max<size_t>(1, std::min(want, nr / kMinPartRefs));
    const size_t per_part = (nr + parts - 1) / parts;
    plan.part_refs = (per_part + kRefBlock - 1) / kRefBlock * kRefBlock;
    plan.parts = (nr + plan.part_refs - 1) / plan.part_refs;
  }
  return plan;
}

/// Runs fn(task) for task in [0, n) on up to `threads` threads (the caller's
/// among them), handing tasks out in order. The first exception is rethrown
/// once every thread has stopped.
template <class Fn>
void run_tasks(size_t n, int threads, Fn&& fn) {
  const size_t workers = std::min(static_cast<size_t>(std::max(threads, 1)), n);
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::exception_ptr failure;
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
        next.store(n);
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (size_t t = 1; t < workers; ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no more threads to be had: the ones running share the tasks
    }
  }
  work();
  for (std::thread& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
}

/// Runs `block(tile_block)` over the ref part of a task, one transposed
/// block of refs at a time.
template <class Block>
void scan_task(const SearchPlan& plan, const uint8_t* queries, const uint8_t* refs, size_t tile,
               size_t part, Block&& block) {
  QueryWords query_words[kQueryTile];
  RefGroup groups[kGroupsPerBlock];
  const size_t nq = plan.tile_size(tile);
  load_queries(queries + plan.tile_begin(tile) * kHash256Bytes, nq, query_words);
  const size_t begin = plan.part_begin(part);
  const size_t end = begin + plan.part_size(part);
  for (size_t r = begin; r < end; r += kRefBlock) {
    const size_t n = std::min(kRefBlock, end - r);
    transpose_refs(refs + r * kHash256Bytes, n, groups);
    block(TileBlock{query_words, nq, groups, n, static_cast<int64_t>(r)});
  }
}

/// Writes n sorted neighbors, then padding, into one top-k row.
void write_knn_row(const Neighbor* neighbors, size_t n, size_t k, int32_t* distances,
                   int64_t* labels) {
  for (size_t j = 0; j < k; ++j) {
    distances[j] = j < n ? neighbors[j].distance : kKnnPadDistance;
    labels[j] = j < n ? neighbors[j].label : kKnnPadLabel;
  }
}

}  // namespace

bool popcount_kernel_supported(PopcountKernel kernel) {
  switch (kernel) {
    case PopcountKernel::Scalar:
      return true;
    case PopcountKernel::Avx2:
      return cpu_features().avx2;
    case PopcountKernel::Avx512:
      return cpu_features().avx512;
  }
  return false;
}

PopcountKernel popcount_kernel_best() {
  if (cpu_features().avx512) return PopcountKernel::Avx512;
  if (cpu_features().avx2) return PopcountKernel::Avx2;
  return PopcountKernel::Scalar;
}

const char* popcount_kernel_name(PopcountKernel kernel) {
  switch (kernel) {
    case PopcountKernel::Scalar:
      return "scalar";
    case PopcountKernel::Avx2:
      return "avx2";
    case PopcountKernel::Avx512:
      return "avx512";
  }
  return "unknown";
}

void hamming_range_cpu(const uint8_t* queries, size_t nq, const uint8_t* refs, size_t nr,
                       int max_distance, HammingRangeResult& out, PopcountKernel kernel) {
  const KernelOps ops = kernel_ops(kernel);
  out.lims.assign(nq + 1, 0);
  out.labels.clear();
  out.distances.clear();
  if (nq == 0 || nr == 0 || max_distance < 0) return;
  max_distance = std::min(max_distance, 8 * kHash256Bytes);
  const RangeBlockFn range_block =
      max_distance <= kHalfFilterMaxDistance ? ops.range_half_filter : ops.range_full;

  const SearchPlan plan = plan_search(nq, nr, kQueryTile);
  std::vector<std::vector<RangeHit>> task_hits(plan.tasks());
  run_tasks(plan.tasks(), plan.threads, [&](size_t task) {
    std::vector<RangeHit>& hits = task_hits[task];
    scan_task(plan, queries, refs, task / plan.parts, task % plan.parts,
              [&](const TileBlock& b) { range_block(b, max_distance, hits); });
  });

  // Within a task each query's hits come in ascending label order, and a
  // tile's tasks cover ascending ref parts: a stable scatter by query keeps
  // every query's hits sorted.
  for (size_t task = 0; task < task_hits.size(); ++task) {
    const size_t first_query = plan.tile_begin(task / plan.parts);
    for (const RangeHit& hit : task_hits[task]) ++out.lims[first_query + hit.query + 1];
  }
  for (size_t i = 0; i < nq; ++i) out.lims[i + 1] += out.lims[i];
  out.labels.resize(out.lims[nq]);
  out.distances.resize(out.lims[nq]);
  std::vector<size_t> cursor(out.lims.begin(), out.lims.end() - 1);
  for (size_t task = 0; task < task_hits.size(); ++task) {
    const size_t first_query = plan.tile_begin(task / plan.parts);
    for (const RangeHit& hit : task_hits[task]) {
      const size_t at = cursor[first_query + hit.query]++;
      out.labels[at] = hit.label;
      out.distances[at] = hit.distance;
    }
  }
}

void hamming_knn_cpu(const uint8_t* queries, size_t nq, const uint8_t* refs, size_t nr, size_t k,
                     int32_t* distances, int64_t* labels, PopcountKernel kernel) {
  const KernelOps ops = kernel_ops(kernel);
  if (nq == 0 || k == 0) return;
  if (nr == 0) {
    for (size_t i = 0; i < nq; ++i) write_knn_row(nullptr, 0, k, distances + i * k, labels + i * k);
    return;
  }

  const size_t tile_queries = std::max<size_t>(1, std::min(kQueryTile, kKnnTileNeighbors / k));
  const SearchPlan plan = plan_search(nq, nr, tile_queries);
  // With one part per tile a task's heaps are final and go straight to the
  // output; with several, each part keeps its own top-k, merged below.
  struct PartTopK {
    std::vector<Neighbor> neighbors;  // [tile size][k], each row sorted
    std::vector<size_t> counts;       // [tile size]
  };
  std::vector<PartTopK> partial(plan.parts > 1 ? plan.tasks() : 0);
  run_tasks(plan.tasks(), plan.threads, [&](size_t task) {
    const size_t tile = task / plan.parts;
    const size_t part = task % plan.parts;
    const size_t tile_nq = plan.tile_size(tile);
    const size_t cap = std::min(k, plan.part_size(part));
    KnnTile state(tile_nq, cap);
    scan_task(plan, queries, refs, tile, part, [&](const TileBlock& b) { ops.knn(b, state); });
    if (plan.parts == 1) {
      for (size_t qi = 0; qi < tile_nq; ++qi) {
        size_t n = 0;
        const Neighbor* row = state.sorted(qi, &n);
        const size_t q = plan.tile_begin(tile) + qi;
        write_knn_row(row, n, k, distances + q * k, labels + q * k);
      }
      return;
    }
    PartTopK& out = partial[task];
    out.neighbors.resize(tile_nq * cap);
    out.counts.resize(tile_nq);
    for (size_t qi = 0; qi < tile_nq; ++qi) {
      const Neighbor* row = state.sorted(qi, &out.counts[qi]);
      std::copy(row, row + out.counts[qi], out.neighbors.begin() + qi * cap);
    }
  });
  if (plan.parts == 1) return;

  // (distance, label) is a total order, so the k smallest of the parts' top-k
  // are the global top-k whatever the cut.
  run_tasks(plan.tiles, plan.threads, [&](size_t tile) {
    std::vector<Neighbor> merged;
    for (size_t qi = 0; qi < plan.tile_size(tile); ++qi) {
      merged.clear();
      for (size_t part = 0; part < plan.parts; ++part) {
        const PartTopK& p = partial[tile * plan.parts + part];
        const size_t cap = std::min(k, plan.part_size(part));
        const auto first = p.neighbors.begin() + qi * cap;
        merged.insert(merged.end(), first, first + p.counts[qi]);
      }
      const size_t n = std::min(k, merged.size());
      std::partial_sort(merged.begin(), merged.begin() + n, merged.end());
      const size_t q = plan.tile_begin(tile) + qi;
      write_knn_row(merged.data(), n, k, distances + q * k, labels + q * k);
    }
  });
}

}  // namespace hm
