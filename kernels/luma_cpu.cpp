#include "luma_cpu.hpp"

#include <math.h>
#include <string.h>

#include "gather_cpu.hpp"
#include "pdq_math.hpp"
#include "simd.hpp"


namespace hm::pdq {

namespace {

constexpr int kChunk = 512;  ///< pixels converted per step, on the stack

HM_INLINE uint32_t load32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/// All 256 x 256 (ink, black) pairs of cmyk_to_rgb.
struct CmykTable {
  uint8_t value[256][256];
  CmykTable() {
    for (unsigned a = 0; a < 256; ++a)
      for (unsigned k = 0; k < 256; ++k) value[a][k] = cmyk_to_rgb(a, k);
  }
};

const CmykTable& cmyk_table() {
  static const CmykTable table;
  return table;
}

/// Packs pixel x into a 0x..BBGGRR word.
HM_INLINE uint32_t load_packed(const uint8_t* px, PixelLayout layout, size_t x) {
  if (layout == PixelLayout::Rgbx) return load32(px + 4 * x);
  if (layout == PixelLayout::Cmyk) {
    const uint8_t* p = px + 4 * x;
    const auto& t = cmyk_table().value;
    return (uint32_t)t[p[0]][p[3]] | (uint32_t)t[p[1]][p[3]] << 8 | (uint32_t)t[p[2]][p[3]] << 16;
  }
  const uint8_t* p = px + 3 * x;
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

/// Luma of one packed 0x..BBGGRR word.
HM_INLINE float luma_of_word(uint32_t v) {
  return luma_rgb((float)(v & 0xff), (float)((v >> 8) & 0xff), (float)((v >> 16) & 0xff));
}

/// Luma of packed RGB words, vectorised by the compiler.
HM_INLINE void luma_of_rgb_words(const uint32_t* words, int n, float* out) {
  for (int x = 0; x < n; ++x) out[x] = luma_of_word(words[x]);
}

/// Packed words for pixels [x0, x0 + n) of the row (through cols when given).
HM_INLINE void gather_words(const uint8_t* px, PixelLayout layout, const int* cols, int x0, int n,
                            uint32_t* words) {
  if (cols == nullptr && layout == PixelLayout::Rgbx) {
    memcpy(words, px + 4 * (size_t)x0, 4 * (size_t)n);
    return;
  }
  if (cols == nullptr && layout == PixelLayout::Rgb) {
    // Four 3-byte pixels from each 16-byte load, spread to 4-byte words by a
    // byte shuffle; loads stay inside the n pixels, the last few go one by one.
    const uint8_t* p = px + 3 * (size_t)x0;
    const simd::U8x16 keep = {255, 255, 255, 0, 255, 255, 255, 0, 255, 255, 255, 0, 255, 255, 255, 0};
    int x = 0;
    for (; 3 * x + 16 <= 3 * n; x += 4) {
      simd::U8x16 v;
      memcpy(&v, p + 3 * (size_t)x, sizeof(v));
      const simd::U8x16 w = HM_SHUFFLE_BYTES(v, 0, 1, 2, 0, 3, 4, 5, 0, 6, 7, 8, 0, 9, 10, 11, 0) & keep;
      memcpy(words + x, &w, sizeof(w));
    }
    for (; x < n; ++x) words[x] = load_packed(px, layout, (size_t)(x0 + x));
    return;
  }
  if (layout == PixelLayout::Rgbx) {
    gather_words_cpu(px, cols + x0, n, words);
    return;
  }
  for (int x = 0; x < n; ++x)
    words[x] = load_packed(px, layout, (size_t)(cols ? cols[x0 + x] : x0 + x));
}

}  // namespace

int bytes_per_pixel(PixelLayout layout) {
  switch (layout) {
    case PixelLayout::Grey: return 1;
    case PixelLayout::Rgb: return 3;
    case PixelLayout::Rgbx:
    case PixelLayout::Cmyk: return 4;
  }
  return 3;
}

uint8_t cmyk_to_rgb(unsigned ink, unsigned black) {
  const double q16 = 257.0 * (double)ink * (double)black / 255.0;
  const unsigned q = (unsigned)(q16 + 0.5);
  return (uint8_t)((q + 128) / 257);
}

HM_VECTOR_CLONES
void luma_row_cpu(const uint8_t* px, PixelLayout layout, const int* cols, int n, float* out) {
  if (layout == PixelLayout::Grey) {
    if (cols) {
      for (int x = 0; x < n; ++x) out[x] = (float)px[cols[x]];
    } else {
      for (int x = 0; x < n; ++x) out[x] = (float)px[x];
    }
    return;
  }
  if (layout == PixelLayout::Rgbx && cols == nullptr) {
    // Already packed words: convert in place of a copy.
    for (int x = 0; x < n; ++x) out[x] = luma_of_word(load32(px + 4 * (size_t)x));
    return;
  }
  // Gather into packed words (the only scalar-bound step), then vector math.
  for (int x0 = 0; x0 < n; x0 += kChunk) {
    uint32_t words[kChunk];
    const int m = n - x0 < kChunk ? n - x0 : kChunk;
    gather_words(px, layout, cols, x0, m, words);
    luma_of_rgb_words(words, m, out + x0);
  }
}

HM_VECTOR_CLONES
void luma_of_rgb_words_cpu(const uint32_t* rgb, int n, float* out) { luma_of_rgb_words(rgb, n, out); }

HM_VECTOR_CLONES
bool row_is_grey_cpu(const uint8_t* px, PixelLayout layout, int n) {
  if (layout == PixelLayout::Grey) return true;
  for (int x0 = 0; x0 < n; x0 += kChunk) {
    uint32_t words[kChunk];
    const int m = n - x0 < kChunk ? n - x0 : kChunk;
    gather_words(px, layout, nullptr, x0, m, words);
    uint32_t differ = 0;
    for (int x = 0; x < m; ++x) {
      const uint32_t v = words[x];
      differ |= ((v ^ (v >> 8)) & 0xff) | ((v ^ (v >> 16)) & 0xff);
    }
    if (differ) return false;  // photos leave on their first chunk
  }
  return true;
}

void luma_rgb_to_grey_cpu(float* luma, int64_t n) {
  for (int64_t i = 0; i < n; ++i) luma[i] = rintf(luma[i]);
}

void row_to_rgb(const uint8_t* px, PixelLayout layout, int n, uint8_t* rgb) {
  for (int x = 0; x < n; ++x) {
    if (layout == PixelLayout::Grey) {
      rgb[3 * x] = rgb[3 * x + 1] = rgb[3 * x + 2] = px[x];
      continue;
    }
    const uint32_t v = load_packed(px, layout, (size_t)x);
    rgb[3 * x] = (uint8_t)v;
    rgb[3 * x + 1] = (uint8_t)(v >> 8);
    rgb[3 * x + 2] = (uint8_t)(v >> 16);
  }
}

}  // namespace hm::pdq
