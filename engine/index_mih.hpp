// Exact multi-index hashing (MIH) over 256-bit hashes (Norouzi, Punjani and
// Fleet, "Fast exact search in Hamming space with multi-index hashing").
//
// The 256 bits are cut into m disjoint chunks, each with its own table from
// chunk value to the references that have it. Probing chunk j with every key
// within r_j bit flips of the query's chunk finds every reference whose chunk
// j is within r_j of the query's. By the (generalised) pigeonhole principle,
// a reference within distance T differs in at most r_j bits in some chunk j
// whenever sum_j (r_j + 1) > T, so the probes followed by a full-distance
// check find every match: the search is exact, never approximate.
//
// Unlike faiss::IndexBinaryMultiHash (an std::unordered_map of std::vector
// per chunk: ~1 GB per million hashes with 11 chunks) the tables are compact
// CSR arrays: per chunk `offsets` [2^w + 1] uint32 and `ids` [N] uint32
// sorted by chunk value, plus the codes themselves [N, 32] bytes for
// verification, i.e. about N * (32 + 4m) + m * 4 * 2^w bytes (130 MB for a
// million hashes with the automatic 13 chunks of 19-20 bits).
//
// Radii need not be equal: probing chunk j to r_j is exact whenever
// sum_j (r_j + 1) > T, so each search picks the cheapest radii (e.g. T = 31
// over 13 chunks: six to 2 flips and seven to 1, half the keys of probing
// all to 2), and falls back to the brute-force kernel when probing would
// cost more than scanning (large T, small N).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include <faiss/IndexBinary.h>

namespace hm {

/// The per-chunk tables of a MihIndex (internal, defined in index_mih.cpp).
struct MihTables;

/// Exact range and k-NN search over 256-bit codes (FAISS binary layout,
/// row-major [n, 32] bytes) by multi-index hashing. Labels are the add order
/// (0 .. ntotal-1). Tables are built lazily, under a lock, before the first
/// search after an add; const searches may then run concurrently from several
/// threads. Each call is parallel over its queries (OpenMP) and its output
/// does not depend on the number of threads.
class MihIndex : public faiss::IndexBinary {
 public:
  /// One reference found by a range search: its label and its distance.
  struct Match {
    idx_t index;
    int32_t distance;
    bool operator==(const Match& o) const { return index == o.index && distance == o.distance; }
  };

  /// How a search finds its candidates. kAuto compares the estimated cost
  /// of probing the tables with a linear scan of the codes, per call (range
  /// search) or per query as the radius grows (k-NN). kProbe always probes
  /// and kScan always scans; both are exact, and exist for tests and
  /// benchmarks that must exercise one path.
  enum class Strategy { kAuto, kProbe, kScan };

  /// Narrowest and widest chunk an explicit chunk_bits may ask for; wider
  /// chunks than 24 bits would cost 64 MiB of offsets per chunk and more.
  static constexpr int kMinChunkBits = 4;
  static constexpr int kMaxChunkBits = 24;
  /// Labels are stored as uint32 in the tables.
  static constexpr idx_t kMaxCount = idx_t(UINT32_MAX);

  /// `d` must be 256 (std::invalid_argument otherwise). `chunk_bits` is the
  /// widest chunk, in [kMinChunkBits, kMaxChunkBits], or 0 to choose it from
  /// the number of references when the tables are built.
  explicit MihIndex(int d = 256, int chunk_bits = 0);
  ~MihIndex() override;
  MihIndex(const MihIndex&) = delete;
  MihIndex& operator=(const MihIndex&) = delete;

  /// Appends n codes [n, 32]; the tables are rebuilt before the next search.
  /// Throws std::length_error past kMaxCount references.
  void add(idx_t n, const uint8_t* x) override;
  /// Removes every reference (keeps the chunk_bits setting).
  void reset() override;
  /// Copies code `key` (32 bytes) to `recons`; std::out_of_range if absent.
  void reconstruct(idx_t key, uint8_t* recons) const override;

  /// Exact k nearest neighbours: distances and labels [n, k], each row sorted
  /// by (distance, label), so ties go to the smaller label. Rows with fewer
  /// than k references are padded as faiss::IndexBinaryFlat pads them:
  /// label -1, distance INT32_MAX (the max-heap's neutral value).
  void search(idx_t n, const uint8_t* x, idx_t k, int32_t* distances, idx_t* labels,
              const faiss::SearchParameters* params = nullptr) const override;

  /// FAISS convention, strict: every reference at distance < radius
  /// (radius 0 finds nothing). Each query's results are in ascending label
  /// order. `result` must have been made for n queries.
  void range_search(idx_t n, const uint8_t* x, int radius, faiss::RangeSearchResult* result,
                    const faiss::SearchParameters* params = nullptr) const override;

  /// Inclusive: for each of the n queries, every reference at distance
  /// <= max_distance, once, in ascending label order.
  std::vector<std::vector<Match>> range_search_within(idx_t n, const uint8_t* x,
                                                      int max_distance) const;

  /// The stored codes, row-major [ntotal, 32] (what an index file saves).
  const uint8_t* codes() const { return codes_.data(); }
  /// The chunk width setting: 0 (automatic) or the widest chunk in bits.
  int chunk_bits() const { return chunk_bits_; }
  /// Changes the chunk width setting (see the constructor); the tables are
  /// rebuilt before the next search.
  void set_chunk_bits(int chunk_bits);
  /// The widest chunk the tables use (or would use) for the current ntotal.
  int resolved_chunk_bits() const;
  /// The number of chunks m the tables use (or would use).
  int chunk_count() const;
  /// The bit widths of the chunks the tables use (or would use), in order:
  /// chunk j covers the next w_j bits of the code read as four little-endian
  /// 64-bit words (so bit i is bit i % 8 of byte i / 8 on little-endian hosts).
  std::vector<int> chunk_widths() const { return chunk_layout(resolved_chunk_bits()); }
  /// The layout for a widest chunk of max_bits: m = ceil(256 / max_bits)
  /// chunks whose widths differ by at most one bit (wider ones first).
  static std::vector<int> chunk_layout(int max_bits);
  /// The widest chunk chosen for `count` references when chunk_bits is 0:
  /// ceil(log2(count)) clamped to [8, kMaxChunkBits], so buckets hold about
  /// one reference each.
  static int auto_chunk_bits(idx_t count);
  /// Whether a range search at max_distance would scan every code rather
  /// than probe the tables (the cost model's choice under the strategy).
  bool plans_scan(int max_distance) const;
  /// The search strategy (kAuto unless set); not to be changed while
  /// searches run.
  Strategy strategy() const { return strategy_; }
  void set_strategy(Strategy strategy) { strategy_ = strategy; }
  /// Builds the tables now if they are stale (searches do it on demand).
  void build_tables() const;
  /// Bytes held: the codes, plus the tables when they are built.
  size_t memory_bytes() const;

 private:
  const MihTables& tables() const;
  /// True to scan; otherwise fills the probe radius of each chunk and the
  /// estimated cost per query.
  bool plan_range(int max_distance, std::vector<int>* radii, double* cost) const;

  int chunk_bits_;
  Strategy strategy_ = Strategy::kAuto;
  std::vector<uint8_t> codes_;
  mutable std::mutex build_mutex_;
  mutable std::atomic<bool> built_{false};
  mutable std::unique_ptr<MihTables> tables_;
};

}  // namespace hm
