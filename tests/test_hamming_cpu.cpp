// Brute-force Hamming search kernels against a pair-by-pair oracle built on
// hm::hamming256, for every kernel this CPU runs, and for several thread counts.
#include <gtest/gtest.h>
#include <omp.h>
#include <string.h>

#include <algorithm>
#include <numeric>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "hamming.hpp"
#include "hamming_cpu.hpp"

namespace hm {

// gtest prints test parameters with this (found by argument-dependent lookup).
void PrintTo(PopcountKernel kernel, std::ostream* os) { *os << popcount_kernel_name(kernel); }

namespace {

/// Queries and refs, row-major [n, 32] bytes each.
struct Dataset {
  size_t nq = 0, nr = 0;
  std::vector<uint8_t> queries, refs;
  const uint8_t* query(size_t i) const { return queries.data() + i * kHash256Bytes; }
  const uint8_t* ref(size_t i) const { return refs.data() + i * kHash256Bytes; }
};

void random_hash(std::mt19937_64& rng, uint8_t* out) {
  for (int j = 0; j < kHash256Words; ++j) {
    const uint64_t w = rng();
    memcpy(out + 8 * j, &w, 8);
  }
}

/// Flips exactly d distinct bits of a hash, chosen at random.
void flip_bits(std::mt19937_64& rng, int d, uint8_t* hash) {
  int bits[256];
  std::iota(bits, bits + 256, 0);
  for (int i = 0; i < d; ++i) {
    std::swap(bits[i], bits[i + static_cast<int>(rng() % static_cast<uint64_t>(256 - i))]);
    hash[bits[i] / 8] ^= static_cast<uint8_t>(1u << (bits[i] % 8));
  }
}

/// Random queries (with nq >= 3: query 0 all zeros, since padding lanes hold
/// zeros, and the last a copy of query 1). Refs: for every query one ref at
/// each distance 0..33, then random ones, shuffled and cut to nr; then every
/// 7th ref is replaced by a copy of an earlier one, so there are duplicates.
Dataset make_dataset(size_t nq, size_t nr, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Dataset data;
  data.nq = nq;
  data.nr = nr;
  data.queries.resize(nq * kHash256Bytes);
  for (size_t q = 0; q < nq; ++q) random_hash(rng, data.queries.data() + q * kHash256Bytes);
  if (nq >= 3) {
    std::fill(data.queries.begin(), data.queries.begin() + kHash256Bytes, 0);
    memcpy(data.queries.data() + (nq - 1) * kHash256Bytes, data.query(1), kHash256Bytes);
  }
  std::vector<uint8_t> pool;
  uint8_t hash[kHash256Bytes];
  for (size_t q = 0; q < nq; ++q) {
    for (int d = 0; d <= 33; ++d) {
      memcpy(hash, data.query(q), kHash256Bytes);
      flip_bits(rng, d, hash);
      pool.insert(pool.end(), hash, hash + kHash256Bytes);
    }
  }
  while (pool.size() < nr * kHash256Bytes) {
    random_hash(rng, hash);
    pool.insert(pool.end(), hash, hash + kHash256Bytes);
  }
  const size_t rows = pool.size() / kHash256Bytes;
  for (size_t i = rows; i > 1; --i) {
    const size_t j = static_cast<size_t>(rng() % i);
    std::swap_ranges(pool.begin() + (i - 1) * kHash256Bytes, pool.begin() + i * kHash256Bytes,
                     pool.begin() + j * kHash256Bytes);
  }
  data.refs.assign(pool.begin(), pool.begin() + nr * kHash256Bytes);
  for (size_t i = 6; i < nr; i += 7) {
    memcpy(data.refs.data() + i * kHash256Bytes, data.ref(rng() % i), kHash256Bytes);
  }
  return data;
}

/// Every pair's distance, [nq][nr], straight from hm::hamming256.
std::vector<int> all_distances(const Dataset& data) {
  std::vector<int> dist(data.nq * data.nr);
  for (size_t q = 0; q < data.nq; ++q) {
    for (size_t r = 0; r < data.nr; ++r) {
      dist[q * data.nr + r] = hamming256(data.query(q), data.ref(r));
    }
  }
  return dist;
}

HammingRangeResult oracle_range(const Dataset& data, const std::vector<int>& dist,
                                int max_distance) {
  HammingRangeResult out;
  out.lims.push_back(0);
  for (size_t q = 0; q < data.nq; ++q) {
    for (size_t r = 0; r < data.nr; ++r) {
      if (dist[q * data.nr + r] <= max_distance) {
        out.labels.push_back(static_cast<int64_t>(r));
        out.distances.push_back(dist[q * data.nr + r]);
      }
    }
    out.lims.push_back(out.labels.size());
  }
  return out;
}

struct KnnRows {
  std::vector<int32_t> distances;  // [nq][k]
  std::vector<int64_t> labels;     // [nq][k]
};

KnnRows oracle_knn(const Dataset& data, const std::vector<int>& dist, size_t k) {
  KnnRows out{std::vector<int32_t>(data.nq * k, INT32_MAX), std::vector<int64_t>(data.nq * k, -1)};
  std::vector<std::pair<int, int64_t>> row(data.nr);
  for (size_t q = 0; q < data.nq; ++q) {
    for (size_t r = 0; r < data.nr; ++r) row[r] = {dist[q * data.nr + r], static_cast<int64_t>(r)};
    std::sort(row.begin(), row.end());
    for (size_t j = 0; j < std::min(k, data.nr); ++j) {
      out.distances[q * k + j] = row[j].first;
      out.labels[q * k + j] = row[j].second;
    }
  }
  return out;
}

/// Sets omp_get_max_threads() for one scope.
class ScopedThreads {
 public:
  explicit ScopedThreads(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~ScopedThreads() { omp_set_num_threads(saved_); }

 private:
  int saved_;
};

std::vector<int> thresholds_for(size_t nr) {
  if (nr <= 1000) {
    std::vector<int> all(257);
    std::iota(all.begin(), all.end(), 0);
    return all;
  }
  return {0, 1, 2, 15, 30, 31, 32, 33, 47, 48, 49, 64, 100, 128, 129, 200, 255, 256};
}

class HammingCpuSearch : public ::testing::TestWithParam<PopcountKernel> {
 protected:
  void SetUp() override {
    if (!popcount_kernel_supported(GetParam())) {
      GTEST_SKIP() << "this CPU cannot run the " << popcount_kernel_name(GetParam())
                   << " kernel; its search is not tested here";
    }
  }
};

struct Shape {
  size_t nq;
  size_t nr;
};

// Awkward sizes around the groups of 8 refs, the blocks of 256 and the query
// tiles of 64, plus the sizes the matching issue names.
const Shape kShapes[] = {{3, 0},   {3, 1},     {4, 7},    {2, 8},     {5, 9},
                         {3, 31},  {3, 32},    {6, 33},   {1, 255},   {2, 256},
                         {3, 257}, {67, 1000}, {5, 1000}, {5, 50000}, {70, 50000}};

TEST_P(HammingCpuSearch, RangeMatchesOracle) {
  for (const Shape& shape : kShapes) {
    const uint64_t seed = 0x5eed0000 + shape.nq * 100003 + shape.nr;
    const Dataset data = make_dataset(shape.nq, shape.nr, seed);
    const std::vector<int> dist = all_distances(data);
    for (int max_distance : thresholds_for(shape.nr)) {
      const HammingRangeResult expected = oracle_range(data, dist, max_distance);
      for (int threads : {1, 2}) {
        SCOPED_TRACE(::testing::Message()
                     << "seed " << seed << " nq " << shape.nq << " nr " << shape.nr
                     << " max_distance " << max_distance << " threads " << threads);
        ScopedThreads scoped(threads);
        HammingRangeResult got;
        hamming_range_cpu(data.queries.data(), data.nq, data.refs.data(), data.nr, max_distance,
                          got, GetParam());
        ASSERT_EQ(got.lims, expected.lims);
        ASSERT_EQ(got.labels, expected.labels);
        ASSERT_EQ(got.distances, expected.distances);
      }
    }
  }
}

TEST_P(HammingCpuSearch, RangeOutsideDistanceScale) {
  const Dataset data = make_dataset(4, 100, 77);
  HammingRangeResult got;
  hamming_range_cpu(data.queries.data(), data.nq, data.refs.data(), data.nr, -1, got, GetParam());
  EXPECT_EQ(got.lims, std::vector<size_t>(data.nq + 1, 0));
  EXPECT_TRUE(got.labels.empty());
  hamming_range_cpu(data.queries.data(), data.nq, data.refs.data(), data.nr, 1000, got, GetParam());
  ASSERT_EQ(got.lims.back(), data.nq * data.nr);
  for (size_t q = 0; q < data.nq; ++q) {
    for (size_t r = 0; r < data.nr; ++r) {
      EXPECT_EQ(got.labels[q * data.nr + r], static_cast<int64_t>(r));
      EXPECT_EQ(got.distances[q * data.nr + r], hamming256(data.query(q), data.ref(r)));
    }
  }
}

TEST_P(HammingCpuSearch, RangeUnalignedRows) {
  const Dataset data = make_dataset(9, 777, 4242);
  // Copies at odd addresses: the kernels must not assume any alignment.
  std::vector<uint8_t> queries(data.queries.size() + 1), refs(data.refs.size() + 3);
  std::copy(data.queries.begin(), data.queries.end(), queries.begin() + 1);
  std::copy(data.refs.begin(), data.refs.end(), refs.begin() + 3);
  const std::vector<int> dist = all_distances(data);
  HammingRangeResult got;
  hamming_range_cpu(queries.data() + 1, data.nq, refs.data() + 3, data.nr, 31, got, GetParam());
  const HammingRangeResult expected = oracle_range(data, dist, 31);
  EXPECT_EQ(got.lims, expected.lims);
  EXPECT_EQ(got.labels, expected.labels);
  EXPECT_EQ(got.distances, expected.distances);
}

TEST_P(HammingCpuSearch, KnnMatchesOracle) {
  for (const Shape& shape : kShapes) {
    const uint64_t seed = 0xc0ffee + shape.nq * 7919 + shape.nr;
    const Dataset data = make_dataset(shape.nq, shape.nr, seed);
    const std::vector<int> dist = all_distances(data);
    for (size_t k : {size_t{1}, size_t{5}, size_t{1024}}) {
      const KnnRows expected = oracle_knn(data, dist, k);
      for (int threads : {1, 2}) {
        SCOPED_TRACE(::testing::Message() << "seed " << seed << " nq " << shape.nq << " nr "
                                          << shape.nr << " k " << k << " threads " << threads);
        ScopedThreads scoped(threads);
        KnnRows got{std::vector<int32_t>(data.nq * k, 7), std::vector<int64_t>(data.nq * k, 7)};
        hamming_knn_cpu(data.queries.data(), data.nq, data.refs.data(), data.nr, k,
                        got.distances.data(), got.labels.data(), GetParam());
        ASSERT_EQ(got.distances, expected.distances);
        ASSERT_EQ(got.labels, expected.labels);
      }
    }
  }
}

TEST_P(HammingCpuSearch, SameOutputForAnyThreadCount) {
  // Few queries and many refs: the refs are split between threads and the
  // parts merged. Many queries: tiles of queries run on different threads.
  for (const Shape& shape : {Shape{5, 120011}, Shape{1000, 3001}}) {
    const uint64_t seed = 123 + shape.nq;
    const Dataset data = make_dataset(shape.nq, shape.nr, seed);
    const size_t k = 20;
    HammingRangeResult first_range;
    std::vector<int32_t> first_d;
    std::vector<int64_t> first_l;
    for (int threads = 1; threads <= 6; ++threads) {
      SCOPED_TRACE(::testing::Message() << "seed " << seed << " threads " << threads);
      ScopedThreads scoped(threads);
      HammingRangeResult range;
      hamming_range_cpu(data.queries.data(), data.nq, data.refs.data(), data.nr, 40, range,
                        GetParam());
      std::vector<int32_t> d(data.nq * k);
      std::vector<int64_t> l(data.nq * k);
      hamming_knn_cpu(data.queries.data(), data.nq, data.refs.data(), data.nr, k, d.data(),
                      l.data(), GetParam());
      if (threads == 1) {
        first_range = range;
        first_d = d;
        first_l = l;
        continue;
      }
      EXPECT_EQ(range.lims, first_range.lims);
      EXPECT_EQ(range.labels, first_range.labels);
      EXPECT_EQ(range.distances, first_range.distances);
      EXPECT_EQ(d, first_d);
      EXPECT_EQ(l, first_l);
    }
  }
}

TEST_P(HammingCpuSearch, KnnBreaksTiesBySmallerLabel) {
  // Eight copies of one hash, and a query at distance 3 from all of them:
  // the nearest 5 are the first 5 copies, in label order.
  const Dataset base = make_dataset(1, 1, 99);
  std::vector<uint8_t> refs;
  for (int i = 0; i < 8; ++i) refs.insert(refs.end(), base.refs.begin(), base.refs.end());
  std::vector<uint8_t> query(base.refs.begin(), base.refs.end());
  query[0] ^= 0x07;
  std::vector<int32_t> distances(5);
  std::vector<int64_t> labels(5);
  hamming_knn_cpu(query.data(), 1, refs.data(), 8, 5, distances.data(), labels.data(), GetParam());
  EXPECT_EQ(distances, std::vector<int32_t>(5, 3));
  EXPECT_EQ(labels, (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

INSTANTIATE_TEST_SUITE_P(HammingCpu, HammingCpuSearch,
                         ::testing::Values(PopcountKernel::Scalar, PopcountKernel::Avx2,
                                           PopcountKernel::Avx512),
                         [](const ::testing::TestParamInfo<PopcountKernel>& info) {
                           return std::string(popcount_kernel_name(info.param));
                         });

TEST(HammingCpuKernel, NamesAndBest) {
  EXPECT_STREQ(popcount_kernel_name(PopcountKernel::Scalar), "scalar");
  EXPECT_STREQ(popcount_kernel_name(PopcountKernel::Avx2), "avx2");
  EXPECT_STREQ(popcount_kernel_name(PopcountKernel::Avx512), "avx512");
  EXPECT_TRUE(popcount_kernel_supported(PopcountKernel::Scalar));
  EXPECT_TRUE(popcount_kernel_supported(popcount_kernel_best()));
  if (popcount_kernel_supported(PopcountKernel::Avx512)) {
    EXPECT_EQ(popcount_kernel_best(), PopcountKernel::Avx512);
  } else if (popcount_kernel_supported(PopcountKernel::Avx2)) {
    EXPECT_EQ(popcount_kernel_best(), PopcountKernel::Avx2);
  }
}

TEST(HammingCpuKernel, UnsupportedKernelThrows) {
  for (PopcountKernel kernel : {PopcountKernel::Avx2, PopcountKernel::Avx512}) {
    if (popcount_kernel_supported(kernel)) continue;
    const Dataset data = make_dataset(1, 10, 5);
    HammingRangeResult out;
    EXPECT_THROW(hamming_range_cpu(data.queries.data(), 1, data.refs.data(), 10, 31, out, kernel),
                 std::invalid_argument);
    std::vector<int32_t> d(1);
    std::vector<int64_t> l(1);
    EXPECT_THROW(hamming_knn_cpu(data.queries.data(), 1, data.refs.data(), 10, 1, d.data(),
                                 l.data(), kernel),
                 std::invalid_argument);
    return;
  }
  GTEST_SKIP() << "this CPU runs every kernel: there is no unsupported one to refuse";
}

TEST(HammingCpuKernel, NoQueries) {
  const Dataset data = make_dataset(1, 10, 6);
  HammingRangeResult out;
  out.labels.push_back(3);  // stale content must go
  hamming_range_cpu(nullptr, 0, data.refs.data(), data.nr, 31, out);
  EXPECT_EQ(out.lims, std::vector<size_t>{0});
  EXPECT_TRUE(out.labels.empty());
  EXPECT_TRUE(out.distances.empty());
  hamming_knn_cpu(nullptr, 0, data.refs.data(), data.nr, 3, nullptr, nullptr);
}

}  // namespace
}  // namespace hm
