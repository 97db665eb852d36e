// Hamming distance between 256-bit hashes, shared by host and device.
//
// A hash is 32 bytes in the order its hex string spells them (byte 0 is the
// first two hex digits), which is also how FAISS's IndexBinary stores codes.
// The distance does not depend on byte order, so kernels may load the bytes
// as four little-endian 64-bit words.
#pragma once

#include <stdint.h>
#include <string.h>

#include "hm_hd.hpp"

namespace hm {

/// Bytes in one PDQ hash (256 bits).
constexpr int kHash256Bytes = 32;
/// 64-bit words in one PDQ hash.
constexpr int kHash256Words = 4;

/// Population count of one 64-bit word.
HM_HD int popcount64(uint64_t x) {
#if defined(__CUDA_ARCH__)
  return __popcll(x);
#else
  return __builtin_popcountll(x);
#endif
}

/// Hamming distance between two hashes given as four 64-bit words each.
HM_HD int hamming256_words(const uint64_t* a, const uint64_t* b) {
  return popcount64(a[0] ^ b[0]) + popcount64(a[1] ^ b[1]) + popcount64(a[2] ^ b[2]) +
         popcount64(a[3] ^ b[3]);
}

/// Hamming distance between two 32-byte hashes (any alignment).
HM_HD int hamming256(const uint8_t* a, const uint8_t* b) {
  uint64_t wa[kHash256Words], wb[kHash256Words];
  memcpy(wa, a, kHash256Bytes);
  memcpy(wb, b, kHash256Bytes);
  return hamming256_words(wa, wb);
}

}  // namespace hm
