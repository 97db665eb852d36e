// Exact Hamming search on the GPU against the CPU brute force, bit for bit:
// range search (lims, labels, distances) for every threshold 0 .. 256 and
// top-k rows (distances, labels, tie order, padding) for k up to 1024, over
// seeded data with exact duplicates, near duplicates at every distance and
// massive ties, for 1, 31, 32, 33, 1000 and 1M references; the batching and
// hit-buffer regrowth paths; and CudaFlatIndex against FlatIndex through the
// faiss interface. Without a CUDA device every test is skipped.
#include <faiss/impl/AuxIndexStructures.h>
#include <gtest/gtest.h>
#include <stdint.h>

#include <algorithm>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "hamming_cpu.hpp"
#include "hamming_gpu.hpp"
#include "index_cuda_flat.hpp"
#include "index_flat.hpp"
#include "pdq_gpu.hpp"

namespace {

using Hashes = std::vector<uint8_t>;  // row-major [n, 32]
using Idx = faiss::IndexBinary::idx_t;

constexpr size_t kBytes = 32;
constexpr int kMaxDistance = 256;

#define HM_REQUIRE_CUDA_DEVICE()                                                               \
  do {                                                                                         \
    if (!hm::cuda_device_available())                                                          \
      GTEST_SKIP() << "no CUDA device: the CUDA runtime found none, so GPU Hamming parity is " \
                      "untested";                                                              \
  } while (0)

Hashes random_hashes(std::mt19937_64& rng, size_t n) {
  Hashes out(n * kBytes);
  for (size_t i = 0; i < out.size(); i += 8) {
    const uint64_t w = rng();
    for (int b = 0; b < 8; ++b) out[i + b] = static_cast<uint8_t>(w >> (8 * b));
  }
  return out;
}

/// `base` with exactly `flips` distinct bits flipped: at that distance from it.
void flip_bits(std::mt19937_64& rng, const uint8_t* base, int flips, uint8_t* out) {
  std::copy(base, base + kBytes, out);
  std::vector<int> bits(kMaxDistance);
  for (int i = 0; i < kMaxDistance; ++i) bits[i] = i;
  std::shuffle(bits.begin(), bits.end(), rng);
  for (int i = 0; i < flips; ++i) out[bits[i] / 8] ^= static_cast<uint8_t>(1u << (bits[i] % 8));
}

/// Queries and references whose distances cover 0 .. 256: refs are copies of
/// a few centres with 0 .. 256 bits flipped (so exact duplicates too), and
/// queries are centres, copies of refs, and flipped refs.
struct Data {
  Hashes queries, refs;
  size_t nq = 0, nr = 0;
};

Data spread_data(uint64_t seed, size_t nq, size_t nr) {
  std::mt19937_64 rng(seed);
  const Hashes centres = random_hashes(rng, 4);
  std::uniform_int_distribution<int> centre(0, 3), flips(0, kMaxDistance), coin(0, 3);
  Data d;
  d.nq = nq;
  d.nr = nr;
  d.refs.resize(nr * kBytes);
  for (size_t i = 0; i < nr; ++i) {
    uint8_t* row = &d.refs[i * kBytes];
    if (i > 0 && coin(rng) == 0) {  // an exact duplicate of an earlier ref
      const size_t j = std::uniform_int_distribution<size_t>(0, i - 1)(rng);
      std::copy(&d.refs[j * kBytes], &d.refs[j * kBytes] + kBytes, row);
    } else {
      flip_bits(rng, &centres[centre(rng) * kBytes], flips(rng), row);
    }
  }
  d.queries.resize(nq * kBytes);
  for (size_t i = 0; i < nq; ++i) {
    uint8_t* row = &d.queries[i * kBytes];
    const size_t j = std::uniform_int_distribution<size_t>(0, nr - 1)(rng);
    switch (coin(rng)) {
      case 0: {
        const uint8_t* c = &centres[centre(rng) * kBytes];
        std::copy(c, c + kBytes, row);
        break;
      }
      case 1:
        std::copy(&d.refs[j * kBytes], &d.refs[j * kBytes] + kBytes, row);
        break;
      default:
        flip_bits(rng, &d.refs[j * kBytes], flips(rng) / 4, row);
        break;
    }
  }
  return d;
}

/// Mostly unrelated hashes (distances near 128) with planted near duplicates
/// of the queries at 0 .. 80 bits and exact duplicates, as a reference list
/// matched against new images looks.
Data planted_data(uint64_t seed, size_t nq, size_t nr) {
  std::mt19937_64 rng(seed);
  Data d;
  d.nq = nq;
  d.nr = nr;
  d.queries = random_hashes(rng, nq);
  d.refs = random_hashes(rng, nr);
  std::uniform_int_distribution<size_t> ref(0, nr - 1), query(0, nq - 1);
  std::uniform_int_distribution<int> flips(0, 80);
  for (size_t i = 0; i < std::min<size_t>(nr, 8 * nq); ++i) {
    const size_t r = ref(rng);
    const int f = i % 5 == 0 ? 0 : flips(rng);
    flip_bits(rng, &d.queries[query(rng) * kBytes], f, &d.refs[r * kBytes]);
  }
  return d;
}

/// Empty when equal; otherwise says where they first differ.
std::string range_mismatch(const hm::HammingRangeResult& gpu, const hm::HammingRangeResult& cpu) {
  std::ostringstream why;
  if (gpu.lims != cpu.lims) {
    for (size_t i = 0; i < std::min(gpu.lims.size(), cpu.lims.size()); ++i)
      if (gpu.lims[i] != cpu.lims[i]) {
        why << "lims[" << i << "]: gpu " << gpu.lims[i] << ", cpu " << cpu.lims[i];
        return why.str();
      }
    why << "lims sizes: gpu " << gpu.lims.size() << ", cpu " << cpu.lims.size();
    return why.str();
  }
  if (gpu.labels.size() != cpu.labels.size() || gpu.distances.size() != cpu.distances.size())
    return "hit array sizes differ";
  for (size_t i = 0; i < cpu.labels.size(); ++i)
    if (gpu.labels[i] != cpu.labels[i] || gpu.distances[i] != cpu.distances[i]) {
      why << "hit " << i << ": gpu (" << gpu.labels[i] << ", " << gpu.distances[i] << "), cpu ("
          << cpu.labels[i] << ", " << cpu.distances[i] << ")";
      return why.str();
    }
  return "";
}

void expect_range_parity(hm::HammingGpuSearch& gpu, const Data& d, int max_distance) {
  hm::HammingRangeResult on_gpu, on_cpu;
  gpu.range(d.queries.data(), d.nq, max_distance, on_gpu);
  hm::hamming_range_cpu(d.queries.data(), d.nq, d.refs.data(), d.nr, max_distance, on_cpu);
  const std::string why = range_mismatch(on_gpu, on_cpu);
  ASSERT_TRUE(why.empty()) << "max_distance " << max_distance << ": " << why;
}

void expect_knn_parity(hm::HammingGpuSearch& gpu, const Data& d, size_t k) {
  std::vector<int32_t> gd(d.nq * k), cd(d.nq * k);
  std::vector<int64_t> gl(d.nq * k), cl(d.nq * k);
  gpu.knn(d.queries.data(), d.nq, k, gd.data(), gl.data());
  hm::hamming_knn_cpu(d.queries.data(), d.nq, d.refs.data(), d.nr, k, cd.data(), cl.data());
  for (size_t i = 0; i < d.nq * k; ++i) {
    ASSERT_TRUE(gd[i] == cd[i] && gl[i] == cl[i])
        << "k " << k << ", query " << i / k << ", rank " << i % k << ": gpu (" << gl[i] << ", "
        << gd[i] << "), cpu (" << cl[i] << ", " << cd[i] << ")";
  }
}

TEST(HammingGpu, RangeEveryThresholdSmallN) {
  HM_REQUIRE_CUDA_DEVICE();
  hm::HammingGpuSearch gpu;
  for (size_t nr : {1, 31, 32, 33, 1000}) {
    const uint64_t seed = 1000 + nr;
    SCOPED_TRACE("seed " + std::to_string(seed) + ", refs " + std::to_string(nr));
    const Data d = spread_data(seed, 200, nr);  // two query tiles, the second partial
    gpu.set_references(d.refs.data(), d.nr);
    for (int t = -1; t <= kMaxDistance + 1; ++t) {
      expect_range_parity(gpu, d, t);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(HammingGpu, RangeMillionRefs) {
  HM_REQUIRE_CUDA_DEVICE();
  const uint64_t seed = 77;
  SCOPED_TRACE("seed " + std::to_string(seed));
  const Data d = planted_data(seed, 300, 1000000);
  hm::HammingGpuSearch gpu;
  gpu.set_references(d.refs.data(), d.nr);
  // Both sides of the half-distance filter (48 / 49), and thresholds where
  // unrelated hashes start to match.
  for (int t : {0, 1, 8, 31, 32, 47, 48, 49, 64, 80, 100}) {
    expect_range_parity(gpu, d, t);
    if (HasFatalFailure()) return;
  }
}

TEST(HammingGpu, RangeEverythingMatchesRegrowsTheHitBuffer) {
  HM_REQUIRE_CUDA_DEVICE();
  const uint64_t seed = 78;
  SCOPED_TRACE("seed " + std::to_string(seed));
  // 3 x 1M hits: more than the first hit buffer (1 Mi), so the batch reruns.
  const Data d = planted_data(seed, 3, 1000000);
  hm::HammingGpuSearch gpu;
  gpu.set_references(d.refs.data(), d.nr);
  expect_range_parity(gpu, d, kMaxDistance);
  EXPECT_GE(gpu.last_timing().reruns, 1);
  expect_range_parity(gpu, d, 200);
}

TEST(HammingGpu, RangeSplitsBatchesOverTheHitBudget) {
  HM_REQUIRE_CUDA_DEVICE();
  const uint64_t seed = 79;
  SCOPED_TRACE("seed " + std::to_string(seed));
  const Data d = spread_data(seed, 301, 5000);
  hm::HammingGpuOptions options;
  options.max_queries_per_batch = 64;
  options.max_hit_bytes = 16 * 20000;  // 20000 hits: a batch of 64 at 256 has 320000
  hm::HammingGpuSearch gpu(options);
  gpu.set_references(d.refs.data(), d.nr);
  for (int t : {0, 31, 128, 200, kMaxDistance}) {
    expect_range_parity(gpu, d, t);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(gpu.last_timing().batches, 301 / 64 + 1);  // split at 256
}

TEST(HammingGpu, RangeDihedralRowsAndAddedReferences) {
  HM_REQUIRE_CUDA_DEVICE();
  const uint64_t seed = 80;
  SCOPED_TRACE("seed " + std::to_string(seed));
  const Data d = planted_data(seed, 8 * 25, 20000);  // 25 images x 8 variants
  hm::HammingGpuSearch gpu;
  // Added in uneven parts: labels continue across the device buffer's growth.
  gpu.add_references(d.refs.data(), 7);
  gpu.add_references(d.refs.data() + 7 * kBytes, 12000 - 7);
  gpu.add_references(d.refs.data() + 12000 * kBytes, d.nr - 12000);
  ASSERT_EQ(gpu.reference_count(), d.nr);
  for (int t : {31, 63}) expect_range_parity(gpu, d, t);
}

TEST(HammingGpu, KnnSmallN) {
  HM_REQUIRE_CUDA_DEVICE();
  hm::HammingGpuSearch gpu;
  for (size_t nr : {1, 31, 32, 33, 1000}) {
    const uint64_t seed = 2000 + nr;
    SCOPED_TRACE("seed " + std::to_string(seed) + ", refs " + std::to_string(nr));
    const Data d = spread_data(seed, 130, nr);  // three top-k query tiles of 64
    gpu.set_references(d.refs.data(), d.nr);
    for (size_t k : {1, 2, 7, 31, 32, 33, 64, 100, 999, 1000, 1001, 1024}) {
      expect_knn_parity(gpu, d, k);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(HammingGpu, KnnMillionRefs) {
  HM_REQUIRE_CUDA_DEVICE();
  const uint64_t seed = 81;
  SCOPED_TRACE("seed " + std::to_string(seed));
  const Data d = planted_data(seed, 100, 1000000);
  hm::HammingGpuSearch gpu;
  gpu.set_references(d.refs.data(), d.nr);
  for (size_t k : {1, 10, 256, 1024}) {
    expect_knn_parity(gpu, d, k);
    if (HasFatalFailure()) return;
  }
}

TEST(HammingGpu, KnnTiesAcrossEveryChunk) {
  HM_REQUIRE_CUDA_DEVICE();
  const uint64_t seed = 82;
  SCOPED_TRACE("seed " + std::to_string(seed));
  // 1M refs drawn from 3 distinct hashes: every query's cutoff distance ties
  // hundreds of thousands of refs spread over all chunks, and only the
  // smallest labels may be kept.
  std::mt19937_64 rng(seed);
  const Hashes distinct = random_hashes(rng, 3);
  Data d;
  d.nr = 1000000;
  d.refs.resize(d.nr * kBytes);
  std::uniform_int_distribution<int> pick(0, 2);
  for (size_t i = 0; i < d.nr; ++i) {
    const uint8_t* r = &distinct[pick(rng) * kBytes];
    std::copy(r, r + kBytes, &d.refs[i * kBytes]);
  }
  d.nq = 70;
  d.queries = random_hashes(rng, d.nq);
  for (size_t i = 0; i < 6; ++i)  // some queries equal to a ref: ties at distance 0
    std::copy(&distinct[(i % 3) * kBytes], &distinct[(i % 3) * kBytes] + kBytes,
              &d.queries[i * kBytes]);
  hm::HammingGpuSearch gpu;
  gpu.set_references(d.refs.data(), d.nr);
  for (size_t k : {1, 5, 1000, 1024}) {
    expect_knn_parity(gpu, d, k);
    if (HasFatalFailure()) return;
  }
  expect_range_parity(gpu, d, 0);
}

TEST(HammingGpu, KnnBatches) {
  HM_REQUIRE_CUDA_DEVICE();
  const uint64_t seed = 83;
  SCOPED_TRACE("seed " + std::to_string(seed));
  const Data d = spread_data(seed, 333, 40000);
  hm::HammingGpuOptions options;
  options.max_knn_entries = 5000;  // 50 queries a batch at k = 100, 4 at k = 1024
  hm::HammingGpuSearch gpu(options);
  gpu.set_references(d.refs.data(), d.nr);
  for (size_t k : {100, 1024}) {
    expect_knn_parity(gpu, d, k);
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(gpu.last_timing().batches, (333 + 3) / 4);
}

TEST(HammingGpu, EmptyInputs) {
  HM_REQUIRE_CUDA_DEVICE();
  const Data d = spread_data(84, 5, 10);
  hm::HammingGpuSearch gpu;
  hm::HammingRangeResult out;
  gpu.range(d.queries.data(), d.nq, 256, out);  // no references yet
  EXPECT_EQ(out.lims, std::vector<size_t>(d.nq + 1, 0));
  EXPECT_TRUE(out.labels.empty());
  std::vector<int32_t> dist(d.nq * 3);
  std::vector<int64_t> labels(d.nq * 3);
  gpu.knn(d.queries.data(), d.nq, 3, dist.data(), labels.data());
  EXPECT_EQ(dist, std::vector<int32_t>(d.nq * 3, hm::kKnnPadDistance));
  EXPECT_EQ(labels, std::vector<int64_t>(d.nq * 3, hm::kKnnPadLabel));
  gpu.set_references(d.refs.data(), d.nr);
  gpu.range(d.queries.data(), 0, 256, out);
  EXPECT_EQ(out.lims, std::vector<size_t>(1, 0));
  gpu.clear_references();
  EXPECT_EQ(gpu.reference_count(), 0u);
}

TEST(HammingGpu, CudaFlatIndexMatchesFlatIndex) {
  HM_REQUIRE_CUDA_DEVICE();
  const uint64_t seed = 85;
  SCOPED_TRACE("seed " + std::to_string(seed));
  const Data d = spread_data(seed, 150, 3000);
  hm::FlatIndex cpu;
  hm::CudaFlatIndex gpu;
  for (faiss::IndexBinary* index :
       {static_cast<faiss::IndexBinary*>(&cpu), static_cast<faiss::IndexBinary*>(&gpu)}) {
    index->add(1000, d.refs.data());
    index->add(static_cast<Idx>(d.nr - 1000), d.refs.data() + 1000 * kBytes);
  }
  ASSERT_EQ(gpu.ntotal, cpu.ntotal);
  ASSERT_TRUE(std::equal(cpu.codes(), cpu.codes() + d.nr * kBytes, gpu.codes()));

  const faiss::IndexBinary& g = gpu;
  const faiss::IndexBinary& c = cpu;
  for (Idx k : {1, 16, 1024, 4000}) {
    std::vector<int32_t> gd(d.nq * k), cd(d.nq * k);
    std::vector<Idx> gl(d.nq * k), cl(d.nq * k);
    g.search(static_cast<Idx>(d.nq), d.queries.data(), k, gd.data(), gl.data());
    c.search(static_cast<Idx>(d.nq), d.queries.data(), k, cd.data(), cl.data());
    ASSERT_EQ(gd, cd) << "k " << k;
    ASSERT_EQ(gl, cl) << "k " << k;
  }
  for (int radius : {0, 1, 32, 129, 256, 257}) {
    faiss::RangeSearchResult gr(d.nq), cr(d.nq);
    g.range_search(static_cast<Idx>(d.nq), d.queries.data(), radius, &gr);
    c.range_search(static_cast<Idx>(d.nq), d.queries.data(), radius, &cr);
    ASSERT_TRUE(std::equal(cr.lims, cr.lims + d.nq + 1, gr.lims)) << "radius " << radius;
    const size_t hits = cr.lims[d.nq];
    ASSERT_TRUE(std::equal(cr.labels, cr.labels + hits, gr.labels)) << "radius " << radius;
    ASSERT_TRUE(std::equal(cr.distances, cr.distances + hits, gr.distances)) << "radius " << radius;
  }
  uint8_t one[kBytes];
  g.reconstruct(1234, one);
  EXPECT_TRUE(std::equal(one, one + kBytes, d.refs.data() + 1234 * kBytes));
  EXPECT_THROW(g.reconstruct(static_cast<Idx>(d.nr), one), std::out_of_range);
  std::vector<uint8_t> some(5 * kBytes);
  g.reconstruct_n(2995, 5, some.data());
  EXPECT_TRUE(std::equal(some.begin(), some.end(), d.refs.data() + 2995 * kBytes));
  EXPECT_GE(gpu.memory_bytes(), d.nr * kBytes);
  EXPECT_GE(gpu.device_memory_bytes(), d.nr * kBytes);

  gpu.reset();
  cpu.reset();
  EXPECT_EQ(gpu.ntotal, 0);
  gpu.add(10, d.refs.data() + 50 * kBytes);
  cpu.add(10, d.refs.data() + 50 * kBytes);
  std::vector<int32_t> gd(d.nq * 12), cd(d.nq * 12);
  std::vector<Idx> gl(d.nq * 12), cl(d.nq * 12);
  g.search(static_cast<Idx>(d.nq), d.queries.data(), 12, gd.data(), gl.data());
  c.search(static_cast<Idx>(d.nq), d.queries.data(), 12, cd.data(), cl.data());
  EXPECT_EQ(gd, cd);
  EXPECT_EQ(gl, cl);
  EXPECT_THROW(hm::CudaFlatIndex(64), std::invalid_argument);
}

}  // namespace
