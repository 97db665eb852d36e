// Luma rows for the CPU path: pdq_math.hpp's luma_rgb over 8-bit pixels,
// vectorised, optionally at selected columns (the 512 pre-resize).
#pragma once

#include <stdint.h>

namespace hm::pdq {

/// How a decoded row stores its pixels.
enum class PixelLayout {
  Grey,     ///< 1 byte: the value (the reference's Y = value)
  Rgb,      ///< 3 bytes
  Rgbx,     ///< 4 bytes: R, G, B and one ignored byte (padding or alpha)
  Cmyk,     ///< 4 bytes of JPEG CMYK inks, converted as ImageMagick does (cmyk_to_rgb)
};

/// One RGB channel of a CMYK JPEG pixel as the reference sees it: ImageMagick
/// (Q16) reads the inks as inverted (Adobe) values and converts to RGB as
/// (1 - C)(1 - K) in 16-bit quanta before its PNM writer scales to 8 bits; with
/// the raw samples this is round(257 ink black / 255) in 16 bits, then
/// (q + 128) / 257. Exact on every CMYK file of the golden set.
uint8_t cmyk_to_rgb(unsigned ink, unsigned black);

/// Bytes per pixel of a layout.
int bytes_per_pixel(PixelLayout layout);

/// out[x] = luma of pixel cols[x] (or x when cols is null), x < n.
void luma_row_cpu(const uint8_t* pixels, PixelLayout layout, const int* cols, int n, float* out);

/// out[x] = luma of rgb[x], pixels packed as 0x00BBGGRR words.
void luma_of_rgb_words_cpu(const uint32_t* rgb, int n, float* out);

/// True when every one of the n pixels has R = G = B.
bool row_is_grey_cpu(const uint8_t* pixels, PixelLayout layout, int n);

/// Turns luma computed through the RGB weights back into the grey values
/// (Y = value) the reference uses when every pixel is grey: the weighted
/// sum is within 1e-4 of the value, so rounding recovers it exactly.
void luma_rgb_to_grey_cpu(float* luma, int64_t n);

/// n pixels of `layout` as packed RGB bytes (3 per pixel), for tools and tests.
void row_to_rgb(const uint8_t* pixels, PixelLayout layout, int n, uint8_t* rgb);

}  // namespace hm::pdq
