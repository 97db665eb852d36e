// PDQ frames per second on the GPU beside the CPU, on the same 512 x 512 RGB
// frames: resident on the device (the kernels alone), with uploads (staging,
// host-to-device copies from pinned memory, hashing, results back), and the
// CPU path on one thread. GPU cases are timed with CUDA events (manual time)
// and registered only when a CUDA device exists.
#include <benchmark/benchmark.h>

#include <stdio.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "pdq_cpu.hpp"
#include "pdq_gpu.hpp"

namespace {

constexpr int kDistinctFrames = 16;  ///< frames cycle through these (host memory stays small)

/// Smooth photo-like RGB frames with noise, seeded.
const std::vector<std::vector<uint8_t>>& frames(int side) {
  static std::vector<std::vector<uint8_t>> cache;
  static int cached_side = 0;
  if (cached_side == side) return cache;
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> noise(-16, 16);
  cache.assign(kDistinctFrames, std::vector<uint8_t>((size_t)side * side * 3));
  for (int f = 0; f < kDistinctFrames; ++f)
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x)
        for (int c = 0; c < 3; ++c) {
          const int v = (x * (200 - 9 * f) / side + y * (55 + 7 * f) / side + 40 * c) + noise(rng);
          cache[f][((size_t)y * side + x) * 3 + c] = (uint8_t)std::min(255, std::max(0, v));
        }
  cached_side = side;
  return cache;
}

std::vector<hm::PdqGpuInput> batch_inputs(int side, int batch) {
  const auto& px = frames(side);
  std::vector<hm::PdqGpuInput> in(batch);
  for (int i = 0; i < batch; ++i) {
    in[i].pixels = px[i % kDistinctFrames].data();
    in[i].width = side;
    in[i].height = side;
    in[i].layout = hm::pdq::PixelLayout::Rgb;
    in[i].detect_grey = true;
  }
  return in;
}

/// Made in main() only when a device exists; freed before the CUDA runtime shuts down.
std::unique_ptr<hm::PdqGpuBatcher> g_batcher;

hm::PdqGpuBatcher& gpu() { return *g_batcher; }

void BM_Pdq_Hash_Cuda(benchmark::State& state) {
  const int side = (int)state.range(0);
  const int batch = (int)state.range(1);
  const bool dihedral = state.range(2) != 0;
  gpu().set_resident(batch_inputs(side, batch));
  std::vector<hm::pdq::PdqResult> results;
  gpu().hash_resident(dihedral, results);  // warm-up: first launch, caches
  for (auto _ : state) state.SetIterationTime(gpu().hash_resident(dihedral, results) / 1e3);
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetLabel(gpu().device().name);
}

void BM_Pdq_Hash_Cuda_Upload(benchmark::State& state) {
  const int side = (int)state.range(0);
  const int batch = (int)state.range(1);
  const bool dihedral = state.range(2) != 0;
  const std::vector<hm::PdqGpuInput> in = batch_inputs(side, batch);
  std::vector<hm::pdq::PdqResult> results;
  gpu().hash_batch(in, dihedral, results);  // warm-up
  for (auto _ : state) {
    gpu().hash_batch(in, dihedral, results);
    state.SetIterationTime(gpu().last_timing().device_ms / 1e3);
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetBytesProcessed(state.iterations() * batch * (int64_t)side * side * 3);
  state.SetLabel(gpu().device().name);
}

void BM_Pdq_Hash_Cpu(benchmark::State& state) {
  const int side = (int)state.range(0);
  const bool dihedral = state.range(1) != 0;
  const auto& px = frames(side);
  hm::pdq::PdqScratch scratch;
  hm::pdq::PdqResult result;
  int64_t i = 0;
  for (auto _ : state) {
    const hm::pdq::PdqImage image{px[i++ % kDistinctFrames].data(), side, side, 3, false};
    hm::pdq::pdq_hash_cpu(image, dihedral, result, scratch);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("1 thread");
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RegisterBenchmark("BM_Pdq_Hash_Cpu", BM_Pdq_Hash_Cpu)
      ->ArgNames({"size", "dihedral"})
      ->ArgsProduct({{512}, {0, 1}})
      ->Unit(benchmark::kMicrosecond);
  if (hm::cuda_device_available()) {
    g_batcher = std::make_unique<hm::PdqGpuBatcher>();
    for (auto* b : {benchmark::RegisterBenchmark("BM_Pdq_Hash_Cuda", BM_Pdq_Hash_Cuda),
                    benchmark::RegisterBenchmark("BM_Pdq_Hash_Cuda_Upload", BM_Pdq_Hash_Cuda_Upload)})
      b->ArgNames({"size", "batch", "dihedral"})
          ->ArgsProduct({{512}, {1, 64, 1024, 4096}, {0, 1}})
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
  } else {
    fprintf(stderr, "hm_bench_pdq_cuda: no CUDA device: GPU cases (BM_Pdq_Hash_Cuda*) not registered\n");
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_batcher.reset();
  return 0;
}
