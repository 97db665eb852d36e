// PDQ per-element math, shared by the CPU path and the CUDA kernels.
//
// Every formula here follows docs/pdq-spec.md (Meta's reference PDQ) to the
// bit: float where the reference uses float, the same evaluation order, no
// FMA. Functions are HM_HD so both backends call one definition.
#pragma once

#include <stdint.h>

#include "hm_hd.hpp"

namespace hm::pdq {

constexpr int kGrid = 64;          ///< side of the sampled grid fed to the DCT
constexpr int kDct = 16;           ///< side of the kept DCT block
constexpr int kBits = 256;         ///< hash length in bits
constexpr int kHashBytes = 32;     ///< hash length in bytes
constexpr int kPreResize = 512;    ///< reference loader stretches larger images to 512 x 512
constexpr int kMinSide = 5;        ///< sides below this hash to zero, quality 0
constexpr int kDihedralCount = 8;  ///< orig, rot90, rot180, rot270, flipx, flipy, flipplus1, flipminus1

/// Luma weights, as float constants (bit patterns 0x3e991687, 0x3f1645a2, 0x3de978d5).
constexpr float kLumaR = 0.299f;
constexpr float kLumaG = 0.587f;
constexpr float kLumaB = 0.114f;

/// Y = ((0.299 R) + (0.587 G)) + (0.114 B), each product rounded to float.
HM_HD float luma_rgb(float r, float g, float b) {
  return fadd(fadd(fmul(kLumaR, r), fmul(kLumaG, g)), fmul(kLumaB, b));
}

/// Source index that the reference's nearest-neighbour pre-resize reads for
/// output index `out` when a side of length `src_len` becomes 512.
HM_HD int preresize_source_index(int out, int src_len) {
  return (int)(((int64_t)out * src_len) / kPreResize);
}

/// Box-filter window along a side of length n: ceil(n / 128).
HM_HD int box_window(int n) { return (n + 127) / 128; }

/// A box of window w covers [i - lag, i + lead]; even windows lean right.
struct BoxSpan {
  int lead;
  int lag;
};

HM_HD BoxSpan box_span(int window) {
  const int half = (window + 2) / 2;
  return BoxSpan{half - 1, window - half};
}

/// One 1-D box filter over n values read at in[k * in_stride], written to
/// out[k * out_stride]. The running sum is float and sequential, adding before
/// subtracting, exactly as the reference does: its rounding carries along the
/// line, so this order is part of the hash.
HM_HD void box_filter_line(const float* in, int in_stride, float* out, int out_stride, int n,
                           int window) {
  const BoxSpan s = box_span(window);
  float sum = 0.0f;
  int count = 0;
  for (int k = 0; k < s.lead && k < n; ++k) {
    sum = fadd(sum, in[k * in_stride]);
    ++count;
  }
  for (int i = 0; i < n; ++i) {
    if (i + s.lead < n) {
      sum = fadd(sum, in[(i + s.lead) * in_stride]);
      ++count;
    }
    if (i - s.lag - 1 >= 0) {
      sum = fsub(sum, in[(i - s.lag - 1) * in_stride]);
      --count;
    }
    out[i * out_stride] = sum / (float)count;
  }
}

/// Row or column of the blurred buffer that grid index i (0..63) samples:
/// floor((i + 0.5) * n / 64), evaluated in double as the reference does.
HM_HD int sample_index(int i, int n) { return (int)(((double)i + 0.5) * (double)n / (double)kGrid); }

/// One neighbour term of the quality metric: |trunc(((u - v) * 100) / 255)|.
HM_HD int quality_term(float u, float v) {
  const float t = fmul(fsub(u, v), 100.0f) / 255.0f;
  const int d = (int)t;
  return d < 0 ? -d : d;
}

/// Quality from the summed neighbour terms: min(100, G / 90).
HM_HD int quality_from_sum(int gradient_sum) {
  const int q = gradient_sum / 90;
  return q > 100 ? 100 : q;
}

/// Where entry (r, c) of dihedral transform t's DCT block comes from, and its
/// sign. Index u stands for frequency u + 1, so "u odd" is an even frequency,
/// whose sign a mirror leaves alone (pdq-spec section 12).
struct DihedralSource {
  int u;
  int v;
  bool negate;
};

HM_HD DihedralSource dihedral_source(int t, int r, int c) {
  switch (t) {
    case 1:  // rot90: B'[v][u] = odd(v) ? B[u][v] : -B[u][v]
      return DihedralSource{c, r, (r & 1) == 0};
    case 2:  // rot180: B'[u][v] = odd(u+v) ? -B : B
      return DihedralSource{r, c, ((r + c) & 1) != 0};
    case 3:  // rot270: B'[v][u] = odd(u) ? B : -B
      return DihedralSource{c, r, (c & 1) == 0};
    case 4:  // flipx: odd(u) ? B : -B
      return DihedralSource{r, c, (r & 1) == 0};
    case 5:  // flipy: odd(v) ? B : -B
      return DihedralSource{r, c, (c & 1) == 0};
    case 6:  // flipplus1 (transpose): B'[v][u] = B[u][v]
      return DihedralSource{c, r, false};
    case 7:  // flipminus1: B'[v][u] = odd(u+v) ? -B : B
      return DihedralSource{c, r, ((r + c) & 1) != 0};
    default:  // orig
      return DihedralSource{r, c, false};
  }
}

/// Byte and bit of hash bit k (= 16 u + v) in the 32-byte string-order layout:
/// byte 0 is the first two hex characters, so bit k lives in byte 31 - k/8.
HM_HD int hash_byte_of_bit(int k) { return kHashBytes - 1 - (k >> 3); }
HM_HD int hash_shift_of_bit(int k) { return k & 7; }

}  // namespace hm::pdq
