#include "luma_cpu.hpp"

#include <math.h>
#include <string.h>

#include "pdq_math.hpp"
#include "simd.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HM_HAVE_GATHER 1
#endif

namespace hm::pdq {

namespace {

constexpr int kMaxPacked = 512;

HM_INLINE uint32_t load_rgbx(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

HM_INLINE float luma_of_rgbx(uint32_t v) {
  return luma_rgb((float)(v & 0xff), (float)((v >> 8) & 0xff), (float)((v >> 16) & 0xff));
}

#if HM_HAVE_GATHER
/// out[x] = the 4-byte pixel at column cols[x], eight at a time with AVX2's
/// gather: the nearest-neighbour columns of a pre-resized row.
__attribute__((target("avx2"))) void gather_rgbx_avx2(const uint8_t* px, const int* cols, int n,
                                                      uint32_t* out) {
  int x = 0;
  for (; x + 8 <= n; x += 8) {
    const __m256i index = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cols + x));
    const __m256i v = _mm256_i32gather_epi32(reinterpret_cast<const int*>(px), index, 4);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + x), v);
  }
  for (; x < n; ++x) out[x] = load_rgbx(px + 4 * (size_t)cols[x]);
}

const bool kHasAvx2 = __builtin_cpu_supports("avx2");
#endif

}  // namespace

/// Vectorised luma of packed RGBX pixels.
HM_INLINE void luma_of_rgbx_row(const uint32_t* rgbx, int n, float* out) {
  for (int x = 0; x < n; ++x) out[x] = luma_of_rgbx(rgbx[x]);
}

HM_VECTOR_CLONES
void luma_row_cpu(const uint8_t* px, int channels, const int* cols, int n, float* out) {
  if (channels == 1) {
    if (cols) {
      for (int x = 0; x < n; ++x) out[x] = (float)px[cols[x]];
    } else {
      for (int x = 0; x < n; ++x) out[x] = (float)px[x];
    }
    return;
  }
  if (channels == 4 && cols == nullptr) {
    // Already packed; memcpy keeps the loads legal at any alignment.
    for (int x0 = 0; x0 < n; x0 += kMaxPacked) {
      uint32_t packed[kMaxPacked];
      const int m = n - x0 < kMaxPacked ? n - x0 : kMaxPacked;
      memcpy(packed, px + 4 * (size_t)x0, 4 * (size_t)m);
      luma_of_rgbx_row(packed, m, out + x0);
    }
    return;
  }
#if HM_HAVE_GATHER
  if (channels == 4 && kHasAvx2) {
    for (int x0 = 0; x0 < n; x0 += kMaxPacked) {
      uint32_t packed[kMaxPacked];
      const int m = n - x0 < kMaxPacked ? n - x0 : kMaxPacked;
      gather_rgbx_avx2(px, cols + x0, m, packed);
      luma_of_rgbx_row(packed, m, out + x0);
    }
    return;
  }
#endif
  // Gather (selected columns, or 3-byte pixels) into packed words first:
  // the gather stays scalar, the arithmetic becomes vector code.
  for (int x0 = 0; x0 < n; x0 += kMaxPacked) {
    uint32_t packed[kMaxPacked];
    const int m = n - x0 < kMaxPacked ? n - x0 : kMaxPacked;
    for (int x = 0; x < m; ++x) {
      const size_t col = (size_t)(cols ? cols[x0 + x] : x0 + x);
      const uint8_t* p = px + (size_t)channels * col;
      packed[x] = channels == 4 ? load_rgbx(p) : (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    }
    luma_of_rgbx_row(packed, m, out + x0);
  }
}

HM_VECTOR_CLONES
bool row_is_grey_cpu(const uint8_t* px, int channels, int n) {
  unsigned differ = 0;
  for (int x = 0; x < n; ++x) {
    const uint8_t* p = px + (size_t)channels * x;
    differ |= (unsigned)(p[0] ^ p[1]) | (unsigned)(p[1] ^ p[2]);
  }
  return differ == 0;
}

void luma_rgb_to_grey_cpu(float* luma, int64_t n) {
  for (int64_t i = 0; i < n; ++i) luma[i] = rintf(luma[i]);
}

}  // namespace hm::pdq
