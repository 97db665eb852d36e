// Portable 8-lane float vectors (GCC/Clang vector extensions) for the CPU
// path. Functions built with HM_VECTOR_CLONES get an AVX2 copy chosen at load
// time and a baseline copy; lane-wise IEEE arithmetic is exact either way, so
// every clone computes the same bits as the scalar code.
#pragma once

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HM_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define HM_VECTOR_CLONES
#endif

/// Helpers called from HM_VECTOR_CLONES functions must be inlined into each
/// clone, or they run as baseline code.
#define HM_INLINE inline __attribute__((always_inline))

namespace hm::simd {

constexpr int kWidth = 8;
typedef float V8 __attribute__((vector_size(32)));
typedef int I8 __attribute__((vector_size(32)));

typedef uint8_t U8x16 __attribute__((vector_size(16)));
typedef int8_t I8x16 __attribute__((vector_size(16)));

#if defined(__clang__)
#define HM_SHUFFLE2(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#define HM_SHUFFLE_BYTES(a, ...) __builtin_shufflevector(a, a, __VA_ARGS__)
#else
#define HM_SHUFFLE2(a, b, ...) __builtin_shuffle(a, b, (::hm::simd::I8){__VA_ARGS__})
#define HM_SHUFFLE_BYTES(a, ...) __builtin_shuffle(a, (::hm::simd::I8x16){__VA_ARGS__})
#endif

HM_INLINE V8 load(const float* p) {
  V8 v;
  memcpy(&v, p, sizeof(v));
  return v;
}

HM_INLINE void store(float* p, V8 v) { memcpy(p, &v, sizeof(v)); }

HM_INLINE V8 splat(float x) { return (V8){x, x, x, x, x, x, x, x}; }

/// Transposes an 8 x 8 tile held as 8 row vectors, in place.
HM_INLINE void transpose8(V8 r[8]) {
  const V8 t0 = HM_SHUFFLE2(r[0], r[1], 0, 8, 1, 9, 4, 12, 5, 13);
  const V8 t1 = HM_SHUFFLE2(r[0], r[1], 2, 10, 3, 11, 6, 14, 7, 15);
  const V8 t2 = HM_SHUFFLE2(r[2], r[3], 0, 8, 1, 9, 4, 12, 5, 13);
  const V8 t3 = HM_SHUFFLE2(r[2], r[3], 2, 10, 3, 11, 6, 14, 7, 15);
  const V8 t4 = HM_SHUFFLE2(r[4], r[5], 0, 8, 1, 9, 4, 12, 5, 13);
  const V8 t5 = HM_SHUFFLE2(r[4], r[5], 2, 10, 3, 11, 6, 14, 7, 15);
  const V8 t6 = HM_SHUFFLE2(r[6], r[7], 0, 8, 1, 9, 4, 12, 5, 13);
  const V8 t7 = HM_SHUFFLE2(r[6], r[7], 2, 10, 3, 11, 6, 14, 7, 15);
  const V8 u0 = HM_SHUFFLE2(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
  const V8 u1 = HM_SHUFFLE2(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
  const V8 u2 = HM_SHUFFLE2(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
  const V8 u3 = HM_SHUFFLE2(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
  const V8 u4 = HM_SHUFFLE2(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);
  const V8 u5 = HM_SHUFFLE2(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
  const V8 u6 = HM_SHUFFLE2(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);
  const V8 u7 = HM_SHUFFLE2(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
  r[0] = HM_SHUFFLE2(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11);
  r[4] = HM_SHUFFLE2(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15);
  r[1] = HM_SHUFFLE2(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11);
  r[5] = HM_SHUFFLE2(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15);
  r[2] = HM_SHUFFLE2(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11);
  r[6] = HM_SHUFFLE2(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15);
  r[3] = HM_SHUFFLE2(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11);
  r[7] = HM_SHUFFLE2(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15);
}

}  // namespace hm::simd
