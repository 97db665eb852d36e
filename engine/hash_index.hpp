// A searchable reference list: the entries' ids and metadata plus an index
// over their hashes, built from a list or loaded from an index file.
//
// PDQ lists are searched by Hamming distance through one faiss::IndexBinary
// whatever the type: our exact `flat` (tiled, vectorised brute force) and
// `mih` (multi-index hashing, exact by the pigeonhole argument), or FAISS's
// approximate `hnsw` and `ivf`. Digest lists (MD5, SHA-1, SHA-256) are
// matched exactly by lookup in a sorted set (type `set`).
#pragma once

#include <stdint.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend.hpp"
#include "packed_strings.hpp"
#include "reflist.hpp"
#include "signal_type.hpp"

namespace faiss {
struct IndexBinary;
}

namespace hm {

/// One reference within the asked distance of a query.
struct IndexHit {
  int64_t ref = 0;       ///< entry number in the reference list, in file order
  int32_t distance = 0;  ///< Hamming distance in bits (0 for digest lists)
};

/// Per query, its hits sorted by (distance, ref).
using IndexHits = std::vector<std::vector<IndexHit>>;

/// An index type and its parameters, as written on the command line:
/// "flat", "mih", "mih,bits=20", "hnsw,M=32,ef=128,k=256", "ivf,nlist=4096,nprobe=32",
/// "cuda-flat" (exact, on the GPU), "set" (digests), or "auto" (exact: flat
/// for small lists, mih for large).
struct IndexSpec {
  std::string type;
  std::map<std::string, int> params;

  /// Throws std::invalid_argument naming what is wrong.
  static IndexSpec parse(const std::string& text);
  std::string to_string() const;
  int param(const std::string& name, int fallback) const;
};

/// The type names `--type` accepts, for help texts.
extern const char kIndexTypesHelp[];

class HashIndex {
 public:
  HashIndex();
  ~HashIndex();
  HashIndex(HashIndex&&) noexcept;
  HashIndex& operator=(HashIndex&&) noexcept;

  /// Builds an index of `spec` type over `list` (consumed). Throws
  /// std::invalid_argument for a type that does not suit the list's signal.
  static HashIndex build(RefList list, const IndexSpec& spec);
  /// Loads an index file; throws IndexFileError naming the file and reason.
  static HashIndex load(const std::string& path);
  /// Writes the index file atomically; throws IndexFileError. A cuda-flat
  /// index is saved as flat: where it is searched is chosen when it is used.
  void save(const std::string& path) const;
  /// With Backend::Cuda, exact PDQ indexes move to the GPU (cuda-flat);
  /// approximate and digest indexes stay on the CPU.
  void use_backend(Backend backend);

  SignalType signal() const { return signal_; }
  /// The index type with its parameters, e.g. "mih" or "hnsw,M=32".
  std::string type() const { return spec_.to_string(); }
  /// True when searches return every reference within the distance.
  bool exact() const;
  /// True when any number of threads may search at once, each on its own
  /// core (flat, mih, set). FAISS's approximate indexes adjust search
  /// settings per call, and cuda-flat wants batches.
  bool concurrent_search() const;
  size_t size() const { return ids_.size(); }
  /// The list's default match threshold (PDQ 31, digests 0).
  int default_threshold() const { return signal_default_threshold(signal_); }
  /// Where the list came from (the path given to `index build`).
  const std::string& source() const { return source_; }
  /// Lines skipped as bad when the list was read (--skip-bad-lines).
  size_t skipped_lines() const { return skipped_lines_; }

  std::string_view id(size_t ref) const { return ids_[ref]; }
  /// The reference's hash as lower-case hex.
  std::string hash_hex(size_t ref) const;
  const std::vector<std::string>& metadata_columns() const { return metadata_columns_; }
  std::string_view metadata(size_t ref, size_t column) const {
    return metadata_values_[ref * metadata_columns_.size() + column];
  }
  /// Approximate resident bytes of the searchable structure (codes and tables).
  size_t index_memory_bytes() const;
  /// Builds what the first search would otherwise build (mih's tables), with
  /// OpenMP's threads, so that searches from many threads do not queue
  /// behind one building it.
  void prepare_search() const;

  /// For each of `nq` queries (row-major [nq, code bytes]), every reference
  /// within `max_distance` (inclusive), sorted by (distance, ref). Digest
  /// lists: exact equality, whatever the distance.
  IndexHits range(const uint8_t* queries, size_t nq, int max_distance) const;
  /// The `k` nearest references within `max_distance`, sorted by (distance, ref).
  IndexHits top_k(const uint8_t* queries, size_t nq, size_t k, int max_distance) const;

 private:
  void build_search_structure(const uint8_t* codes);
  void code_of(size_t ref, uint8_t* out) const;

  SignalType signal_ = SignalType::Pdq;
  IndexSpec spec_;
  std::string source_;
  size_t skipped_lines_ = 0;
  PackedStrings ids_;
  std::vector<std::string> metadata_columns_;
  PackedStrings metadata_values_;
  std::unique_ptr<faiss::IndexBinary> index_;  ///< PDQ lists
  std::vector<uint8_t> set_codes_;             ///< digest lists: codes, [size(), bytes]
  std::vector<uint32_t> set_order_;            ///< digest lists: refs sorted by code
  /// Serialises hnsw searches, which raise FAISS's efSearch to k first.
  std::unique_ptr<std::mutex> hnsw_mutex_ = std::make_unique<std::mutex>();
};

}  // namespace hm
