#include "hash_record.hpp"

#include "digest.hpp"

namespace hm {

const std::array<const char*, pdq::kDihedralCount> kDihedralNames = {
    "orig", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1"};

std::string pdq_hex(const pdq::Hash256& hash) { return to_hex(hash.data(), hash.size()); }

}  // namespace hm
