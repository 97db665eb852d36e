// Index search per index type and N: hm's indexes and FAISS's side by side on
// the same references and queries. Items are comparisons (queries x refs), so
// items/s is comparisons per second whatever the index does internally.
//
// Names: BM_Index_<Range|Knn>_<IndexType>_Cpu[/kernel:K]/refs:N/queries:Q.
// Threads: OMP_NUM_THREADS (FAISS and hm both read it).
#include <benchmark/benchmark.h>
#include <faiss/IndexBinaryFlat.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <omp.h>
#include <string.h>

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "hamming.hpp"
#include "hamming_cpu.hpp"
#include "index_flat.hpp"

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
};

std::vector<IndexType> index_types() {
  std::vector<IndexType> types;
  for (hm::PopcountKernel kernel :
       {hm::PopcountKernel::Avx512, hm::PopcountKernel::Avx2, hm::PopcountKernel::Scalar}) {
    if (!hm::popcount_kernel_supported(kernel)) continue;
    types.push_back({std::string("Flat_Cpu/kernel:") + hm::popcount_kernel_name(kernel),
                     [kernel] { return std::make_unique<hm::FlatIndex>(256, kernel); }});
  }
  types.push_back({"FaissFlat_Cpu", [] { return std::make_unique<faiss::IndexBinaryFlat>(256); }});
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
    index->add(static_cast<idx_t>(nr), dataset(nr).refs.data());
    key = want;
  }
  return *index;
}

void run_range(benchmark::State& state, const IndexType& type, size_t nr, size_t nq) {
  const faiss::IndexBinary& index = built_index(type, nr);
  const uint8_t* queries = dataset(nr).queries.data();
  size_t hits = 0;
  for (auto _ : state) {
    faiss::RangeSearchResult result(static_cast<idx_t>(nq));
    index.range_search(static_cast<idx_t>(nq), queries, kRadius, &result);
    hits = result.lims[nq];
    benchmark::DoNotOptimize(result.labels);
  }
  state.counters["hits"] = static_cast<double>(hits);
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
