// Seeded reference lists with planted near-duplicates, and the brute-force
// oracle the index and matcher tests compare against.
#pragma once

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "hamming.hpp"
#include "hash_index.hpp"
#include "reflist.hpp"

namespace hm::test {

using Code = std::vector<uint8_t>;

inline Code random_code(std::mt19937_64& rng, int bytes = 32) {
  Code c(bytes);
  for (auto& b : c) b = (uint8_t)rng();
  return c;
}

/// `code` with exactly `d` distinct bits flipped.
inline Code flip_bits(const Code& code, int d, std::mt19937_64& rng) {
  std::vector<int> bits((int)code.size() * 8);
  for (size_t i = 0; i < bits.size(); ++i) bits[i] = (int)i;
  std::shuffle(bits.begin(), bits.end(), rng);
  Code out = code;
  for (int i = 0; i < d; ++i) out[bits[i] / 8] ^= (uint8_t)(1u << (bits[i] % 8));
  return out;
}

/// Every reference within max_distance of the query, by (distance, ref).
inline std::vector<IndexHit> brute_force(const RefList& list, const uint8_t* query, int max_distance) {
  std::vector<IndexHit> hits;
  for (size_t r = 0; r < list.size(); ++r) {
    const int d = hamming256(list.code(r), query);
    if (d <= max_distance) hits.push_back(IndexHit{(int64_t)r, d});
  }
  std::sort(hits.begin(), hits.end(), [](const IndexHit& a, const IndexHit& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.ref < b.ref;
  });
  return hits;
}

/// A PDQ list of `random` random references plus, for each query, one
/// reference planted at every distance 0..max_planted; ids are "r<n>".
inline RefList planted_list(const std::vector<Code>& queries, int max_planted, size_t random,
                            std::mt19937_64& rng) {
  RefList list;
  list.source = "planted";
  list.signal = SignalType::Pdq;
  auto add = [&](const Code& c) { list.append(c.data(), "r" + std::to_string(list.size())); };
  for (size_t i = 0; i < random / 2; ++i) add(random_code(rng));
  for (const Code& q : queries)
    for (int d = 0; d <= max_planted; ++d) add(flip_bits(q, d, rng));
  for (size_t i = random / 2; i < random; ++i) add(random_code(rng));
  return list;
}

inline bool same_hits(const std::vector<IndexHit>& a, const std::vector<IndexHit>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].ref != b[i].ref || a[i].distance != b[i].distance) return false;
  return true;
}

}  // namespace hm::test
