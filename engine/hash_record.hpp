// One input file's hashes, or the reason it has none.
#pragma once

#include <stdint.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "match_result.hpp"
#include "pdq_cpu.hpp"

namespace hm {

struct PreresizedImage;

struct HashRecord {
  std::string path;
  std::string error;  ///< empty when ok; otherwise "<stage>: <reason>"
  std::vector<std::string> warnings;
  bool has_bytes = false;  ///< the file was read (digests may be present even on error)
  uint64_t bytes = 0;
  std::string format;  ///< "jpeg", "png", ... when sniffed
  int width = 0;       ///< stored size, before any resize; 0 when unknown
  int height = 0;
  bool has_pdq = false;
  pdq::Hash256 pdq{};
  int quality = 0;
  bool pdq_below_min_size = false;
  bool has_dihedral = false;
  std::array<pdq::Hash256, pdq::kDihedralCount> dihedral{};
  /// PDQ deferred (HashOptions::defer_pdq): the decoded image, pre-resized,
  /// waiting for a batch hasher, which fills the PDQ fields and resets this.
  /// Shared, so records stay cheap to move; null otherwise.
  std::shared_ptr<PreresizedImage> pdq_pending;
  std::string md5;  ///< lower-case hex, empty when not computed
  std::string sha1;
  std::string sha256;
  bool has_matches = false;  ///< matching ran (scan, match): "matches" is reported, maybe empty
  bool low_quality = false;  ///< PDQ quality below the floor: reported, not matched
  std::vector<Match> matches;

  bool ok() const { return error.empty(); }
};

/// The reference's names for the dihedral hashes, in its order.
extern const std::array<const char*, pdq::kDihedralCount> kDihedralNames;

/// 64 lower-case hex characters, the reference's layout.
std::string pdq_hex(const pdq::Hash256& hash);

}  // namespace hm
