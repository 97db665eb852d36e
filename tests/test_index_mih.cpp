// MihIndex against a brute-force oracle: exact range and k-NN results over
// seeded references planted at every distance from each query, with the
// planted differences random, packed into one chunk, or spread evenly over
// all chunks (the pigeonhole worst case).
#include "index_mih.hpp"

#include <gtest/gtest.h>
#include <malloc.h>
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexBinaryHash.h>
#include <faiss/impl/AuxIndexStructures.h>

#include "hamming.hpp"

namespace hm {
namespace {

using Codes = std::vector<uint8_t>;
using Match = MihIndex::Match;
using idx_t = MihIndex::idx_t;

constexpr int kB = kHash256Bytes;
constexpr int kMaxPlanted = 65;  // plants at 0..65 cover T + 1 for every T <= 64

Codes random_codes(std::mt19937_64& rng, size_t n) {
  Codes c(n * kB);
  for (auto& b : c) b = uint8_t(rng());
  return c;
}

void flip_bit(uint8_t* code, int bit) { code[bit / 8] ^= uint8_t(1u << (bit % 8)); }

enum class Spread { kRandom, kOneChunk, kEvenChunks };

/// d distinct bit positions. kOneChunk fills one chunk (then the next ones)
/// before touching another; kEvenChunks gives every chunk d/m or d/m + 1.
std::vector<int> flip_positions(std::mt19937_64& rng, int d, Spread spread,
                                const std::vector<int>& widths) {
  const int m = int(widths.size());
  std::vector<int> starts(size_t(m) + 1, 0);
  for (int j = 0; j < m; ++j) starts[size_t(j) + 1] = starts[size_t(j)] + widths[size_t(j)];
  auto chunk_bits = [&](int j) {
    std::vector<int> bits(static_cast<size_t>(widths[size_t(j)]));
    std::iota(bits.begin(), bits.end(), starts[size_t(j)]);
    std::shuffle(bits.begin(), bits.end(), rng);
    return bits;
  };
  std::vector<int> out;
  if (spread == Spread::kRandom) {
    std::vector<int> all(256);
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), rng);
    out.assign(all.begin(), all.begin() + d);
  } else if (spread == Spread::kOneChunk) {
    const int first = int(rng() % uint64_t(m));
    for (int s = 0; s < m && int(out.size()) < d; ++s) {
      for (int b : chunk_bits((first + s) % m)) {
        if (int(out.size()) == d) break;
        out.push_back(b);
      }
    }
  } else {
    std::vector<int> order(static_cast<size_t>(m));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);  // which chunks get the extra flip
    for (int r = 0; r < m; ++r) {
      const int j = order[size_t(r)];
      const int take = std::min(widths[size_t(j)], d / m + (r < d % m ? 1 : 0));
      const std::vector<int> bits = chunk_bits(j);
      out.insert(out.end(), bits.begin(), bits.begin() + take);
    }
  }
  return out;
}

/// n references: for each query, copies at every distance 0..kMaxPlanted in
/// each spread, some duplicated; shuffled, cut to n or filled with random
/// codes up to n.
Codes make_refs(std::mt19937_64& rng, const Codes& queries, size_t n,
                const std::vector<int>& widths) {
  std::vector<Codes> planted;
  for (size_t q = 0; q < queries.size() / kB; ++q) {
    for (int d = 0; d <= kMaxPlanted; ++d) {
      for (Spread s : {Spread::kRandom, Spread::kOneChunk, Spread::kEvenChunks}) {
        Codes c(queries.begin() + ptrdiff_t(q * kB), queries.begin() + ptrdiff_t((q + 1) * kB));
        for (int bit : flip_positions(rng, d, s, widths)) flip_bit(c.data(), bit);
        planted.push_back(c);
        if (rng() % 8 == 0) planted.push_back(c);  // duplicates
      }
    }
  }
  std::shuffle(planted.begin(), planted.end(), rng);
  if (planted.size() > n) planted.resize(n);
  Codes refs;
  for (const Codes& c : planted) refs.insert(refs.end(), c.begin(), c.end());
  const Codes fill = random_codes(rng, n - planted.size());
  refs.insert(refs.end(), fill.begin(), fill.end());
  return refs;
}

/// Oracle distances [nq][n].
std::vector<std::vector<int>> all_distances(const Codes& queries, const Codes& refs) {
  std::vector<std::vector<int>> d(queries.size() / kB);
  for (size_t q = 0; q < d.size(); ++q)
    for (size_t i = 0; i < refs.size() / kB; ++i)
      d[q].push_back(hamming256(&queries[q * kB], &refs[i * kB]));
  return d;
}

std::vector<Match> oracle_range(const std::vector<int>& dist, int max_distance) {
  std::vector<Match> out;
  for (size_t i = 0; i < dist.size(); ++i)
    if (dist[i] <= max_distance) out.push_back({idx_t(i), dist[i]});
  return out;
}

/// The k smallest (distance, label) pairs, padded with (INT32_MAX, -1).
std::vector<std::pair<int32_t, idx_t>> oracle_knn(const std::vector<int>& dist, idx_t k) {
  std::vector<std::pair<int32_t, idx_t>> all;
  for (size_t i = 0; i < dist.size(); ++i) all.emplace_back(dist[i], idx_t(i));
  std::sort(all.begin(), all.end());
  all.resize(size_t(k), {std::numeric_limits<int32_t>::max(), -1});
  return all;
}

std::vector<int> widths_for(int chunk_bits, size_t n) {
  return MihIndex::chunk_layout(chunk_bits != 0 ? chunk_bits : MihIndex::auto_chunk_bits(idx_t(n)));
}

TEST(MihIndexTest, RejectsBadArguments) {
  EXPECT_THROW(MihIndex(128), std::invalid_argument);
  EXPECT_THROW(MihIndex(100), std::invalid_argument);
  EXPECT_THROW(MihIndex(256, 3), std::invalid_argument);
  EXPECT_THROW(MihIndex(256, 25), std::invalid_argument);
  EXPECT_THROW(MihIndex(256, -1), std::invalid_argument);
  MihIndex index;
  EXPECT_THROW(index.set_chunk_bits(30), std::invalid_argument);
  uint8_t code[kB] = {};
  EXPECT_THROW(index.reconstruct(0, code), std::out_of_range);
  EXPECT_THROW(index.add(-1, code), std::invalid_argument);
  int32_t dist = 0;
  idx_t label = 0;
  EXPECT_THROW(index.search(1, code, 0, &dist, &label), std::invalid_argument);
  faiss::RangeSearchResult wrong(2);
  EXPECT_THROW(index.range_search(1, code, 5, &wrong), std::invalid_argument);
}

TEST(MihIndexTest, ChunkLayoutCoversTheCodeEvenly) {
  for (int b = MihIndex::kMinChunkBits; b <= MihIndex::kMaxChunkBits; ++b) {
    const std::vector<int> w = MihIndex::chunk_layout(b);
    SCOPED_TRACE("chunk_bits=" + std::to_string(b));
    EXPECT_EQ(int(w.size()), (256 + b - 1) / b);
    EXPECT_EQ(std::accumulate(w.begin(), w.end(), 0), 256);
    const auto [lo, hi] = std::minmax_element(w.begin(), w.end());
    EXPECT_LE(*hi, b);
    EXPECT_LE(*hi - *lo, 1);
  }
  // ceil(log2(N)) clamped to [8, 24].
  EXPECT_EQ(MihIndex::auto_chunk_bits(0), 8);
  EXPECT_EQ(MihIndex::auto_chunk_bits(256), 8);
  EXPECT_EQ(MihIndex::auto_chunk_bits(257), 9);
  EXPECT_EQ(MihIndex::auto_chunk_bits(1000000), 20);
  EXPECT_EQ(MihIndex::auto_chunk_bits(idx_t(1) << 30), 24);
}

TEST(MihIndexTest, StoresCodesAndReconstructs) {
  std::mt19937_64 rng(11);
  const Codes refs = random_codes(rng, 50);
  MihIndex index(256, 12);
  index.add(20, refs.data());
  index.add(30, refs.data() + 20 * kB);
  ASSERT_EQ(index.ntotal, 50);
  EXPECT_TRUE(std::equal(refs.begin(), refs.end(), index.codes()));
  uint8_t code[kB];
  index.reconstruct(37, code);
  EXPECT_TRUE(std::equal(code, code + kB, refs.begin() + 37 * kB));
  EXPECT_EQ(index.memory_bytes(), refs.size());  // tables not built yet
  index.build_tables();
  // Codes plus, per chunk, 2^w + 1 offsets and N ids (uint32).
  size_t expected = refs.size();
  for (int w : index.chunk_widths()) expected += ((size_t(1) << w) + 1 + 50) * 4;
  EXPECT_GE(index.memory_bytes(), expected);
  EXPECT_LE(index.memory_bytes(), expected + 4096);
  index.reset();
  EXPECT_EQ(index.ntotal, 0);
  EXPECT_EQ(index.chunk_bits(), 12);
}

/// (N, chunk_bits); chunk_bits 0 is automatic.
class MihIndexOracle : public ::testing::TestWithParam<std::tuple<size_t, int>> {};

TEST_P(MihIndexOracle, RangeSearchWithinEqualsBruteForce) {
  const auto [n, chunk_bits] = GetParam();
  const uint64_t seed = 1000 + n * 31 + size_t(chunk_bits);
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const Codes queries = random_codes(rng, 4);
  const Codes refs = make_refs(rng, queries, n, widths_for(chunk_bits, n));
  const auto dist = all_distances(queries, refs);
  MihIndex index(256, chunk_bits);
  index.add(idx_t(n), refs.data());
  ASSERT_EQ(index.chunk_widths(), widths_for(chunk_bits, n));
  const idx_t nq = idx_t(queries.size() / kB);

  std::vector<int> thresholds(kMaxPlanted);
  std::iota(thresholds.begin(), thresholds.end(), 0);  // 0..64
  for (int t : {100, 200, 255, 256, 300}) thresholds.push_back(t);
  for (int t : thresholds) {
    for (auto strategy : {MihIndex::Strategy::kAuto, MihIndex::Strategy::kProbe}) {
      // Past 64, probing wide chunks enumerates millions of keys: auto only,
      // which must fall back to the scan.
      if (t > 64 && strategy == MihIndex::Strategy::kProbe) continue;
      index.set_strategy(strategy);
      if (t > 64 && n > 0) {
        EXPECT_TRUE(index.plans_scan(t)) << "T=" << t;
      }
      // Forced probes of 23/24-bit chunks past 40 enumerate ~10^5 keys per
      // chunk: one query is enough there.
      const bool heavy = strategy == MihIndex::Strategy::kProbe && t > 40 &&
                         chunk_bits >= 23;
      const idx_t nq_run = heavy ? 1 : nq;
      const auto got = index.range_search_within(nq_run, queries.data(), t);
      ASSERT_EQ(got.size(), size_t(nq_run));
      for (size_t q = 0; q < size_t(nq_run); ++q) {
        ASSERT_EQ(got[q], oracle_range(dist[q], t))
            << "T=" << t << " query=" << q << " probe=" << (strategy == MihIndex::Strategy::kProbe);
        for (const Match& m : got[q]) ASSERT_LE(m.distance, t);  // nothing at T + 1
      }
    }
  }
}

TEST_P(MihIndexOracle, KnnEqualsBruteForceWithTies) {
  const auto [n, chunk_bits] = GetParam();
  const uint64_t seed = 2000 + n * 31 + size_t(chunk_bits);
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  // Three queries with planted neighbours (ties at every distance), and one
  // random query whose neighbours are far away.
  const Codes planted_for = random_codes(rng, 3);
  Codes queries = planted_for;
  const Codes lone = random_codes(rng, 1);
  queries.insert(queries.end(), lone.begin(), lone.end());
  const Codes refs = make_refs(rng, planted_for, n, widths_for(chunk_bits, n));
  const auto dist = all_distances(queries, refs);
  MihIndex index(256, chunk_bits);
  index.add(idx_t(n), refs.data());

  for (idx_t k : {1, 3, 10, 50, 2000}) {
    for (auto strategy : {MihIndex::Strategy::kAuto, MihIndex::Strategy::kProbe}) {
      index.set_strategy(strategy);
      // Forced probing must reach the k-th neighbour's distance: cheap for
      // the planted neighbours, far too slow past ~40 with wide chunks (and
      // with fewer than 1000 references the plants may be cut away).
      const bool probe = strategy == MihIndex::Strategy::kProbe;
      const bool wide = chunk_bits == 0 || chunk_bits > 12;
      if (probe && wide && (k > 50 || n < 1000)) continue;
      const idx_t nq = probe && wide ? 3 : 4;
      std::vector<int32_t> d(size_t(nq * k));
      std::vector<idx_t> l(size_t(nq * k));
      index.search(nq, queries.data(), k, d.data(), l.data());
      for (size_t q = 0; q < size_t(nq); ++q) {
        const auto want = oracle_knn(dist[q], k);
        for (size_t r = 0; r < size_t(k); ++r) {
          ASSERT_EQ(d[q * size_t(k) + r], want[r].first) << "k=" << k << " q=" << q << " r=" << r;
          ASSERT_EQ(l[q * size_t(k) + r], want[r].second) << "k=" << k << " q=" << q << " r=" << r;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, MihIndexOracle,
                         ::testing::Combine(::testing::Values(size_t(0), size_t(1), size_t(31),
                                                              size_t(33), size_t(1000),
                                                              size_t(100000)),
                                            ::testing::Values(0, 8, 12, 16, 23, 24)),
                         [](const auto& info) {
                           return "n" + std::to_string(std::get<0>(info.param)) + "_bits" +
                                  std::to_string(std::get<1>(info.param));
                         });

// The nearest reference (label 0) has `per` flips in every chunk, so only a
// probe at radius `per` finds it, after the covered distance reaches its
// own; references at the same distance with their flips packed into few
// chunks are found at once. k = 1 must still return label 0 (the tie rule),
// which only holds if the search covers the k-th distance before stopping.
TEST(MihIndexTest, KnnWaitsForEvenlySpreadTies) {
  for (int bits : {8, 16, 23}) {
    for (int per : {1, 2}) {
      const uint64_t seed = 300 + uint64_t(bits) * 3 + uint64_t(per);
      SCOPED_TRACE("seed=" + std::to_string(seed) + " bits=" + std::to_string(bits));
      std::mt19937_64 rng(seed);
      const std::vector<int> widths = MihIndex::chunk_layout(bits);
      const int d = per * int(widths.size());
      const Codes query = random_codes(rng, 1);
      Codes refs;
      for (Spread s : {Spread::kEvenChunks, Spread::kOneChunk, Spread::kOneChunk}) {
        Codes c = query;
        for (int bit : flip_positions(rng, d, s, widths)) flip_bit(c.data(), bit);
        refs.insert(refs.end(), c.begin(), c.end());
      }
      const Codes fill = random_codes(rng, 5000);
      refs.insert(refs.end(), fill.begin(), fill.end());
      const auto dist = all_distances(query, refs);
      ASSERT_EQ(dist[0][0], d);
      MihIndex index(256, bits);
      index.set_strategy(MihIndex::Strategy::kProbe);
      index.add(idx_t(refs.size() / kB), refs.data());
      for (idx_t k : {1, 2, 3}) {
        std::vector<int32_t> got_d(static_cast<size_t>(k));
        std::vector<idx_t> got_l(static_cast<size_t>(k));
        index.search(1, query.data(), k, got_d.data(), got_l.data());
        const auto want = oracle_knn(dist[0], k);
        for (size_t r = 0; r < size_t(k); ++r) {
          EXPECT_EQ(got_d[r], want[r].first) << "k=" << k;
          EXPECT_EQ(got_l[r], want[r].second) << "k=" << k;
        }
      }
    }
  }
}

TEST(MihIndexTest, PadsKnnLikeIndexBinaryFlat) {
  std::mt19937_64 rng(7);
  const Codes refs = random_codes(rng, 5);
  const Codes queries = random_codes(rng, 2);
  MihIndex ours(256, 8);
  faiss::IndexBinaryFlat flat(256);
  ours.add(5, refs.data());
  flat.add(5, refs.data());
  const idx_t k = 8;
  std::vector<int32_t> d1(16), d2(16);
  std::vector<idx_t> l1(16), l2(16);
  ours.search(2, queries.data(), k, d1.data(), l1.data());
  flat.search(2, queries.data(), k, d2.data(), l2.data());
  for (size_t q = 0; q < 2; ++q) {
    for (size_t r = 0; r < size_t(k); ++r) EXPECT_EQ(d1[q * k + r], d2[q * k + r]);
    for (size_t r = 5; r < size_t(k); ++r) {
      EXPECT_EQ(l1[q * k + r], -1);
      EXPECT_EQ(l2[q * k + r], -1);
      EXPECT_EQ(d1[q * k + r], std::numeric_limits<int32_t>::max());
    }
  }
}

TEST(MihIndexTest, RangeSearchIsStrict) {
  std::mt19937_64 rng(3);
  const Codes queries = random_codes(rng, 4);
  const Codes refs = make_refs(rng, queries, 3000, widths_for(12, 3000));
  const auto dist = all_distances(queries, refs);
  MihIndex index(256, 12);
  index.add(3000, refs.data());
  for (int radius : {-3, 0, 1, 2, 17, 32, 65}) {
    SCOPED_TRACE("radius=" + std::to_string(radius));
    faiss::RangeSearchResult res(4);
    index.range_search(4, queries.data(), radius, &res);
    for (size_t q = 0; q < 4; ++q) {
      const auto want = oracle_range(dist[q], radius - 1);  // distance < radius
      ASSERT_EQ(res.lims[q + 1] - res.lims[q], want.size());
      for (size_t r = 0; r < want.size(); ++r) {
        EXPECT_EQ(res.labels[res.lims[q] + r], want[r].index);
        EXPECT_EQ(res.distances[res.lims[q] + r], float(want[r].distance));
      }
    }
    if (radius <= 0) {
      EXPECT_EQ(res.lims[4], 0u);
    }
  }
}

TEST(MihIndexTest, AddAfterSearchRebuilds) {
  std::mt19937_64 rng(5);
  const Codes queries = random_codes(rng, 3);
  const Codes refs = make_refs(rng, queries, 5000, widths_for(0, 200));
  MihIndex index;  // automatic: 8-bit chunks at 200 references, 13 at 5000
  index.set_strategy(MihIndex::Strategy::kProbe);
  index.add(200, refs.data());
  const Codes first(refs.begin(), refs.begin() + 200 * kB);
  EXPECT_EQ(index.range_search_within(3, queries.data(), 31)[1],
            oracle_range(all_distances(queries, first)[1], 31));
  EXPECT_EQ(index.resolved_chunk_bits(), 8);
  index.add(4800, refs.data() + 200 * kB);
  EXPECT_EQ(index.resolved_chunk_bits(), 13);
  const auto dist = all_distances(queries, refs);
  auto got = index.range_search_within(3, queries.data(), 31);
  for (size_t q = 0; q < 3; ++q) EXPECT_EQ(got[q], oracle_range(dist[q], 31));
  index.set_chunk_bits(16);  // a new layout over the same codes
  got = index.range_search_within(3, queries.data(), 40);
  for (size_t q = 0; q < 3; ++q) EXPECT_EQ(got[q], oracle_range(dist[q], 40));
  index.reset();
  got = index.range_search_within(3, queries.data(), 40);
  for (size_t q = 0; q < 3; ++q) EXPECT_TRUE(got[q].empty());
}

TEST(MihIndexTest, SameOutputForOneOrTwoThreads) {
  std::mt19937_64 rng(9);
  const Codes queries = random_codes(rng, 40);
  const Codes refs = make_refs(rng, queries, 20000, widths_for(0, 20000));
  MihIndex index;
  index.add(20000, refs.data());
  const int saved = omp_get_max_threads();
  std::vector<std::vector<std::vector<Match>>> ranges;
  std::vector<std::vector<int32_t>> dists;
  std::vector<std::vector<idx_t>> labels;
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    ranges.push_back(index.range_search_within(40, queries.data(), 31));
    dists.emplace_back(40 * 20);
    labels.emplace_back(40 * 20);
    index.search(40, queries.data(), 20, dists.back().data(), labels.back().data());
  }
  omp_set_num_threads(saved);
  EXPECT_EQ(ranges[0], ranges[1]);
  EXPECT_EQ(dists[0], dists[1]);
  EXPECT_EQ(labels[0], labels[1]);
}

// Searches are const and may run from several threads at once; the first
// ones race to build the tables, which must happen once, under the lock.
TEST(MihIndexTest, ConcurrentSearchesShareOneBuild) {
  std::mt19937_64 rng(13);
  const Codes queries = random_codes(rng, 8);
  const Codes refs = make_refs(rng, queries, 30000, widths_for(0, 30000));
  const auto dist = all_distances(queries, refs);
  MihIndex index;
  index.add(30000, refs.data());
  std::vector<std::vector<std::vector<Match>>> got(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&, i] { got[i] = index.range_search_within(8, queries.data(), 31); });
  for (auto& th : threads) th.join();
  for (const auto& g : got)
    for (size_t q = 0; q < 8; ++q) EXPECT_EQ(g[q], oracle_range(dist[q], 31));
}

/// Bytes the allocator has handed out (heap and mmapped blocks).
size_t allocated_bytes() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

// faiss::IndexBinaryMultiHash with 11 chunks of 23 bits and 2 flips is exact
// for distances <= 31 (the 3 bits outside its chunks take at most 3 of the
// 31 differences, and 11 chunks with 3 each would need 33): both must find
// the same sets.
TEST(MihIndexFaiss, SameSetsAsIndexBinaryMultiHash) {
  const uint64_t seed = 77;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const size_t n = 100000;
  const Codes queries = random_codes(rng, 20);
  const Codes refs = make_refs(rng, queries, n, widths_for(0, n));

  const size_t before_ours = allocated_bytes();
  MihIndex ours;
  ours.add(idx_t(n), refs.data());
  ours.build_tables();
  const size_t ours_bytes = allocated_bytes() - before_ours;

  const size_t before_faiss = allocated_bytes();
  faiss::IndexBinaryMultiHash peer(256, 11, 23);
  peer.nflip = 2;
  peer.add(idx_t(n), refs.data());
  const size_t faiss_bytes = allocated_bytes() - before_faiss;

  faiss::RangeSearchResult a(20), b(20);
  ours.range_search(20, queries.data(), 32, &a);
  peer.range_search(20, queries.data(), 32, &b);
  const auto dist = all_distances(queries, refs);
  for (size_t q = 0; q < 20; ++q) {
    std::vector<std::pair<idx_t, float>> sa, sb;
    for (size_t r = a.lims[q]; r < a.lims[q + 1]; ++r) sa.emplace_back(a.labels[r], a.distances[r]);
    for (size_t r = b.lims[q]; r < b.lims[q + 1]; ++r) sb.emplace_back(b.labels[r], b.distances[r]);
    std::sort(sb.begin(), sb.end());
    EXPECT_EQ(sa, sb) << "query " << q;
    EXPECT_EQ(sa.size(), oracle_range(dist[q], 31).size());
  }
  std::printf("[ memory ] %zu references: MihIndex %.1f MB (reported %.1f MB, %d chunks), "
              "IndexBinaryMultiHash(11 x 23 bits) %.1f MB\n",
              n, ours_bytes / 1e6, ours.memory_bytes() / 1e6, ours.chunk_count(),
              faiss_bytes / 1e6);
}

}  // namespace
}  // namespace hm
