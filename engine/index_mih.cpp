// Exact multi-index hashing: chunk layout, CSR tables, probe plans, searches.
#include "index_mih.hpp"

#include <string.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include <faiss/impl/AuxIndexStructures.h>

#include "hamming.hpp"
#include "hamming_cpu.hpp"
#include "huge_pages.hpp"

// The hot loops are popcount-bound; the baseline x86-64 target has no POPCNT
// instruction (GCC calls a library routine instead), so they get a POPCNT
// clone chosen at load time.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HM_POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define HM_POPCNT_CLONES
#endif
/// Helpers of the cloned functions must be inlined into each clone.
#define HM_MIH_INLINE inline __attribute__((always_inline))

namespace hm {

namespace {

constexpr int kBits = 256;

/// One chunk: `bits` consecutive bits of the code read as four little-endian
/// 64-bit words, starting at bit `shift` of word `word` (may spill into the
/// next word). Any consistent bit numbering works: chunks only need to be
/// disjoint and to cover the code, and tables are rebuilt from codes on load.
struct Chunk {
  int bits;
  int word;
  int shift;
  uint32_t mask;
};

HM_MIH_INLINE uint32_t chunk_key(const uint64_t* words, const Chunk& c) {
  uint64_t v = words[c.word] >> c.shift;
  if (c.shift + c.bits > 64) v |= words[c.word + 1] << (64 - c.shift);
  return uint32_t(v) & c.mask;
}

/// Chunks as equal as possible (see MihIndex::chunk_layout): no table has
/// more than 2^max_bits buckets. E.g. 24 -> 11 chunks (3 of 24 bits, 8 of 23).
std::vector<Chunk> make_chunks(int max_bits) {
  std::vector<Chunk> chunks;
  int start = 0;
  for (int bits : MihIndex::chunk_layout(max_bits)) {
    chunks.push_back({bits, start / 64, start % 64, uint32_t((uint64_t(1) << bits) - 1)});
    start += bits;
  }
  return chunks;
}

/// Gosper's hack: the next larger integer with the same number of set bits.
HM_MIH_INLINE uint64_t next_same_popcount(uint64_t x) {
  const uint64_t low = x & (~x + 1);
  const uint64_t ripple = x + low;
  return (((ripple ^ x) >> 2) >> __builtin_ctzll(x)) | ripple;
}

double binomial(int n, int k) {
  if (k < 0 || k > n) return 0;
  double r = 1;
  for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}


}  // namespace

/// CSR tables, one per chunk: the labels whose chunk value is `key` are
/// ids[j][offsets[j][key] .. offsets[j][key + 1]), in ascending order. All
/// the arrays lie in one allocation (about 100 MB per million references),
/// not zero-filled (the build writes every word) and on huge pages where
/// the kernel has them: faulting ~25,000 small pages in one at a time cost
/// about as much as the sort.
struct MihTables {
  MihTables(std::vector<Chunk> table_chunks, size_t n)
      : chunks(std::move(table_chunks)), count(n), memory(new uint32_t[words(chunks, n)]) {
    advise_huge_pages(memory.get(), words(chunks, n) * sizeof(uint32_t));
    uint32_t* at = memory.get();
    for (const Chunk& c : chunks) {
      offsets.push_back(at);
      at += (size_t(1) << c.bits) + 1;
      ids.push_back(at);
      at += count;
    }
  }
  /// uint32 words for the tables of `chunks` over n references.
  static size_t words(const std::vector<Chunk>& chunks, size_t n) {
    size_t w = 0;
    for (const Chunk& c : chunks) w += (size_t(1) << c.bits) + 1 + n;
    return w;
  }
  size_t bytes() const {
    return words(chunks, count) * sizeof(uint32_t) + chunks.size() * sizeof(Chunk);
  }

  std::vector<Chunk> chunks;
  size_t count;                         // N
  std::unique_ptr<uint32_t[]> memory;   // the arrays below, back to back
  std::vector<uint32_t*> offsets;       // [m] -> [2^bits_j + 1]
  std::vector<uint32_t*> ids;           // [m] -> [N]
};

namespace {

/// Widest radix digit: 2^12 scatter streams or counters stay within L1/L2.
constexpr int kMaxDigitBits = 12;

/// One thread's scratch for sorting a chunk, reused across its chunks: the
/// (chunk value << 32 | label) pairs ordered by the high digit [N] (one
/// array, so the scatter writes 2^high streams, not twice that), the high
/// digit's bucket bounds and the low digit's counters.
struct SortScratch {
  explicit SortScratch(size_t count)
      : pairs(new uint64_t[count]), bounds((size_t(1) << kMaxDigitBits) + 1),
        cursor(size_t(1) << kMaxDigitBits) {
    advise_huge_pages(pairs.get(), count * sizeof(uint64_t));
  }
  std::unique_ptr<uint64_t[]> pairs;
  std::vector<uint32_t> bounds, cursor;
};

/// Sorts chunk j's labels by chunk value, stably (each bucket's labels stay
/// ascending), and writes its offsets. On entry `ids` holds the chunk values
/// of labels 0 .. count-1; on return it holds the sorted labels.
///
/// An MSD radix sort of at most two digits of at most 12 bits: one
/// sequential scatter by the high digit into 2^high streams, then, per high
/// bucket (a few KB at the automatic width), a counting sort by the low digit
/// whose prefix sums are exactly that bucket's slice of `offsets`, so no
/// pass over the sorted keys is needed. Chunks of at most 12 bits have no
/// high digit: one counting sort. A plain counting sort over the whole key
/// would instead increment random entries of up to 2^24 counters, one cache
/// miss per reference (about 10x slower at 10M references).
void sort_chunk(const Chunk& c, size_t count, uint32_t* ids, uint32_t* offsets,
                SortScratch& s) {
  const int low_bits = c.bits > kMaxDigitBits ? c.bits / 2 : c.bits;
  const int high_bits = c.bits - low_bits;
  const size_t high_buckets = size_t(1) << high_bits;
  // bounds[h] = the first position of high bucket h in s.pairs.
  uint32_t* bounds = s.bounds.data();
  std::fill_n(bounds, high_buckets + 1, 0u);
  uint32_t* cursor = s.cursor.data();
  uint64_t* pairs = s.pairs.get();
  if (high_bits == 0) {
    bounds[1] = uint32_t(count);
    for (size_t i = 0; i < count; ++i) pairs[i] = uint64_t(ids[i]) << 32 | i;
  } else {
    for (size_t i = 0; i < count; ++i) ++bounds[(ids[i] >> low_bits) + 1];
    for (size_t h = 1; h <= high_buckets; ++h) bounds[h] += bounds[h - 1];
    std::copy_n(bounds, high_buckets, cursor);
    for (size_t i = 0; i < count; ++i)
      pairs[cursor[ids[i] >> low_bits]++] = uint64_t(ids[i]) << 32 | i;
  }
  // The chunk values in `ids` are spent: the labels land there, bucket by bucket.
  const size_t low_buckets = size_t(1) << low_bits;
  const uint32_t low_mask = uint32_t(low_buckets - 1);
  for (size_t h = 0; h < high_buckets; ++h) {
    const uint32_t begin = bounds[h], end = bounds[h + 1];
    uint32_t* slice = offsets + (h << low_bits);
    if (begin == end) {
      std::fill_n(slice, low_buckets, begin);
      continue;
    }
    std::fill_n(cursor, low_buckets, 0u);
    for (uint32_t p = begin; p < end; ++p) ++cursor[uint32_t(pairs[p] >> 32) & low_mask];
    uint32_t at = begin;
    for (size_t l = 0; l < low_buckets; ++l) {
      slice[l] = at;
      at += cursor[l];
      cursor[l] = slice[l];
    }
    for (uint32_t p = begin; p < end; ++p)
      ids[cursor[uint32_t(pairs[p] >> 32) & low_mask]++] = uint32_t(pairs[p]);
  }
  offsets[size_t(1) << c.bits] = uint32_t(count);
}

/// Builds every chunk's table over `count` codes [count, 32]: one pass over
/// the codes extracts all chunk values (into the ids arrays, which the sort
/// then overwrites), then the chunks are sorted in parallel, each thread
/// reusing one scratch.
std::unique_ptr<MihTables> build_mih_tables(std::vector<Chunk> chunks, const uint8_t* codes,
                                            size_t count) {
  auto t = std::make_unique<MihTables>(std::move(chunks), count);
  const int m = int(t->chunks.size());
  uint32_t* const* keys = t->ids.data();
  const Chunk* c = t->chunks.data();
  const ptrdiff_t n = ptrdiff_t(count);
#if defined(_OPENMP)
#pragma omp parallel for schedule(static)
#endif
  for (ptrdiff_t i = 0; i < n; ++i) {
    uint64_t w[kHash256Words];
    memcpy(w, codes + size_t(i) * kHash256Bytes, kHash256Bytes);
    for (int j = 0; j < m; ++j) keys[j][i] = chunk_key(w, c[j]);
  }
#if defined(_OPENMP)
#pragma omp parallel
#endif
  {
    SortScratch scratch(count);
#if defined(_OPENMP)
#pragma omp for schedule(dynamic, 1)
#endif
    for (int j = 0; j < m; ++j)
      sort_chunk(c[j], count, t->ids[size_t(j)], t->offsets[size_t(j)], scratch);
  }
  return t;
}

/// Estimated costs in one unit: a random memory access (a bucket's offsets,
/// or a candidate's id and code). A scan streams the codes through the
/// brute-force kernel (hamming_range_cpu), a small fraction of that per code.
/// Calibrated on random references, one thread: the switch to the scan lands
/// near the measured crossover (T ~ 33 at 10k references, ~40 at 100k, ~48
/// at 1M with the automatic chunk width).
struct Costs {
  static constexpr double kProbe = 1.0;
  static constexpr double kCandidate = 1.0;
  static constexpr double kScanPerCode = 0.025;

  Costs(const MihTables& t, size_t count) : linear(kScanPerCode * double(count)) {
    for (const Chunk& c : t.chunks) {
      bits.push_back(c.bits);
      per_key.push_back(kProbe + kCandidate * double(count) / double(uint64_t(1) << c.bits));
    }
  }
  /// Probing every key exactly `level` bits away from the query's in chunk j.
  double level(int j, int level) const { return binomial(bits[j], level) * per_key[j]; }
  /// The chunk whose next level is cheapest (lowest index on ties), or -1
  /// when every chunk is fully probed. Level costs rise with the level (up to
  /// half the width, past which a scan is far cheaper), so raising radii one
  /// step at a time this way gives the cheapest radii for a covered distance.
  int cheapest_next(const std::vector<int>& radius) const {
    int best = -1;
    double best_cost = 0;
    for (size_t j = 0; j < bits.size(); ++j) {
      if (radius[j] >= bits[j]) continue;
      const double c = level(int(j), radius[j] + 1);
      if (best < 0 || c < best_cost) best = int(j), best_cost = c;
    }
    return best;
  }

  double linear;
  std::vector<int> bits;
  std::vector<double> per_key;
};

/// Radii r_j (-1: chunk not probed) with sum_j (r_j + 1) = max_distance + 1,
/// which the pigeonhole argument needs, at the least estimated cost. With
/// max_distance 0 a single chunk is probed for exact copies; with 31 and 11
/// chunks, ten are probed to 2 flips and one to 1.
std::vector<int> plan_radii(const Costs& costs, int max_distance, double* total) {
  std::vector<int> radius(costs.bits.size(), -1);
  *total = 0;
  for (int covered = -1; covered < max_distance; ++covered) {
    const int j = costs.cheapest_next(radius);
    if (j < 0) break;  // every chunk fully probed: every reference is a candidate
    *total += costs.level(j, radius[j] + 1);
    ++radius[j];
  }
  return radius;
}

/// One query's probes. `radius_[j]` is how far chunk j has been probed so
/// far (-1: not yet). A reference reached by probing chunk j at `level` has
/// chunk j exactly `level` bits from the query's, so it was already reached
/// iff some other chunk j' is within radius_[j'] of the query's: checking
/// that (a few popcounts, and only for references that pass the distance
/// bound) reports each reference once with no visited set.
class QueryProbe {
 public:
  QueryProbe(const MihTables& t, const uint8_t* codes, const uint8_t* query)
      : t_(t), codes_(codes), query_(query), radius_(t.chunks.size(), -1) {
    memcpy(words_, query, kHash256Bytes);
    for (const Chunk& c : t.chunks) keys_.push_back(chunk_key(words_, c));
  }

  const std::vector<int>& radius() const { return radius_; }

  /// Calls emit(label, distance) for every reference not reached before
  /// whose chunk j is exactly `level` bits from the query's and whose
  /// distance is <= bound (read again for each candidate: emit may lower
  /// it). Then records chunk j as probed up to `level`.
  template <class Emit>
  HM_MIH_INLINE void probe(int j, int level, const int& bound, Emit&& emit) {
    const uint32_t key = keys_[size_t(j)];
    uint32_t batch[kKeyBatch];
    int nk = 0;
    if (level == 0) {
      batch[nk++] = key;
    } else {
      const uint64_t end = uint64_t(1) << t_.chunks[size_t(j)].bits;
      for (uint64_t flips = (uint64_t(1) << level) - 1; flips < end;
           flips = next_same_popcount(flips)) {
        batch[nk++] = key ^ uint32_t(flips);
        if (nk == kKeyBatch) {
          probe_keys(j, batch, nk, bound, emit);
          nk = 0;
        }
      }
    }
    if (nk > 0) probe_keys(j, batch, nk, bound, emit);
    radius_[size_t(j)] = level;
  }

 private:
  // Every key, bucket and candidate is a likely cache miss in a large
  // index. Working on batches, with each stage prefetching what the next
  // reads (offsets, then ids, then codes), keeps many misses in flight
  // instead of one at a time.
  static constexpr int kKeyBatch = 32;
  static constexpr int kCandidateBatch = 64;

  template <class Emit>
  HM_MIH_INLINE void probe_keys(int j, const uint32_t* keys, int nk, const int& bound,
                                Emit& emit) const {
    const uint32_t* offsets = t_.offsets[size_t(j)];
    const uint32_t* ids = t_.ids[size_t(j)];
    for (int i = 0; i < nk; ++i) __builtin_prefetch(offsets + keys[i]);
    uint32_t begin[kKeyBatch], end[kKeyBatch];
    for (int i = 0; i < nk; ++i) {
      begin[i] = offsets[keys[i]];
      end[i] = offsets[keys[i] + 1];
      __builtin_prefetch(ids + begin[i]);
    }
    uint32_t candidates[kCandidateBatch];
    int nc = 0;
    for (int i = 0; i < nk; ++i) {
      for (uint32_t p = begin[i]; p < end[i]; ++p) {
        const uint32_t id = ids[p];
        __builtin_prefetch(codes_ + size_t(id) * kHash256Bytes);
        candidates[nc++] = id;
        if (nc == kCandidateBatch) {
          verify(j, candidates, nc, bound, emit);
          nc = 0;
        }
      }
    }
    verify(j, candidates, nc, bound, emit);
  }

  template <class Emit>
  HM_MIH_INLINE void verify(int j, const uint32_t* candidates, int nc, const int& bound,
                            Emit& emit) const {
    for (int i = 0; i < nc; ++i) {
      const uint8_t* code = codes_ + size_t(candidates[i]) * kHash256Bytes;
      const int d = hamming256(code, query_);
      if (d <= bound && !reached_before(code, j)) emit(candidates[i], d);
    }
  }

  HM_MIH_INLINE bool reached_before(const uint8_t* code, int j) const {
    uint64_t w[kHash256Words];
    memcpy(w, code, kHash256Bytes);
    for (size_t o = 0; o < radius_.size(); ++o) {
      if (int(o) == j || radius_[o] < 0) continue;
      if (popcount64(chunk_key(w, t_.chunks[o]) ^ keys_[o]) <= radius_[o]) return true;
    }
    return false;
  }

  const MihTables& t_;
  const uint8_t* codes_;
  const uint8_t* query_;
  uint64_t words_[kHash256Words];
  std::vector<uint32_t> keys_;
  std::vector<int> radius_;
};

using Match = MihIndex::Match;
using idx_t = MihIndex::idx_t;

HM_POPCNT_CLONES
void range_probe(const MihTables& t, const uint8_t* codes, const uint8_t* query, int max_distance,
                 const std::vector<int>& plan, std::vector<Match>& out) {
  QueryProbe q(t, codes, query);
  // Chunk by chunk: once chunk j is done, radius_[j] is final for the rest.
  for (size_t j = 0; j < plan.size(); ++j)
    for (int level = 0; level <= plan[j]; ++level)
      q.probe(int(j), level, max_distance,
              [&](uint32_t id, int d) { out.push_back({idx_t(id), d}); });
  std::sort(out.begin(), out.end(),
            [](const Match& a, const Match& b) { return a.index < b.index; });
}

/// Writes up to k (distance, label) pairs, sorted, padded to k as FAISS pads.
void write_knn(std::vector<std::pair<int32_t, idx_t>>& found, idx_t k, int32_t* distances,
               idx_t* labels) {
  const size_t kept = std::min(found.size(), size_t(k));
  std::partial_sort(found.begin(), found.begin() + ptrdiff_t(kept), found.end());
  for (size_t r = 0; r < size_t(k); ++r) {
    distances[r] = r < kept ? found[r].first : std::numeric_limits<int32_t>::max();
    labels[r] = r < kept ? found[r].second : -1;
  }
}

/// Grows the covered distance one step at a time (each step probes the next
/// level of the cheapest chunk) until the k nearest are known: once k
/// references lie within `bound` and bound <= covered, every reference at
/// distance <= bound has been found, so the k smallest (distance, label)
/// pairs found are the true ones, ties included. Gives up (returns false,
/// writing nothing) once the probes spent plus the next would cost more than
/// half a scan, unless `probe_only`: such queries are scanned together after,
/// so a query with no near neighbours costs at most about 1.5 scans. (Half:
/// until k are found every candidate is also checked and kept, which costs
/// more than a range search's rejection.)
HM_POPCNT_CLONES
bool knn_probe(const MihTables& t, const Costs& costs, const uint8_t* codes,
               const uint8_t* query, idx_t k, bool probe_only, int32_t* distances,
               idx_t* labels) {
  QueryProbe q(t, codes, query);
  std::vector<std::pair<int32_t, idx_t>> found;
  size_t histogram[kBits + 1] = {};
  int bound = kBits;   // the k-th smallest distance found so far (kBits until k found)
  size_t within = 0;   // references found at distance <= bound
  double spent = 0;
  for (int covered = -1; covered < kBits && !(within >= size_t(k) && bound <= covered);
       ++covered) {
    const int j = costs.cheapest_next(q.radius());
    if (j < 0) break;
    const int level = q.radius()[size_t(j)] + 1;
    spent += costs.level(j, level);
    if (!probe_only && spent > 0.5 * costs.linear) return false;
    q.probe(j, level, bound, [&](uint32_t id, int d) {
      found.emplace_back(d, idx_t(id));
      ++histogram[d];
      ++within;
      while (within - histogram[bound] >= size_t(k)) within -= histogram[bound--];
    });
  }
  write_knn(found, k, distances, labels);
  return true;
}

/// Whether n queries of about `units` each (Costs units) are worth a
/// parallel region: starting and joining a team costs tens of microseconds,
/// more on a loaded machine, which small batches on small lists never earn.
[[maybe_unused]] bool worth_threads(idx_t n, double units) {
  return n > 1 && double(n) * units >= 4096;
}

void check_query_args(idx_t n, const uint8_t* x, const faiss::SearchParameters* params) {
  if (n < 0) throw std::invalid_argument("MihIndex: negative query count");
  if (n > 0 && x == nullptr) throw std::invalid_argument("MihIndex: null queries");
  if (params != nullptr)
    throw std::invalid_argument("MihIndex: search parameters are not supported");
}

}  // namespace

// The base is always made with 256 bits, so any other d (even one FAISS
// itself rejects, not a multiple of 8) gets the same std::invalid_argument.
MihIndex::MihIndex(int d, int chunk_bits) : faiss::IndexBinary(kBits, faiss::METRIC_L2) {
  if (d != kBits) throw std::invalid_argument("MihIndex: d must be 256, got " + std::to_string(d));
  set_chunk_bits(chunk_bits);
}

MihIndex::~MihIndex() = default;

void MihIndex::set_chunk_bits(int chunk_bits) {
  if (chunk_bits != 0 && (chunk_bits < kMinChunkBits || chunk_bits > kMaxChunkBits))
    throw std::invalid_argument("MihIndex: chunk_bits must be 0 or in [" +
                                std::to_string(kMinChunkBits) + ", " +
                                std::to_string(kMaxChunkBits) + "], got " +
                                std::to_string(chunk_bits));
  std::lock_guard<std::mutex> lock(build_mutex_);
  chunk_bits_ = chunk_bits;
  built_.store(false);
  tables_.reset();
}

void MihIndex::add(idx_t n, const uint8_t* x) {
  if (n < 0) throw std::invalid_argument("MihIndex::add: negative count");
  if (n == 0) return;
  if (x == nullptr) throw std::invalid_argument("MihIndex::add: null codes");
  if (n > kMaxCount - ntotal)
    throw std::length_error("MihIndex::add: more than " + std::to_string(kMaxCount) +
                            " references");
  std::lock_guard<std::mutex> lock(build_mutex_);
  const size_t bytes = size_t(n) * kHash256Bytes;
  if (codes_.capacity() - codes_.size() < bytes) {
    // Grow as insert would (doubling), on huge pages where the kernel has them.
    codes_.reserve(std::max(codes_.size() + bytes, 2 * codes_.size()));
    advise_huge_pages(codes_.data(), codes_.capacity());
  }
  codes_.insert(codes_.end(), x, x + bytes);
  ntotal += n;
  built_.store(false);
  tables_.reset();  // free now: the rebuild would otherwise briefly hold two copies
}

void MihIndex::reset() {
  std::lock_guard<std::mutex> lock(build_mutex_);
  codes_.clear();
  codes_.shrink_to_fit();
  ntotal = 0;
  built_.store(false);
  tables_.reset();
}

void MihIndex::reconstruct(idx_t key, uint8_t* recons) const {
  if (key < 0 || key >= ntotal)
    throw std::out_of_range("MihIndex::reconstruct: no reference " + std::to_string(key));
  memcpy(recons, codes_.data() + size_t(key) * kHash256Bytes, kHash256Bytes);
}

std::vector<int> MihIndex::chunk_layout(int max_bits) {
  if (max_bits < kMinChunkBits || max_bits > kMaxChunkBits)
    throw std::invalid_argument("MihIndex::chunk_layout: bad width " + std::to_string(max_bits));
  const int m = (kBits + max_bits - 1) / max_bits;
  const int narrow = kBits / m, wide_count = kBits % m;
  std::vector<int> widths;
  for (int j = 0; j < m; ++j) widths.push_back(narrow + (j < wide_count ? 1 : 0));
  return widths;
}

// Buckets then hold about one reference on average (2^w ~ N), the balance
// Norouzi et al. recommend: narrower chunks fill buckets with candidates,
// wider ones multiply the keys to probe. The cost model's cheapest width for
// T = 31 agrees (17 bits at 100k, 20 at 1M, 24 at 10M), and so did timings
// at 10M (24 bits: ~0.5 ms per query, 22 bits: ~0.9 ms). Clamped so tiny
// lists still get real tables and huge ones cap at 64 MiB of offsets per chunk.
int MihIndex::auto_chunk_bits(idx_t count) {
  int bits = 0;
  while (bits < 62 && (idx_t(1) << bits) < count) ++bits;  // ceil(log2(count))
  return std::clamp(bits, 8, kMaxChunkBits);
}

int MihIndex::resolved_chunk_bits() const {
  return chunk_bits_ != 0 ? chunk_bits_ : auto_chunk_bits(ntotal);
}

int MihIndex::chunk_count() const { return int(chunk_layout(resolved_chunk_bits()).size()); }

const MihTables& MihIndex::tables() const {
  // Double-checked: concurrent searches build once; after that, no lock.
  if (!built_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(build_mutex_);
    if (!built_.load(std::memory_order_relaxed)) {
      auto t = build_mih_tables(make_chunks(resolved_chunk_bits()), codes_.data(),
                                size_t(ntotal));
      tables_ = std::move(t);
      built_.store(true, std::memory_order_release);
    }
  }
  return *tables_;
}

void MihIndex::build_tables() const { tables(); }

size_t MihIndex::memory_bytes() const {
  std::lock_guard<std::mutex> lock(build_mutex_);
  return codes_.size() + (tables_ ? tables_->bytes() : 0);
}

bool MihIndex::plan_range(int max_distance, std::vector<int>* radii, double* cost) const {
  if (strategy_ == Strategy::kScan || ntotal == 0) return true;
  const Costs costs(tables(), size_t(ntotal));
  *radii = plan_radii(costs, std::min(max_distance, kBits), cost);
  return strategy_ == Strategy::kAuto && *cost > costs.linear;
}

bool MihIndex::plans_scan(int max_distance) const {
  std::vector<int> radii;
  double cost = 0;
  return plan_range(max_distance, &radii, &cost);
}

std::vector<std::vector<MihIndex::Match>> MihIndex::range_search_within(idx_t n,
                                                                        const uint8_t* x,
                                                                        int max_distance) const {
  check_query_args(n, x, nullptr);
  std::vector<std::vector<Match>> results(static_cast<size_t>(n));
  if (max_distance < 0 || ntotal == 0 || n == 0) return results;
  const size_t count = size_t(ntotal);
  // Distances never exceed 256: beyond that every reference matches.
  max_distance = std::min(max_distance, kBits);
  std::vector<int> plan;
  double cost = 0;
  if (plan_range(max_distance, &plan, &cost)) {
    // The brute-force kernel: vectorised, tiled over queries, threaded.
    HammingRangeResult hits;
    hamming_range_cpu(x, size_t(n), codes_.data(), count, max_distance, hits);
    for (size_t i = 0; i < size_t(n); ++i)
      for (size_t r = hits.lims[i]; r < hits.lims[i + 1]; ++r)
        results[i].push_back({hits.labels[r], hits.distances[r]});
    return results;
  }
  const MihTables& t = tables();
  const uint8_t* codes = codes_.data();
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 4) if (worth_threads(n, cost))
#endif
  for (idx_t i = 0; i < n; ++i)
    range_probe(t, codes, x + size_t(i) * kHash256Bytes, max_distance, plan, results[size_t(i)]);
  return results;
}

void MihIndex::range_search(idx_t n, const uint8_t* x, int radius,
                            faiss::RangeSearchResult* result,
                            const faiss::SearchParameters* params) const {
  check_query_args(n, x, params);
  if (result == nullptr || result->nq != size_t(n))
    throw std::invalid_argument("MihIndex::range_search: result must be made for n queries");
  // Strict: distance < radius is distance <= radius - 1.
  const std::vector<std::vector<Match>> hits =
      range_search_within(n, x, radius > 0 ? radius - 1 : -1);
  for (size_t i = 0; i < size_t(n); ++i) result->lims[i] = hits[i].size();
  result->do_allocation();  // turns the counts in lims into offsets
  for (size_t i = 0; i < size_t(n); ++i) {
    size_t at = result->lims[i];
    for (const Match& m : hits[i]) {
      result->labels[at] = m.index;
      result->distances[at] = float(m.distance);
      ++at;
    }
  }
}

void MihIndex::search(idx_t n, const uint8_t* x, idx_t k, int32_t* distances, idx_t* labels,
                      const faiss::SearchParameters* params) const {
  check_query_args(n, x, params);
  if (k <= 0) throw std::invalid_argument("MihIndex::search: k must be positive");
  if (n == 0) return;
  const size_t count = size_t(ntotal);
  // All references are wanted (or none exist): nothing to prune, scan.
  const bool scan = strategy_ == Strategy::kScan || size_t(k) >= count;
  if (scan)
    return hamming_knn_cpu(x, size_t(n), codes_.data(), count, size_t(k), distances, labels);
  const MihTables& t = tables();
  const Costs costs(t, count);
  const bool probe_only = strategy_ == Strategy::kProbe;
  const uint8_t* codes = codes_.data();
  std::vector<uint8_t> gave_up(static_cast<size_t>(n), 0);
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 4) if (worth_threads(n, 0.5 * costs.linear))
#endif
  for (idx_t i = 0; i < n; ++i)
    gave_up[size_t(i)] = !knn_probe(t, costs, codes, x + size_t(i) * kHash256Bytes, k,
                                    probe_only, distances + size_t(i) * size_t(k),
                                    labels + size_t(i) * size_t(k));
  // Queries whose neighbours are far (e.g. nothing near them in the list)
  // go through the brute-force kernel as one batch, which it tiles.
  std::vector<size_t> rest;
  for (size_t i = 0; i < size_t(n); ++i)
    if (gave_up[i]) rest.push_back(i);
  if (rest.empty()) return;
  std::vector<uint8_t> queries(rest.size() * kHash256Bytes);
  for (size_t r = 0; r < rest.size(); ++r)
    memcpy(&queries[r * kHash256Bytes], x + rest[r] * kHash256Bytes, kHash256Bytes);
  std::vector<int32_t> d(rest.size() * size_t(k));
  std::vector<idx_t> l(rest.size() * size_t(k));
  hamming_knn_cpu(queries.data(), rest.size(), codes, count, size_t(k), d.data(), l.data());
  for (size_t r = 0; r < rest.size(); ++r) {
    std::copy_n(&d[r * size_t(k)], size_t(k), distances + rest[r] * size_t(k));
    std::copy_n(&l[r * size_t(k)], size_t(k), labels + rest[r] * size_t(k));
  }
}

}  // namespace hm
