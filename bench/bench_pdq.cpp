// PDQ on the CPU per image size: the fast path and the literal reference
// rendering, from 8-bit RGB pixels at the reference's working size.
#include <benchmark/benchmark.h>

#include <string.h>

#include <random>
#include <vector>

#include "pdq_cpu.hpp"
#include "pdq_sink.hpp"

namespace {

std::vector<uint8_t> photo_like(int w, int h) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> noise(-16, 16);
  std::vector<uint8_t> px((size_t)w * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const int v = (x * 200 / w + y * 55 / h + 40 * c) + noise(rng);
        px[((size_t)y * w + x) * 3 + c] = (uint8_t)std::min(255, std::max(0, v));
      }
  return px;
}

void BM_Pdq_Hash_Cpu(benchmark::State& state) {
  const int side = (int)state.range(0);
  const bool dihedral = state.range(1) != 0;
  const auto px = photo_like(side, side);
  hm::pdq::PdqImage image{px.data(), side, side, 3, false};
  hm::pdq::PdqScratch scratch;
  hm::pdq::PdqResult result;
  for (auto _ : state) {
    hm::pdq::pdq_hash_cpu(image, dihedral, result, scratch);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * (int64_t)px.size());
}
BENCHMARK(BM_Pdq_Hash_Cpu)->ArgNames({"side", "dihedral"})
    ->ArgsProduct({{64, 128, 256, 512}, {0, 1}})->Unit(benchmark::kMicrosecond);

void BM_Pdq_Hash_Reference(benchmark::State& state) {
  const int side = (int)state.range(0);
  const auto px = photo_like(side, side);
  hm::pdq::PdqImage image{px.data(), side, side, 3, false};
  hm::pdq::PdqResult result;
  for (auto _ : state) {
    hm::pdq::pdq_hash_reference(image, false, result);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Pdq_Hash_Reference)->ArgName("side")->Arg(128)->Arg(512)->Unit(benchmark::kMicrosecond);

/// What the engine adds to a JPEG decode: rows as libjpeg-turbo delivers
/// them (RGBX) through pre-resize, luma, blur and hashing, per source size.
void BM_Pdq_Sink_Cpu(benchmark::State& state) {
  const int w = (int)state.range(0);
  const int h = (int)state.range(1);
  const auto rgb = photo_like(w, h);
  std::vector<uint8_t> rgbx((size_t)w * h * 4);
  for (size_t i = 0; i < (size_t)w * h; ++i) memcpy(&rgbx[4 * i], &rgb[3 * i], 3);
  hm::PdqSink sink;
  hm::pdq::PdqResult result;
  hm::PixelFormat format;
  format.width = w;
  format.height = h;
  format.channels = 4;
  for (auto _ : state) {
    sink.begin(format);
    for (int y = 0; y < h; ++y) sink.row(y, rgbx.data() + (size_t)y * w * 4);
    sink.hash(false, result);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * (int64_t)rgbx.size());
}
BENCHMARK(BM_Pdq_Sink_Cpu)->ArgNames({"w", "h"})
    ->Args({256, 256})->Args({512, 384})->Args({1024, 768})->Args({4000, 3000})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
