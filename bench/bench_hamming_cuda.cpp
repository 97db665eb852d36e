// Exact Hamming range search on the GPU beside the CPU kernels, on the same
// seeded data: unrelated hashes with planted near duplicates, as a reference
// list looks. Items are comparisons (queries x refs). GPU cases are timed
// with CUDA events (manual time: first query upload to last hit back, sort
// and hit copies included) and registered only when a CUDA device exists;
// their counters give the share of the CUDA-core popcount ceiling, SMs x 16
// POPC per clock x peak clock / 8 POPC per comparison (kernel alone and end
// to end). At max_distance 31 the kernel skips the second half of most
// comparisons and can exceed that "ceiling"; at 64 it counts all 256 bits.
#include <benchmark/benchmark.h>
#include <stdio.h>

#include <memory>
#include <random>
#include <vector>

#include "hamming_cpu.hpp"
#include "hamming_gpu.hpp"

namespace {

constexpr size_t kBytes = 32;
constexpr int64_t kMaxRefs = 10000000;
constexpr int64_t kMaxQueries = 100000;

/// The largest data set; every case uses a prefix of it.
struct BenchData {
  std::vector<uint8_t> refs;     // [kMaxRefs, 32]
  std::vector<uint8_t> queries;  // [kMaxQueries, 32]
};

const BenchData& data() {
  static const BenchData d = [] {
    BenchData b;
    std::mt19937_64 rng(20240611);
    auto fill = [&rng](std::vector<uint8_t>& v, size_t n) {
      v.resize(n * kBytes);
      for (size_t i = 0; i < v.size(); i += 8) {
        const uint64_t w = rng();
        for (int j = 0; j < 8; ++j) v[i + j] = static_cast<uint8_t>(w >> (8 * j));
      }
    };
    fill(b.refs, kMaxRefs);
    fill(b.queries, kMaxQueries);
    // One query in 100 has a near duplicate (a few bits off) among the first
    // 1M refs, so every case has some hits to compact, sort and copy.
    std::uniform_int_distribution<size_t> ref(0, 999999);
    std::uniform_int_distribution<int> bit(0, 255);
    for (size_t q = 0; q < static_cast<size_t>(kMaxQueries); q += 100) {
      uint8_t* r = &b.refs[ref(rng) * kBytes];
      for (size_t j = 0; j < kBytes; ++j) r[j] = b.queries[q * kBytes + j];
      for (int f = 0; f < 8; ++f) {
        const int x = bit(rng);
        r[x / 8] ^= static_cast<uint8_t>(1u << (x % 8));
      }
    }
    return b;
  }();
  return d;
}

/// Made in main() only when a device exists; freed before the runtime shuts down.
std::unique_ptr<hm::HammingGpuSearch> g_gpu;
int64_t g_resident_refs = 0;

void BM_Hamming_Range_Cuda(benchmark::State& state) {
  const int64_t refs = state.range(0);
  const int64_t queries = state.range(1);
  const int max_distance = static_cast<int>(state.range(2));
  const BenchData& d = data();
  if (g_resident_refs != refs) {
    g_gpu->set_references(d.refs.data(), static_cast<size_t>(refs));
    g_resident_refs = refs;
  }
  hm::HammingRangeResult out;
  g_gpu->range(d.queries.data(), static_cast<size_t>(queries), max_distance, out);  // warm-up
  double kernel_s = 0.0;
  for (auto _ : state) {
    g_gpu->range(d.queries.data(), static_cast<size_t>(queries), max_distance, out);
    state.SetIterationTime(g_gpu->last_timing().device_ms / 1e3);
    kernel_s += g_gpu->last_timing().search_ms / 1e3;
  }
  const double comparisons = static_cast<double>(refs) * static_cast<double>(queries);
  state.SetItemsProcessed(static_cast<int64_t>(comparisons) * state.iterations());
  const double ceiling = g_gpu->popcount_ceiling();
  if (ceiling > 0.0) {
    // Items per second divided by the ceiling, in percent.
    state.counters["ceiling_pct"] = benchmark::Counter(
        comparisons * 100.0 / ceiling, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["kernel_ceiling_pct"] =
        comparisons * state.iterations() * 100.0 / ceiling / kernel_s;
  }
  state.counters["hits"] = static_cast<double>(out.labels.size());
  state.SetLabel(g_gpu->device().name);
}

void BM_Hamming_Range_Cpu(benchmark::State& state) {
  const int64_t refs = state.range(0);
  const int64_t queries = state.range(1);
  const int max_distance = static_cast<int>(state.range(2));
  const BenchData& d = data();
  hm::HammingRangeResult out;
  for (auto _ : state) {
    hm::hamming_range_cpu(d.queries.data(), static_cast<size_t>(queries), d.refs.data(),
                          static_cast<size_t>(refs), max_distance, out);
    benchmark::DoNotOptimize(out.labels.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(refs) * queries * state.iterations());
  state.counters["hits"] = static_cast<double>(out.labels.size());
  state.SetLabel(hm::popcount_kernel_name(hm::popcount_kernel_best()));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // The CPU at sizes that stay quick (all cores), on the same data.
  benchmark::RegisterBenchmark("BM_Hamming_Range_Cpu", BM_Hamming_Range_Cpu)
      ->ArgNames({"refs", "queries", "max_distance"})
      ->ArgsProduct({{1000000}, {100, 1000}, {31, 64}})
      ->Args({10000000, 100, 31})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  if (hm::cuda_device_available()) {
    g_gpu = std::make_unique<hm::HammingGpuSearch>();
    benchmark::RegisterBenchmark("BM_Hamming_Range_Cuda", BM_Hamming_Range_Cuda)
        ->ArgNames({"refs", "queries", "max_distance"})
        ->ArgsProduct({{1000000, kMaxRefs}, {10000, kMaxQueries}, {31, 64}})
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  } else {
    fprintf(stderr,
            "hm_bench_hamming_cuda: no CUDA device: GPU cases (BM_Hamming_Range_Cuda) not "
            "registered\n");
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_gpu.reset();
  return 0;
}
