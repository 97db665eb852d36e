// One match of a file's hash against a reference list entry, as reported.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hm {

struct Match {
  std::string list;     ///< the list's name (--refs/--index NAME=...)
  std::string signal;   ///< "pdq", "md5", "sha1" or "sha256"
  std::string id;       ///< the reference's id (its line number when the list has none)
  std::string hash;     ///< the reference's hash, lower-case hex
  int distance = 0;     ///< Hamming distance in bits; 0 for digests
  int transform = 0;    ///< dihedral transform of the file's hash that matched (0 = orig)
  std::vector<std::pair<std::string, std::string>> metadata;  ///< the list's extra columns
};

}  // namespace hm
