// Matching a batch of files' hashes against named reference lists.
//
// Semantics (README "Matching"): a PDQ match is a reference within the
// threshold (inclusive) of the file's hash or, with dihedral matching, of any
// of its 8 dihedral hashes; the match reports the smallest distance and the
// transform that gave it (the first in the reference's order on ties).
// Hashes below the quality floor are not matched against PDQ lists (the
// record says so); digest lists match by equality whatever the quality.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hash_index.hpp"
#include "hash_record.hpp"
#include "match_result.hpp"
#include "pdq_cpu.hpp"

namespace hm {

/// A reference list under the name reports give it.
struct NamedIndex {
  std::string name;
  std::shared_ptr<const HashIndex> index;
};

struct MatchOptions {
  std::optional<int> threshold;  ///< none: each list's default (PDQ 31, digests exact)
  size_t top_k = 0;              ///< 0: every reference within the threshold; else the k nearest of them
  int min_quality = 50;          ///< PDQ hashes below this are not matched
  bool dihedral = false;         ///< also match the 8 dihedral hashes, when the query has them
};

/// What one file offers for matching.
struct MatchQuery {
  bool has_pdq = false;
  pdq::Hash256 pdq{};
  std::optional<int> quality;  ///< unknown for bare hashes: never gated
  bool has_dihedral = false;
  std::array<pdq::Hash256, pdq::kDihedralCount> dihedral{};
  std::string md5, sha1, sha256;  ///< lower-case hex, empty when absent
};

/// A query's matches across all lists: lists in the order given, then by
/// (distance, reference order) within a list.
struct MatchOutcome {
  std::vector<Match> matches;
  bool low_quality = false;  ///< had a PDQ hash that was gated by quality
};

/// What a hashed file offers for matching: its PDQ (with quality), its
/// dihedral hashes and its digests, as far as the record has them.
MatchQuery match_query_of(const HashRecord& record);
/// Puts a query's outcome into its record (has_matches, matches, low_quality).
void attach_matches(MatchOutcome&& outcome, HashRecord& record);

class Matcher {
 public:
  /// Throws std::invalid_argument when a threshold is outside 0..256.
  Matcher(std::vector<NamedIndex> lists, MatchOptions options);
  /// Matches a batch (batches let the indexes tile their search).
  std::vector<MatchOutcome> match(const std::vector<MatchQuery>& queries) const;
  const std::vector<NamedIndex>& lists() const { return lists_; }
  /// True when match() may run on several threads at once (every list's
  /// index allows concurrent searches).
  bool concurrent_search() const;
  /// Builds every list's lazily built search structures now (HashIndex::prepare_search).
  void prepare_search() const;

 private:
  void match_pdq_list(const NamedIndex& list, const std::vector<MatchQuery>& queries,
                      std::vector<MatchOutcome>& out) const;
  void match_digest_list(const NamedIndex& list, const std::vector<MatchQuery>& queries,
                         std::vector<MatchOutcome>& out) const;
  Match make_match(const NamedIndex& list, const IndexHit& hit, int transform) const;

  std::vector<NamedIndex> lists_;
  MatchOptions options_;
};

}  // namespace hm
