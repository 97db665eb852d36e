// MD5, SHA-1 and SHA-256 of eight messages: OpenSSL one message after
// another beside md5_lanes (the eight messages at once in AVX2 lanes) and
// sha1_many / sha256_many (three or two messages at a time, interleaved with
// SHA-NI). Bytes/s counts message bytes.
//
// Names: BM_<Md5|Sha1|Sha256>_<OpenSSL|Lanes|Many>/case:C[/kernel:K],
// labelled: C > 0 is eight messages of C bytes ("size:C"), -1 eight sizes
// between 20 and 200 kB ("mixed"), -2 a single 8 MB message ("one_long":
// md5_lanes then runs one lane of eight, sha1_many and sha256_many one
// stream). K is the Md5Kernel (1: Avx2) or the ShaKernel (1: ShaNi).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <random>
#include <stdexcept>
#include <vector>

#include "md5_lanes.hpp"
#include "sha_many.hpp"

namespace {

constexpr int64_t kMixed = -1;
constexpr int64_t kOneLong = -2;

struct Messages {
  std::vector<std::vector<uint8_t>> bufs;
  std::vector<const uint8_t*> data;
  std::vector<size_t> sizes;
  size_t bytes = 0;
};

Messages make_messages(int64_t which) {
  std::vector<size_t> sizes;
  if (which == kMixed) {
    sizes = {20000, 183000, 47000, 120000, 200000, 65000, 96000, 151000};
  } else if (which == kOneLong) {
    sizes = {8u << 20};
  } else {
    sizes.assign(hm::kMd5Lanes, static_cast<size_t>(which));
  }
  std::mt19937_64 rng(7);
  Messages m;
  for (size_t size : sizes) {
    m.bufs.emplace_back(size);
    for (auto& b : m.bufs.back()) b = static_cast<uint8_t>(rng());
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    m.data.push_back(m.bufs[i].data());
    m.sizes.push_back(sizes[i]);
    m.bytes += sizes[i];
  }
  return m;
}

void set_label(benchmark::State& state) {
  const int64_t which = state.range(0);
  state.SetLabel(which == kMixed ? "mixed" : which == kOneLong ? "one_long"
                                                               : "size:" + std::to_string(which));
}

void BM_Md5_OpenSSL(benchmark::State& state) {
  const Messages m = make_messages(state.range(0));
  uint8_t out[EVP_MAX_MD_SIZE];
  for (auto _ : state) {
    for (size_t i = 0; i < m.data.size(); ++i) {
      unsigned int len = 0;
      if (EVP_Digest(m.data[i], m.sizes[i], out, &len, EVP_md5(), nullptr) != 1)
        throw std::runtime_error("OpenSSL MD5 failed");
      benchmark::DoNotOptimize(out);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * m.bytes));
  set_label(state);
}

void BM_Md5_Lanes(benchmark::State& state) {
  const auto kernel = static_cast<hm::Md5Kernel>(state.range(1));
  if (!hm::md5_kernel_supported(kernel)) {
    state.SkipWithError("kernel not supported on this CPU");
    return;
  }
  const Messages m = make_messages(state.range(0));
  uint8_t out[hm::kMd5Lanes][16];
  for (auto _ : state) {
    hm::md5_lanes(m.data.data(), m.sizes.data(), static_cast<int>(m.data.size()), out, kernel);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * m.bytes));
  set_label(state);
}

void Cases(benchmark::internal::Benchmark* b) {
  for (int64_t which : {int64_t{4096}, int64_t{65536}, int64_t{1} << 20, kMixed, kOneLong}) b->Arg(which);
}

void LaneCases(benchmark::internal::Benchmark* b) {
  for (int64_t which : {int64_t{4096}, int64_t{65536}, int64_t{1} << 20, kMixed, kOneLong})
    b->Args({which, static_cast<int64_t>(hm::Md5Kernel::Avx2)});
}

/// SHA-1 or SHA-256 through OpenSSL, one message after another.
template <const EVP_MD* (*kMd)()>
void BM_Sha_OpenSSL(benchmark::State& state) {
  const Messages m = make_messages(state.range(0));
  uint8_t out[EVP_MAX_MD_SIZE];
  for (auto _ : state) {
    for (size_t i = 0; i < m.data.size(); ++i) {
      unsigned int len = 0;
      if (EVP_Digest(m.data[i], m.sizes[i], out, &len, kMd(), nullptr) != 1)
        throw std::runtime_error("OpenSSL SHA failed");
      benchmark::DoNotOptimize(out);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * m.bytes));
  set_label(state);
}

/// sha1_many or sha256_many over all the messages in one call.
template <int kDigest, void (*kMany)(const uint8_t* const*, const size_t*, int, uint8_t (*)[kDigest],
                                     hm::ShaKernel)>
void BM_Sha_Many(benchmark::State& state) {
  const auto kernel = static_cast<hm::ShaKernel>(state.range(1));
  if (!hm::sha_kernel_supported(kernel)) {
    state.SkipWithError("kernel not supported on this CPU");
    return;
  }
  const Messages m = make_messages(state.range(0));
  uint8_t out[hm::kMd5Lanes][kDigest];
  for (auto _ : state) {
    kMany(m.data.data(), m.sizes.data(), static_cast<int>(m.data.size()), out, kernel);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * m.bytes));
  set_label(state);
}

void ShaCases(benchmark::internal::Benchmark* b) {
  for (int64_t which : {int64_t{4096}, int64_t{65536}, kMixed, kOneLong}) b->Arg(which);
}

void ShaManyCases(benchmark::internal::Benchmark* b) {
  for (int64_t which : {int64_t{4096}, int64_t{65536}, kMixed, kOneLong})
    b->Args({which, static_cast<int64_t>(hm::ShaKernel::ShaNi)});
}

void BM_Sha1_OpenSSL(benchmark::State& state) { BM_Sha_OpenSSL<EVP_sha1>(state); }
void BM_Sha1_Many(benchmark::State& state) { BM_Sha_Many<20, hm::sha1_many>(state); }
void BM_Sha256_OpenSSL(benchmark::State& state) { BM_Sha_OpenSSL<EVP_sha256>(state); }
void BM_Sha256_Many(benchmark::State& state) { BM_Sha_Many<32, hm::sha256_many>(state); }

}  // namespace

BENCHMARK(BM_Md5_OpenSSL)->ArgName("case")->Apply(Cases)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Md5_Lanes)->ArgNames({"case", "kernel"})->Apply(LaneCases)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sha1_OpenSSL)->ArgName("case")->Apply(ShaCases)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sha1_Many)->ArgNames({"case", "kernel"})->Apply(ShaManyCases)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sha256_OpenSSL)->ArgName("case")->Apply(ShaCases)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sha256_Many)->ArgNames({"case", "kernel"})->Apply(ShaManyCases)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
