// Index search per index type and N: hm's indexes and FAISS's side by side on
// the same references and queries. Items are comparisons (queries x refs), so
// items/s is comparisons per second whatever the index does internally.
//
// Names: BM_Index_<Range|Knn>_<IndexType>_Cpu[/kernel:K]/refs:N/queries:Q.
// Threads: OMP_NUM_THREADS (FAISS and hm both read it).
// Range cases report `recall`: the share of the exact answer (every
// reference within 31 bits, by brute force) that the index returned; 1 for
// the exact types, measured for the approximate ones (HNSW, IVF).
#include <benchmark/benchmark.h>
#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexBinaryHNSW.h>
#include <faiss/IndexBinaryHash.h>
#include <faiss/IndexBinaryIVF.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <omp.h>
#include <string.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "hamming.hpp"
#include "hamming_cpu.hpp"
#include "index_flat.hpp"
#include "index_mih.hpp"

namespace {

using idx_t = faiss::IndexBinary::idx_t;

constexpr int kRadius = 32;  // FAISS's strict radius: PDQ's threshold 31
constexpr idx_t kK = 10;
const size_t kRefCounts[] = {100000, 1000000};
const size_t kQueryCounts[] = {100, 1000};
constexpr size_t kMaxQueries = 1000;

/// Random refs from a fixed seed, and queries of which every tenth is a ref
/// with up to 8 bits flipped (a near duplicate), the rest random: range
/// searches find a few hits, as real scans do.
struct Dataset {
  std::vector<uint8_t> refs;     // [nr, 32]
  std::vector<uint8_t> queries;  // [kMaxQueries, 32]
};

const Dataset& dataset(size_t nr) {
  static std::map<size_t, Dataset> cache;
  auto it = cache.find(nr);
  if (it != cache.end()) return it->second;
  std::mt19937_64 rng(20240601 + nr);
  Dataset data;
  data.refs.resize(nr * hm::kHash256Bytes);
  for (size_t i = 0; i < data.refs.size(); i += 8) {
    const uint64_t w = rng();
    memcpy(data.refs.data() + i, &w, 8);
  }
  data.queries.resize(kMaxQueries * hm::kHash256Bytes);
  for (size_t q = 0; q < kMaxQueries; ++q) {
    uint8_t* query = data.queries.data() + q * hm::kHash256Bytes;
    if (q % 10 == 0) {
      memcpy(query, data.refs.data() + (rng() % nr) * hm::kHash256Bytes, hm::kHash256Bytes);
      for (int flip = 0; flip < 8; ++flip) {
        const unsigned bit = static_cast<unsigned>(rng() % 256);
        query[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      }
    } else {
      for (int j = 0; j < hm::kHash256Bytes; j += 8) {
        const uint64_t w = rng();
        memcpy(query + j, &w, 8);
      }
    }
  }
  return cache.emplace(nr, std::move(data)).first->second;
}

/// An index type under test. New types (MIH, HNSW, IVF, CUDA flat) are one
/// more entry in index_types(); every search case then runs on them.
struct IndexType {
  std::string name;  // the benchmark name's <IndexType>_Cpu[/kernel:K] part
  std::function<std::unique_ptr<faiss::IndexBinary>()> make;  // an empty index
  size_t max_refs = SIZE_MAX;  // slow to build: only up to this many references
  bool knn_range = false;      // no range search: k-NN (k = kRangeK) filtered by distance, as HashIndex does
  bool trains = false;         // needs train() on the references first
};

constexpr idx_t kRangeK = 128;  // HashIndex's default candidates for HNSW range queries

std::vector<IndexType> index_types() {
  std::vector<IndexType> types;
  for (hm::PopcountKernel kernel :
       {hm::PopcountKernel::Avx512, hm::PopcountKernel::Avx2, hm::PopcountKernel::Scalar}) {
    if (!hm::popcount_kernel_supported(kernel)) continue;
    types.push_back({std::string("Flat_Cpu/kernel:") + hm::popcount_kernel_name(kernel),
                     [kernel] { return std::make_unique<hm::FlatIndex>(256, kernel); }});
  }
  types.push_back({"FaissFlat_Cpu", [] { return std::make_unique<faiss::IndexBinaryFlat>(256); }});
  types.push_back({"Mih_Cpu", [] { return std::make_unique<hm::MihIndex>(256); }});
  // FAISS's exact-for-31 multi-index hash: 11 chunks of 23 bits, 2 flips.
  types.push_back({"FaissMultiHash_Cpu", [] { return std::make_unique<faiss::IndexBinaryMultiHash>(256, 11, 23); },
                   100000});
  {
    IndexType hnsw{"Hnsw_Cpu/M:32/ef:128", [] {
                     auto index = std::make_unique<faiss::IndexBinaryHNSW>(256, 32);
                     index->hnsw.efConstruction = 64;
                     index->hnsw.efSearch = 128;
                     return index;
                   }};
    hnsw.max_refs = 100000;
    hnsw.knn_range = true;
    types.push_back(hnsw);
  }
  {
    IndexType ivf{"Ivf_Cpu/nlist:1024/nprobe:16", [] {
                    auto index = std::make_unique<faiss::IndexBinaryIVF>(new faiss::IndexBinaryFlat(256), 256, 1024);
                    index->own_fields = true;
                    index->nprobe = 16;
                    return index;
                  }};
    ivf.max_refs = 100000;
    ivf.trains = true;
    types.push_back(ivf);
  }
  return types;
}

/// The index of `type` over the first nr refs. Cases are registered grouped
/// by (type, nr), so one cached index serves a whole group.
faiss::IndexBinary& built_index(const IndexType& type, size_t nr) {
  static std::string key;
  static std::unique_ptr<faiss::IndexBinary> index;
  const std::string want = type.name + "/" + std::to_string(nr);
  if (key != want) {
    index.reset();
    index = type.make();
    if (auto* multihash = dynamic_cast<faiss::IndexBinaryMultiHash*>(index.get())) multihash->nflip = 2;
    if (type.trains) index->train(static_cast<idx_t>(nr), dataset(nr).refs.data());
    index->add(static_cast<idx_t>(nr), dataset(nr).refs.data());
    // MIH builds its tables on the first search: keep that out of the timing.
    if (auto* mih = dynamic_cast<hm::MihIndex*>(index.get())) mih->build_tables();
    key = want;
  }
  return *index;
}

/// Per query, the sorted labels within the radius: by range search, or for
/// indexes without one by k-NN filtered by distance.
std::vector<std::vector<idx_t>> range_labels(const faiss::IndexBinary& index, const IndexType& type,
                                             const uint8_t* queries, size_t nq) {
  std::vector<std::vector<idx_t>> out(nq);
  if (type.knn_range) {
    const idx_t k = std::min<idx_t>(kRangeK, index.ntotal);
    std::vector<int32_t> distances(nq * k);
    std::vector<idx_t> labels(nq * k);
    index.search(static_cast<idx_t>(nq), queries, k, distances.data(), labels.data());
    for (size_t q = 0; q < nq; ++q)
      for (idx_t j = 0; j < k; ++j)
        if (labels[q * k + j] >= 0 && distances[q * k + j] < kRadius) out[q].push_back(labels[q * k + j]);
  } else {
    faiss::RangeSearchResult result(static_cast<idx_t>(nq));
    index.range_search(static_cast<idx_t>(nq), queries, kRadius, &result);
    for (size_t q = 0; q < nq; ++q) out[q].assign(result.labels + result.lims[q], result.labels + result.lims[q + 1]);
  }
  for (auto& labels : out) std::sort(labels.begin(), labels.end());
  return out;
}

/// Share of the brute-force answer that `found` holds.
double recall(const std::vector<std::vector<idx_t>>& found, size_t nr, size_t nq) {
  hm::HammingRangeResult exact;
  hm::hamming_range_cpu(dataset(nr).queries.data(), nq, dataset(nr).refs.data(), nr, kRadius - 1, exact);
  size_t want = exact.lims[nq], got = 0;
  for (size_t q = 0; q < nq; ++q)
    for (size_t j = exact.lims[q]; j < exact.lims[q + 1]; ++j)
      got += std::binary_search(found[q].begin(), found[q].end(), exact.labels[j]);
  return want ? static_cast<double>(got) / static_cast<double>(want) : 1.0;
}

void run_range(benchmark::State& state, const IndexType& type, size_t nr, size_t nq) {
  const faiss::IndexBinary& index = built_index(type, nr);
  const uint8_t* queries = dataset(nr).queries.data();
  std::vector<std::vector<idx_t>> found;
  for (auto _ : state) {
    found = range_labels(index, type, queries, nq);
    benchmark::DoNotOptimize(found.data());
  }
  size_t hits = 0;
  for (const auto& labels : found) hits += labels.size();
  state.counters["hits"] = static_cast<double>(hits);
  state.counters["recall"] = recall(found, nr, nq);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(nq * nr));
}

void run_knn(benchmark::State& state, const IndexType& type, size_t nr, size_t nq) {
  const faiss::IndexBinary& index = built_index(type, nr);
  const uint8_t* queries = dataset(nr).queries.data();
  std::vector<int32_t> distances(nq * kK);
  std::vector<idx_t> labels(nq * kK);
  for (auto _ : state) {
    index.search(static_cast<idx_t>(nq), queries, kK, distances.data(), labels.data());
    benchmark::DoNotOptimize(distances.data());
  }
  // Sum of the nearest distances: equal across index types on the same data.
  int64_t nearest = 0;
  for (size_t q = 0; q < nq; ++q) nearest += distances[q * kK];
  state.counters["nearest_sum"] = static_cast<double>(nearest);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(nq * nr));
}

void register_cases() {
  static const std::vector<IndexType> types = index_types();
  for (const IndexType& type : types) {
    for (size_t nr : kRefCounts) {
      if (nr > type.max_refs) continue;
      for (size_t nq : kQueryCounts) {
        const std::string args = "/refs:" + std::to_string(nr) + "/queries:" + std::to_string(nq);
        benchmark::RegisterBenchmark(
            ("BM_Index_Range_" + type.name + args).c_str(),
            [&type, nr, nq](benchmark::State& state) { run_range(state, type, nr, nq); })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
        benchmark::RegisterBenchmark(
            ("BM_Index_Knn_" + type.name + args).c_str(),
            [&type, nr, nq](benchmark::State& state) { run_knn(state, type, nr, nq); })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("omp_max_threads", std::to_string(omp_get_max_threads()));
  benchmark::AddCustomContext("popcount_kernel_best",
                              hm::popcount_kernel_name(hm::popcount_kernel_best()));
  register_cases();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
