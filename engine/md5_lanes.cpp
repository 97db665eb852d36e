#include "md5_lanes.hpp"

#include <string.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "digest.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HM_HAVE_AVX2_MD5 1
#define HM_TARGET_AVX2 __attribute__((target("avx2")))
#endif

#define HM_ALWAYS_INLINE inline __attribute__((always_inline))

namespace hm {

namespace {

constexpr size_t kBlock = 64;

#if HM_HAVE_AVX2_MD5

// RFC 1321, section 3.4: T[i] = floor(2^32 * abs(sin(i + 1))).
constexpr uint32_t kT[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/// A 32-bit lane rotate: AVX2 has none.
template <int S>
HM_TARGET_AVX2 HM_ALWAYS_INLINE __m256i rotl(__m256i x) {
  return _mm256_or_si256(_mm256_slli_epi32(x, S), _mm256_srli_epi32(x, 32 - S));
}

/// One MD5 step, a = b + ((a + f + X[k] + T[i]) <<< s), with f the round
/// function of b, c, d added last: it is the only input on the chain through b.
/// The empty asm makes a + X[k] + T[i] one value, or GCC 12 reassociates the
/// wrapping adds and puts two of them after f: one more dependent operation
/// a step, about 10% slower (3.1 against 3.45 GB/s, eight 64 kB messages).
template <int S>
HM_TARGET_AVX2 HM_ALWAYS_INLINE __m256i step(__m256i a, __m256i b, __m256i f, __m256i x,
                                             uint32_t t) {
  __m256i sum = _mm256_add_epi32(a, _mm256_add_epi32(x, _mm256_set1_epi32((int)t)));
  __asm__("" : "+x"(sum));
  return _mm256_add_epi32(b, rotl<S>(_mm256_add_epi32(sum, f)));
}

// The round functions. F = (b & c) | (~b & d) as d ^ (b & (c ^ d)); G's two
// terms share no bits, so G = (b & d) + (c & ~d) and the c & ~d half (off the
// chain through b) is added into the sum separately; I = c ^ (b | ~d).
template <int S>
HM_TARGET_AVX2 HM_ALWAYS_INLINE __m256i step_f(__m256i a, __m256i b, __m256i c, __m256i d,
                                               __m256i x, uint32_t t) {
  const __m256i f = _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d)));
  return step<S>(a, b, f, x, t);
}

template <int S>
HM_TARGET_AVX2 HM_ALWAYS_INLINE __m256i step_g(__m256i a, __m256i b, __m256i c, __m256i d,
                                               __m256i x, uint32_t t) {
  a = _mm256_add_epi32(a, _mm256_andnot_si256(d, c));
  return step<S>(a, b, _mm256_and_si256(b, d), x, t);
}

template <int S>
HM_TARGET_AVX2 HM_ALWAYS_INLINE __m256i step_h(__m256i a, __m256i b, __m256i c, __m256i d,
                                               __m256i x, uint32_t t) {
  return step<S>(a, b, _mm256_xor_si256(b, _mm256_xor_si256(c, d)), x, t);
}

template <int S>
HM_TARGET_AVX2 HM_ALWAYS_INLINE __m256i step_i(__m256i a, __m256i b, __m256i c, __m256i d,
                                               __m256i x, uint32_t t) {
  const __m256i not_d = _mm256_xor_si256(d, _mm256_set1_epi32(-1));
  return step<S>(a, b, _mm256_xor_si256(c, _mm256_or_si256(b, not_d)), x, t);
}

/// Words 4g .. 4g + 3 of the eight lanes' blocks, transposed: x[4g + j] holds
/// word 4g + j of lane i in its 32-bit lane i. Each 128-bit half of a row is
/// one lane's four words (lanes i and i + 4 share a row), so the transpose
/// stays within 128-bit halves: unpacks only.
HM_TARGET_AVX2 HM_ALWAYS_INLINE void load_words4(const uint8_t* const p[8], int g,
                                                 __m256i x[16]) {
  __m256i r[4];
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(p[i + 4] + 16 * g),
                               reinterpret_cast<const __m128i*>(p[i] + 16 * g));
  }
  const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]);  // l0w0 l1w0 l0w1 l1w1
  const __m256i t1 = _mm256_unpackhi_epi32(r[0], r[1]);  // l0w2 l1w2 l0w3 l1w3
  const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]);
  const __m256i t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  x[4 * g + 0] = _mm256_unpacklo_epi64(t0, t2);
  x[4 * g + 1] = _mm256_unpackhi_epi64(t0, t2);
  x[4 * g + 2] = _mm256_unpacklo_epi64(t1, t3);
  x[4 * g + 3] = _mm256_unpackhi_epi64(t1, t3);
}

/// n blocks of each lane into state[4] (A, B, C, D, lane i = message i):
/// lane i's blocks are at p[i], p[i] + stride[i], ... (stride 0 repeats one).
HM_TARGET_AVX2 void md5_blocks_avx2(__m256i state[4], const uint8_t* const start[8],
                                    const size_t stride[8], size_t n) {
  const uint8_t* p[8];
  for (int i = 0; i < 8; ++i) p[i] = start[i];
  __m256i a = state[0], b = state[1], c = state[2], d = state[3];
  for (size_t blk = 0; blk < n; ++blk) {
    __m256i x[16];
    for (int g = 0; g < 4; ++g) load_words4(p, g, x);
    const __m256i a0 = a, b0 = b, c0 = c, d0 = d;
    // Round 1: X[i]; round 2: X[(5i + 1) mod 16]; round 3: X[(3i + 5) mod 16];
    // round 4: X[7i mod 16] (i the step within the round).
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4) {
      a = step_f<7>(a, b, c, d, x[i], kT[i]);
      d = step_f<12>(d, a, b, c, x[i + 1], kT[i + 1]);
      c = step_f<17>(c, d, a, b, x[i + 2], kT[i + 2]);
      b = step_f<22>(b, c, d, a, x[i + 3], kT[i + 3]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4) {
      a = step_g<5>(a, b, c, d, x[(5 * i + 1) & 15], kT[16 + i]);
      d = step_g<9>(d, a, b, c, x[(5 * i + 6) & 15], kT[17 + i]);
      c = step_g<14>(c, d, a, b, x[(5 * i + 11) & 15], kT[18 + i]);
      b = step_g<20>(b, c, d, a, x[(5 * i + 16) & 15], kT[19 + i]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4) {
      a = step_h<4>(a, b, c, d, x[(3 * i + 5) & 15], kT[32 + i]);
      d = step_h<11>(d, a, b, c, x[(3 * i + 8) & 15], kT[33 + i]);
      c = step_h<16>(c, d, a, b, x[(3 * i + 11) & 15], kT[34 + i]);
      b = step_h<23>(b, c, d, a, x[(3 * i + 14) & 15], kT[35 + i]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4) {
      a = step_i<6>(a, b, c, d, x[(7 * i) & 15], kT[48 + i]);
      d = step_i<10>(d, a, b, c, x[(7 * i + 7) & 15], kT[49 + i]);
      c = step_i<15>(c, d, a, b, x[(7 * i + 14) & 15], kT[50 + i]);
      b = step_i<21>(b, c, d, a, x[(7 * i + 21) & 15], kT[51 + i]);
    }
    a = _mm256_add_epi32(a, a0);
    b = _mm256_add_epi32(b, b0);
    c = _mm256_add_epi32(c, c0);
    d = _mm256_add_epi32(d, d0);
    for (int i = 0; i < 8; ++i) p[i] += stride[i];
  }
  state[0] = a;
  state[1] = b;
  state[2] = c;
  state[3] = d;
}

HM_TARGET_AVX2 void md5_lanes_avx2(const uint8_t* const* data, const size_t* sizes, int count,
                                   uint8_t (*out)[16]) {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "MD5 words are little-endian");
  alignas(64) static const uint8_t kDummy[kBlock] = {};
  // Each lane's blocks come in two runs: the whole blocks straight from the
  // caller's buffer, then the padded last one or two blocks from `tail`.
  alignas(64) uint8_t tail[kMd5Lanes][2 * kBlock];
  const uint8_t* p[kMd5Lanes];
  size_t stride[kMd5Lanes];
  size_t left[kMd5Lanes];  // blocks left in the lane's current run
  int run[kMd5Lanes];      // 0: caller's buffer, 1: tail, 2: done (or absent)
  size_t tail_blocks[kMd5Lanes];
  for (int i = 0; i < kMd5Lanes; ++i) {
    p[i] = kDummy;
    stride[i] = 0;
    left[i] = 0;
    run[i] = 2;
    if (i >= count) continue;
    const size_t size = sizes[i];
    const size_t whole = size / kBlock, rest = size % kBlock;
    tail_blocks[i] = rest < kBlock - 8 ? 1 : 2;
    uint8_t* t = tail[i];
    memset(t, 0, 2 * kBlock);
    if (rest) memcpy(t, data[i] + whole * kBlock, rest);
    t[rest] = 0x80;
    const uint64_t bits = static_cast<uint64_t>(size) << 3;  // the length mod 2^64, in bits
    memcpy(t + tail_blocks[i] * kBlock - 8, &bits, 8);
    if (whole) {
      p[i] = data[i];
      stride[i] = kBlock;
      left[i] = whole;
      run[i] = 0;
    } else {
      p[i] = t;
      stride[i] = kBlock;
      left[i] = tail_blocks[i];
      run[i] = 1;
    }
  }
  __m256i state[4] = {_mm256_set1_epi32(0x67452301), _mm256_set1_epi32((int)0xefcdab89),
                      _mm256_set1_epi32((int)0x98badcfe), _mm256_set1_epi32(0x10325476)};
  for (;;) {
    size_t n = SIZE_MAX;
    for (int i = 0; i < kMd5Lanes; ++i)
      if (run[i] < 2) n = std::min(n, left[i]);
    if (n == SIZE_MAX) break;
    md5_blocks_avx2(state, p, stride, n);
    alignas(32) uint32_t words[4][kMd5Lanes];
    bool stored = false;
    for (int i = 0; i < kMd5Lanes; ++i) {
      if (run[i] == 2) continue;
      p[i] += n * stride[i];
      left[i] -= n;
      if (left[i]) continue;
      if (run[i] == 0) {
        p[i] = tail[i];
        left[i] = tail_blocks[i];
        run[i] = 1;
        continue;
      }
      // Lane i is done: its digest is A, B, C, D, little-endian. From here on
      // it computes on the dummy block and its state is ignored.
      if (!stored) {
        for (int w = 0; w < 4; ++w) _mm256_store_si256(reinterpret_cast<__m256i*>(words[w]), state[w]);
        stored = true;
      }
      for (int w = 0; w < 4; ++w) memcpy(out[i] + 4 * w, &words[w][i], 4);
      p[i] = kDummy;
      stride[i] = 0;
      run[i] = 2;
    }
  }
}

/// One step of the vector loop (a block in each of the eight lanes) costs
/// about 1.5 OpenSSL blocks: 3.45 GB/s over eight lanes against 0.64 GB/s
/// for OpenSSL on this project's EPYC (bench/bench_digest.cpp).
constexpr double kVectorStepCost = 1.5;

/// How many of the messages, the shortest first (`order`), the lanes should
/// take, the rest going to OpenSSL: the lanes cost as much as their longest
/// message, so one long file beside short ones is cheaper on its own.
int lanes_worth_taking(const size_t* sizes, const int* order, int count) {
  double rest = 0;  // OpenSSL blocks of the messages from k on
  for (int i = 0; i < count; ++i) rest += (double)(sizes[i] / kBlock + 1);
  int best_k = 0;
  double best = rest;
  for (int k = 1; k <= count; ++k) {
    const double blocks = (double)(sizes[order[k - 1]] / kBlock + 1);
    rest -= blocks;
    const double cost = kVectorStepCost * blocks + rest;
    if (cost < best) {
      best = cost;
      best_k = k;
    }
  }
  return best_k;
}

/// The Avx2 kernel: the lanes for the messages worth it, OpenSSL for the others.
void md5_mixed(const uint8_t* const* data, const size_t* sizes, int count, uint8_t (*out)[16]) {
  int order[kMd5Lanes];
  for (int i = 0; i < count; ++i) order[i] = i;
  for (int i = 1; i < count; ++i)  // insertion sort: at most eight
    for (int j = i; j > 0 && sizes[order[j]] < sizes[order[j - 1]]; --j) std::swap(order[j], order[j - 1]);
  const int k = lanes_worth_taking(sizes, order, count);
  const uint8_t* lane_data[kMd5Lanes];
  size_t lane_sizes[kMd5Lanes];
  uint8_t lane_out[kMd5Lanes][16];
  for (int j = 0; j < k; ++j) {
    lane_data[j] = data[order[j]];
    lane_sizes[j] = sizes[order[j]];
  }
  if (k > 0) md5_lanes_avx2(lane_data, lane_sizes, k, lane_out);
  for (int j = 0; j < k; ++j) memcpy(out[order[j]], lane_out[j], 16);
  for (int j = k; j < count; ++j)
    digest_bytes(DigestType::Md5, data[order[j]], sizes[order[j]], out[order[j]]);
}

#endif  // HM_HAVE_AVX2_MD5

}  // namespace

bool md5_kernel_supported(Md5Kernel kernel) {
  switch (kernel) {
    case Md5Kernel::Scalar:
      return true;
    case Md5Kernel::Avx2:
#if HM_HAVE_AVX2_MD5
    {
      static const bool avx2 = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") != 0;
      }();
      return avx2;
    }
#else
      return false;
#endif
  }
  return false;
}

Md5Kernel md5_kernel_best() {
  return md5_kernel_supported(Md5Kernel::Avx2) ? Md5Kernel::Avx2 : Md5Kernel::Scalar;
}

const char* md5_kernel_name(Md5Kernel kernel) {
  switch (kernel) {
    case Md5Kernel::Scalar:
      return "scalar";
    case Md5Kernel::Avx2:
      return "avx2";
  }
  return "unknown";
}

void md5_lanes(const uint8_t* const* data, const size_t* sizes, int count, uint8_t (*out)[16],
               Md5Kernel kernel) {
  if (count < 0 || count > kMd5Lanes) {
    throw std::invalid_argument("md5_lanes: count " + std::to_string(count) + " is outside 0.." +
                                std::to_string(kMd5Lanes));
  }
  if (!md5_kernel_supported(kernel)) {
    throw std::invalid_argument(std::string("md5_lanes: this CPU cannot run the ") +
                                md5_kernel_name(kernel) + " kernel");
  }
#if HM_HAVE_AVX2_MD5
  if (kernel == Md5Kernel::Avx2) {
    md5_mixed(data, sizes, count, out);
    return;
  }
#endif
  for (int i = 0; i < count; ++i) digest_bytes(DigestType::Md5, data[i], sizes[i], out[i]);
}

}  // namespace hm
