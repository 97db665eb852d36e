// The faiss::IndexBinary plumbing shared by hm's exhaustive indexes
// (FlatIndex on the CPU, CudaFlatIndex on the GPU): the host copy of the
// codes, add/reset/reconstruct, argument checks, and FAISS's strict-radius
// range_search on top of hm's inclusive range search. Subclasses only search.
//
// Header-only on purpose: FlatIndex is compiled into hm_engine and
// CudaFlatIndex into hm_cuda, which hm_engine links and which must not link
// hm_engine back. A compiled base would need a library below both (hm_kernels,
// which is per-element math and does not otherwise need FAISS); inline
// members need nothing.
#pragma once

#include <faiss/IndexBinary.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "hamming.hpp"
#include "hamming_cpu.hpp"

namespace hm {

/// Exhaustive binary index for d = 256 whose codes are kept on the host,
/// row-major, 32 bytes each; labels are insertion order (0 .. ntotal - 1).
/// Subclasses implement the two searches (search_within, search_knn).
/// Exceptions name the subclass (the `name` given to the constructor).
class BruteForceIndex : public faiss::IndexBinary {
 public:
  /// Appends n codes, row-major [n, 32] bytes; they get labels ntotal ..
  /// ntotal + n - 1. If on_add throws, the index is unchanged.
  void add(idx_t n, const uint8_t* x) override {
    check_count(n, "add count");
    if (n == 0) return;
    on_add(n, x);
    codes_.insert(codes_.end(), x, x + static_cast<size_t>(n) * kHash256Bytes);
    ntotal += n;
  }

  /// Removes every code (after on_reset).
  void reset() override {
    on_reset();
    codes_.clear();
    codes_.shrink_to_fit();
    ntotal = 0;
  }

  /// k-NN: for each of the n queries (row-major [n, 32] bytes) the k nearest
  /// codes, sorted by (distance, label) (ties go to the smaller label), into
  /// distances and labels, row-major [n, k]. Rows with fewer than k codes are
  /// padded with distance INT32_MAX and label -1. params must be null.
  void search(idx_t n, const uint8_t* x, idx_t k, int32_t* distances, idx_t* labels,
              const faiss::SearchParameters* params = nullptr) const override {
    check_no_params(params);
    check_count(n, "query count");
    if (k <= 0) throw std::invalid_argument(name_ + ": k must be positive");
    search_knn(n, x, k, distances, labels);
  }

  /// FAISS's range search: every code at a distance STRICTLY below radius,
  /// per query in ascending label order. `result` must have been built for n
  /// queries with its lims allocated (faiss::RangeSearchResult(n)); its
  /// distances are the integer distances as floats. params must be null.
  void range_search(idx_t n, const uint8_t* x, int radius, faiss::RangeSearchResult* result,
                    const faiss::SearchParameters* params = nullptr) const override {
    check_no_params(params);
    check_count(n, "query count");
    if (result == nullptr || result->nq != static_cast<size_t>(n) || result->lims == nullptr) {
      throw std::invalid_argument(name_ +
                                  ": range_search needs a RangeSearchResult for n queries");
    }
    // FAISS counts a hit when distance < radius; hm's kernels take <=.
    copy_range_hits(range_search_within(n, x, radius > 0 ? radius - 1 : -1), result);
  }

  /// Copies code `key` (32 bytes) into recons; std::out_of_range if key is
  /// not in [0, ntotal).
  void reconstruct(idx_t key, uint8_t* recons) const override {
    if (key < 0 || key >= ntotal) {
      throw std::out_of_range(name_ + ": no code " + std::to_string(key));
    }
    memcpy(recons, codes_.data() + static_cast<size_t>(key) * kHash256Bytes, kHash256Bytes);
  }

  /// Copies codes i0 .. i0 + ni - 1 into recons, row-major [ni, 32] bytes.
  void reconstruct_n(idx_t i0, idx_t ni, uint8_t* recons) const override {
    if (i0 < 0 || ni < 0 || i0 > ntotal || ni > ntotal - i0) {
      throw std::out_of_range(name_ + ": codes " + std::to_string(i0) + " + " +
                              std::to_string(ni) + " past " + std::to_string(ntotal));
    }
    if (ni == 0) return;
    memcpy(recons, codes_.data() + static_cast<size_t>(i0) * kHash256Bytes,
           static_cast<size_t>(ni) * kHash256Bytes);
  }

  /// hm's matching convention: every code within max_distance INCLUSIVE of
  /// each of the n queries (row-major [n, 32] bytes).
  HammingRangeResult range_search_within(idx_t n, const uint8_t* x, int max_distance) const {
    check_count(n, "query count");
    HammingRangeResult hits;
    search_within(n, x, max_distance, hits);
    return hits;
  }

  /// The stored codes, row-major [ntotal, 32] bytes (the host copy).
  const uint8_t* codes() const { return codes_.data(); }

  /// Host heap bytes held by the index (the code buffer's capacity).
  size_t memory_bytes() const { return codes_.capacity(); }

 protected:
  /// d must be 256 (std::invalid_argument otherwise, before
  /// faiss::IndexBinary's constructor, which would throw its own exception
  /// type for some bad values and accept others). `name` (a string literal)
  /// starts every exception message.
  BruteForceIndex(int d, const char* name)
      : faiss::IndexBinary(checked_dimension(d, name)), name_(name) {}

  /// Inclusive range search of the n queries (row-major [n, 32] bytes, n >= 0
  /// checked) over the codes, into hits (CSR, labels ascending per query).
  virtual void search_within(idx_t n, const uint8_t* x, int max_distance,
                             HammingRangeResult& hits) const = 0;

  /// k-NN of the n queries (n >= 0, k > 0 and no params checked), with
  /// search's output layout and order.
  virtual void search_knn(idx_t n, const uint8_t* x, idx_t k, int32_t* distances,
                          idx_t* labels) const = 0;

  /// Runs before n > 0 codes (row-major [n, 32] bytes) join the host copy: a
  /// subclass keeping its own copy adds them there first.
  virtual void on_add(idx_t /*n*/, const uint8_t* /*x*/) {}

  /// Runs before the host copy is cleared.
  virtual void on_reset() {}

  /// Throws std::invalid_argument for a negative count of `what`.
  void check_count(idx_t n, const char* what) const {
    if (n < 0) throw std::invalid_argument(name_ + ": negative " + what);
  }

 private:
  /// Copies inclusive hm range hits into FAISS's `result` (built for
  /// hits.lims.size() - 1 queries, lims allocated): per-query counts, then
  /// labels and the distances as floats, in the same order.
  static void copy_range_hits(const HammingRangeResult& hits, faiss::RangeSearchResult* result) {
    for (size_t i = 0; i < result->nq; ++i) result->lims[i] = hits.lims[i + 1] - hits.lims[i];
    result->do_allocation();  // turns the counts in lims into offsets
    for (size_t j = 0; j < hits.labels.size(); ++j) {
      result->labels[j] = hits.labels[j];
      result->distances[j] = static_cast<float>(hits.distances[j]);
    }
  }

  static int checked_dimension(int d, const char* name) {
    if (d != 8 * kHash256Bytes) {
      throw std::invalid_argument(std::string(name) + ": d must be 256, got " + std::to_string(d));
    }
    return d;
  }

  void check_no_params(const faiss::SearchParameters* params) const {
    if (params != nullptr) throw std::invalid_argument(name_ + ": search parameters not supported");
  }

  std::string name_;
  std::vector<uint8_t> codes_;  // [ntotal, 32]
};

}  // namespace hm
