#include "gather_cpu.hpp"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HM_HAVE_AVX2_GATHER 1
#endif

namespace hm {

namespace {

inline uint32_t load_word(const uint8_t* base, int index) {
  uint32_t v;
  memcpy(&v, base + 4 * (size_t)index, 4);
  return v;
}

void gather_scalar(const uint8_t* base, const int* cols, int n, uint32_t* out) {
  for (int j = 0; j < n; ++j) out[j] = load_word(base, cols[j]);
}

#if HM_HAVE_AVX2_GATHER
/// Where eight outputs come from at most 16 consecutive values (shrinking by
/// up to 2x), two loads and two permutes replace AVX2's gather, which is
/// several times slower on some CPUs; elsewhere the gather.
__attribute__((target("avx2"))) void gather_avx2(const uint8_t* base, const int* cols, int n,
                                                 uint32_t* out) {
  const int* words = reinterpret_cast<const int*>(base);
  const int last = cols[n - 1];
  const __m256i seven = _mm256_set1_epi32(7);
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256i col = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cols + j));
    const int first = cols[j];
    __m256i v;
    if (cols[j + 7] - first < 16 && first + 15 <= last) {
      const __m256i offset = _mm256_sub_epi32(col, _mm256_set1_epi32(first));
      const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(words + first));
      const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(words + first + 8));
      // vpermd reads the low 3 bits of each index; the high half is picked by blend.
      v = _mm256_blendv_epi8(_mm256_permutevar8x32_epi32(lo, offset),
                             _mm256_permutevar8x32_epi32(hi, offset),
                             _mm256_cmpgt_epi32(offset, seven));
    } else {
      v = _mm256_i32gather_epi32(words, col, 4);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + j), v);
  }
  gather_scalar(base, cols + j, n - j, out + j);
}

const bool kHasAvx2 = __builtin_cpu_supports("avx2");
#endif

}  // namespace

void gather_words_cpu(const void* src, const int* cols, int n, uint32_t* out) {
  if (n <= 0) return;
  const uint8_t* base = static_cast<const uint8_t*>(src);
#if HM_HAVE_AVX2_GATHER
  if (kHasAvx2) {
    gather_avx2(base, cols, n, out);
    return;
  }
#endif
  gather_scalar(base, cols, n, out);
}

}  // namespace hm
