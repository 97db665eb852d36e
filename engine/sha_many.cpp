#include "sha_many.hpp"

#include <string.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "digest.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define HM_HAVE_SHA_NI 1
// The kernels carry their own target, so the build needs no -msha and the
// rest of the program runs on CPUs without the SHA extensions.
#define HM_TARGET_SHA __attribute__((target("sha,sse4.1")))
#endif

#define HM_ALWAYS_INLINE inline __attribute__((always_inline))

namespace hm {

namespace {

constexpr size_t kBlock = 64;


#if HM_HAVE_SHA_NI

/// A message as the compression function sees it (FIPS 180-4, 5.1.1, the same
/// for SHA-1 and SHA-256): its whole 64-byte blocks, read in place, then one
/// or two blocks built here holding the last partial block, the 0x80 byte,
/// zeros and the length in bits as a big-endian 64-bit number.
class PaddedMessage {
 public:
  PaddedMessage() = default;  // done, until reset
  PaddedMessage(const PaddedMessage&) = delete;  // runs_ may point into tail_
  PaddedMessage& operator=(const PaddedMessage&) = delete;

  void reset(const uint8_t* data, size_t size) {
    const size_t whole = size / kBlock, rest = size % kBlock;
    // The 0x80 byte and the 8 length bytes must fit after the rest.
    const size_t tail_blocks = rest + 1 + 8 <= kBlock ? 1 : 2;
    memset(tail_, 0, sizeof(tail_));
    if (rest) memcpy(tail_, data + whole * kBlock, rest);
    tail_[rest] = 0x80;
    const uint64_t bits = static_cast<uint64_t>(size) << 3;  // the length mod 2^64
    uint8_t* len = tail_ + tail_blocks * kBlock - 8;
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
    runs_[0] = {whole ? data : nullptr, whole};
    runs_[1] = {tail_, tail_blocks};
    run_ = whole ? 0 : 1;
  }

  bool done() const { return run_ == 2; }
  /// The next blocks, contiguous: `left()` of them from `next()`.
  const uint8_t* next() const { return runs_[run_].p; }
  size_t left() const { return runs_[run_].n; }
  /// Marks n <= left() blocks as hashed.
  void consume(size_t n) {
    Run& r = runs_[run_];
    r.n -= n;
    r.p = r.n ? r.p + n * kBlock : nullptr;
    if (r.n == 0) ++run_;
  }

 private:
  struct Run {
    const uint8_t* p;
    size_t n;
  };
  alignas(16) uint8_t tail_[2 * kBlock];
  Run runs_[2] = {};
  int run_ = 2;
};

HM_TARGET_SHA HM_ALWAYS_INLINE __m128i load_block_part(const uint8_t* p, int i, __m128i order) {
  return _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p) + i), order);
}

HM_TARGET_SHA HM_ALWAYS_INLINE void store_be32(uint8_t* out, uint32_t w) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(w >> (24 - 8 * i));
}

// ---- SHA-1 (FIPS 180-4, 6.1) ----

/// sha1rnds4 wants A, B, C, D in one register (A in the top lane) and E
/// apart, in the top lane of another (the other lanes stay zero).
struct Sha1State {
  __m128i abcd, e;
};

struct Sha1Ni {
  static constexpr int kDigest = 20;
  /// Streams interleaved. The rounds alone, 64 kB blocks in cache, on this
  /// project's EPYC: 1.6 GB/s with one, 3.0 with two, 3.5 with three, 3.0
  /// with four (registers spill).
  static constexpr int kStreams = 3;
  using State = Sha1State;

  HM_TARGET_SHA static State init() {
    return {_mm_set_epi32(0x67452301, (int)0xefcdab89, (int)0x98badcfe, 0x10325476),
            _mm_set_epi32((int)0xc3d2e1f0, 0, 0, 0)};
  }

  /// The words are big-endian, and sha1rnds4 takes W[t] in the top lane and
  /// W[t + 3] in the bottom one: the 16 bytes reversed.
  HM_TARGET_SHA static __m128i byte_order() {
    return _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  }

  /// Four rounds; the function and constant (Ch, Parity, Maj, Parity)
  /// change every 20 rounds, an immediate operand, hence the switch (folded
  /// away once the rounds are unrolled).
  HM_TARGET_SHA static HM_ALWAYS_INLINE __m128i rounds4(__m128i abcd, __m128i e_w, int group) {
    switch (group / 5) {
      case 0: return _mm_sha1rnds4_epu32(abcd, e_w, 0);
      case 1: return _mm_sha1rnds4_epu32(abcd, e_w, 1);
      case 2: return _mm_sha1rnds4_epu32(abcd, e_w, 2);
      default: return _mm_sha1rnds4_epu32(abcd, e_w, 3);
    }
  }

  /// W[4g .. 4g + 3] for g >= 4 into w[g % 4], which held W[4g - 16 ..]:
  /// W[t] = (W[t-3] ^ W[t-8] ^ W[t-14] ^ W[t-16]) <<< 1. sha1msg1 gives
  /// W[t-16] ^ W[t-14], sha1msg2 adds W[t-3] and rotates.
  HM_TARGET_SHA static HM_ALWAYS_INLINE void schedule(__m128i w[4], int g) {
    const __m128i x = _mm_xor_si128(_mm_sha1msg1_epu32(w[g & 3], w[(g + 1) & 3]), w[(g + 2) & 3]);
    w[g & 3] = _mm_sha1msg2_epu32(x, w[(g + 3) & 3]);
  }

  /// n blocks of each of kStreams messages (at p[j], p[j] + 64, ...) into s[j],
  /// the streams' rounds alternating four by four (the `unroll 3` pragmas
  /// cover up to three streams).
  template <int kStreams>
  HM_TARGET_SHA static void blocks(State* s, const uint8_t* const* start, size_t n) {
    const __m128i order = byte_order();
    const uint8_t* p[kStreams];
    for (int j = 0; j < kStreams; ++j) p[j] = start[j];
    for (size_t blk = 0; blk < n; ++blk) {
      __m128i w[kStreams][4], prev[kStreams];
      State saved[kStreams];
#pragma GCC unroll 3
      for (int j = 0; j < kStreams; ++j) {
        for (int i = 0; i < 4; ++i) w[j][i] = load_block_part(p[j], i, order);
        saved[j] = s[j];
      }
#pragma GCC unroll 20
      for (int g = 0; g < 20; ++g) {
#pragma GCC unroll 3
        for (int j = 0; j < kStreams; ++j) {
          if (g >= 4) schedule(w[j], g);
          // E for these rounds: the initial E at first, then A of four
          // rounds before rotated by 30 (sha1nexte), plus W[4g].
          const __m128i e_w = g == 0 ? _mm_add_epi32(s[j].e, w[j][0])
                                     : _mm_sha1nexte_epu32(prev[j], w[j][g & 3]);
          prev[j] = s[j].abcd;
          s[j].abcd = rounds4(s[j].abcd, e_w, g);
        }
      }
#pragma GCC unroll 3
      for (int j = 0; j < kStreams; ++j) {
        s[j].e = _mm_sha1nexte_epu32(prev[j], saved[j].e);
        s[j].abcd = _mm_add_epi32(s[j].abcd, saved[j].abcd);
        p[j] += kBlock;
      }
    }
  }

  HM_TARGET_SHA static void store(const State& s, uint8_t* out) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_shuffle_epi8(s.abcd, byte_order()));
    store_be32(out + 16, static_cast<uint32_t>(_mm_extract_epi32(s.e, 3)));
  }
};

// ---- SHA-256 (FIPS 180-4, 6.2) ----

// FIPS 180-4, 4.2.2: the first 32 bits of the fractional parts of the cube
// roots of the first 64 primes.
alignas(16) constexpr uint32_t kK256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/// sha256rnds2 wants the eight words as (A, B, E, F) and (C, D, G, H), the
/// first of each in the top lane.
struct Sha256State {
  __m128i abef, cdgh;
};

struct Sha256Ni {
  static constexpr int kDigest = 32;
  /// Streams interleaved. As for SHA-1: 1.5 GB/s with one, 3.0 with two,
  /// 3.05 with three: two keep sha256rnds2 busy.
  static constexpr int kStreams = 2;
  using State = Sha256State;

  HM_TARGET_SHA static State init() {
    // FIPS 180-4, 5.3.3: H0 .. H7 = a .. h.
    return {_mm_set_epi32(0x6a09e667, (int)0xbb67ae85, 0x510e527f, (int)0x9b05688c),
            _mm_set_epi32(0x3c6ef372, (int)0xa54ff53a, 0x1f83d9ab, 0x5be0cd19)};
  }

  /// The words are big-endian, W[t] in the bottom lane: each 4 bytes reversed.
  HM_TARGET_SHA static __m128i byte_order() {
    return _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  }

  /// Four rounds, two per sha256rnds2, with W[t] + K[t] in the low two lanes
  /// of wk. Each sha256rnds2 returns the new (A, B, E, F); the new (C, D, G, H)
  /// is the old (A, B, E, F).
  HM_TARGET_SHA static HM_ALWAYS_INLINE void rounds4(State& s, __m128i wk) {
    __m128i abef = _mm_sha256rnds2_epu32(s.cdgh, s.abef, wk);
    s.cdgh = s.abef;
    s.abef = abef;
    abef = _mm_sha256rnds2_epu32(s.cdgh, s.abef, _mm_shuffle_epi32(wk, 0x0e));
    s.cdgh = s.abef;
    s.abef = abef;
  }

  /// W[4g .. 4g + 3] for g >= 4 into w[g % 4], which held W[4g - 16 ..]:
  /// W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]. sha256msg1 adds
  /// s0(W[t-15]) to W[t-16], the W[t-7] come from the two groups before,
  /// shifted by one word, and sha256msg2 adds the s1 terms.
  HM_TARGET_SHA static HM_ALWAYS_INLINE void schedule(__m128i w[4], int g) {
    const __m128i w_7 = _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4);
    const __m128i x = _mm_add_epi32(_mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]), w_7);
    w[g & 3] = _mm_sha256msg2_epu32(x, w[(g + 3) & 3]);
  }

  /// As Sha1Ni::blocks.
  template <int kStreams>
  HM_TARGET_SHA static void blocks(State* s, const uint8_t* const* start, size_t n) {
    const __m128i order = byte_order();
    const uint8_t* p[kStreams];
    for (int j = 0; j < kStreams; ++j) p[j] = start[j];
    for (size_t blk = 0; blk < n; ++blk) {
      __m128i w[kStreams][4];
      State saved[kStreams];
#pragma GCC unroll 3
      for (int j = 0; j < kStreams; ++j) {
        for (int i = 0; i < 4; ++i) w[j][i] = load_block_part(p[j], i, order);
        saved[j] = s[j];
      }
#pragma GCC unroll 16
      for (int g = 0; g < 16; ++g) {
        const __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(kK256) + g);
#pragma GCC unroll 3
        for (int j = 0; j < kStreams; ++j) {
          if (g >= 4) schedule(w[j], g);
          rounds4(s[j], _mm_add_epi32(w[j][g & 3], k));
        }
      }
#pragma GCC unroll 3
      for (int j = 0; j < kStreams; ++j) {
        s[j].abef = _mm_add_epi32(s[j].abef, saved[j].abef);
        s[j].cdgh = _mm_add_epi32(s[j].cdgh, saved[j].cdgh);
        p[j] += kBlock;
      }
    }
  }

  HM_TARGET_SHA static void store(const State& s, uint8_t* out) {
    alignas(16) uint32_t abef[4], cdgh[4];  // lanes bottom up: F E B A, H G D C
    _mm_store_si128(reinterpret_cast<__m128i*>(abef), s.abef);
    _mm_store_si128(reinterpret_cast<__m128i*>(cdgh), s.cdgh);
    const uint32_t words[8] = {abef[3], abef[2], cdgh[3], cdgh[2],
                               abef[1], abef[0], cdgh[1], cdgh[0]};
    for (int i = 0; i < 8; ++i) store_be32(out + 4 * i, words[i]);
  }
};

/// One of the streams the ShaNi kernel runs: the message it hashes now.
template <class Algo>
struct Stream {
  PaddedMessage msg;
  typename Algo::State state;
  uint8_t* out = nullptr;  // where its digest goes; null while idle
};

/// n blocks of each of the k streams act[0 .. k) in one interleaved loop.
template <class Algo>
void run_streams(Stream<Algo>* const* act, int k, size_t n) {
  typename Algo::State s[Algo::kStreams];
  const uint8_t* p[Algo::kStreams];
  for (int j = 0; j < k; ++j) {
    s[j] = act[j]->state;
    p[j] = act[j]->msg.next();
  }
  // The stream count is a template argument, so that the rounds unroll.
  switch (k) {
    case 1: Algo::template blocks<1>(s, p, n); break;
    case 2: Algo::template blocks<2>(s, p, n); break;
    default:
      if constexpr (Algo::kStreams >= 3) Algo::template blocks<Algo::kStreams>(s, p, n);
      break;
  }
  for (int j = 0; j < k; ++j) {
    act[j]->state = s[j];
    act[j]->msg.consume(n);
  }
}

/// The ShaNi kernel: Algo::kStreams streams, each taking the next message as
/// soon as its own is done, so they run interleaved until the last messages;
/// only their ends run with fewer streams. The longest go first, which keeps
/// those ends short.
template <class Algo>
void hash_streams(const uint8_t* const* data, const size_t* sizes, int count,
                  uint8_t (*out)[Algo::kDigest]) {
  std::vector<int> order(static_cast<size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return sizes[x] > sizes[y]; });
  int next = 0;
  Stream<Algo> st[Algo::kStreams];
  // Gives an idle stream the next message, if one is left.
  auto take_next = [&](Stream<Algo>& x) {
    if (next == count) return;
    const int i = order[next++];
    x.msg.reset(data[i], sizes[i]);
    x.state = Algo::init();
    x.out = out[i];
  };
  for (Stream<Algo>& x : st) take_next(x);
  for (;;) {
    Stream<Algo>* act[Algo::kStreams];
    int k = 0;
    size_t n = SIZE_MAX;  // blocks until the first stream's run ends
    for (Stream<Algo>& x : st) {
      if (!x.out) continue;
      act[k++] = &x;
      n = std::min(n, x.msg.left());
    }
    if (k == 0) break;
    run_streams(act, k, n);
    // Streams whose message is done write its digest and take the next.
    for (int j = 0; j < k; ++j) {
      Stream<Algo>& x = *act[j];
      if (!x.msg.done()) continue;
      Algo::store(x.state, x.out);
      x.out = nullptr;
      take_next(x);
    }
  }
}

#endif  // HM_HAVE_SHA_NI

void check_args(const char* fn, int count, ShaKernel kernel) {
  if (count < 0) throw std::invalid_argument(std::string(fn) + ": negative count " + std::to_string(count));
  if (!sha_kernel_supported(kernel)) {
    throw std::invalid_argument(std::string(fn) + ": this CPU cannot run the " +
                                sha_kernel_name(kernel) + " kernel");
  }
}

}  // namespace

bool sha_kernel_supported(ShaKernel kernel) {
  switch (kernel) {
    case ShaKernel::Scalar:
      return true;
    case ShaKernel::ShaNi:
#if HM_HAVE_SHA_NI
    {
      // From CPUID itself: clang's __builtin_cpu_supports has no "sha".
      // Leaf 7 EBX bit 29: SHA extensions; leaf 1 ECX bits 19 and 9: SSE4.1, SSSE3.
      static const bool sha_ni = [] {
        unsigned a, b, c, d;
        if (!__get_cpuid(1, &a, &b, &c, &d) || !(c >> 19 & 1) || !(c >> 9 & 1)) return false;
        return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 29 & 1);
      }();
      return sha_ni;
    }
#else
      return false;
#endif
  }
  return false;
}

ShaKernel sha_kernel_best() {
  return sha_kernel_supported(ShaKernel::ShaNi) ? ShaKernel::ShaNi : ShaKernel::Scalar;
}

const char* sha_kernel_name(ShaKernel kernel) {
  switch (kernel) {
    case ShaKernel::Scalar:
      return "scalar";
    case ShaKernel::ShaNi:
      return "shani";
  }
  return "unknown";
}

void sha1_many(const uint8_t* const* data, const size_t* sizes, int count, uint8_t (*out)[20],
               ShaKernel kernel) {
  check_args("sha1_many", count, kernel);
#if HM_HAVE_SHA_NI
  if (kernel == ShaKernel::ShaNi) {
    hash_streams<Sha1Ni>(data, sizes, count, out);
    return;
  }
#endif
  for (int i = 0; i < count; ++i) digest_bytes(DigestType::Sha1, data[i], sizes[i], out[i]);
}

void sha256_many(const uint8_t* const* data, const size_t* sizes, int count, uint8_t (*out)[32],
                 ShaKernel kernel) {
  check_args("sha256_many", count, kernel);
#if HM_HAVE_SHA_NI
  if (kernel == ShaKernel::ShaNi) {
    hash_streams<Sha256Ni>(data, sizes, count, out);
    return;
  }
#endif
  for (int i = 0; i < count; ++i) digest_bytes(DigestType::Sha256, data[i], sizes[i], out[i]);
}

}  // namespace hm
