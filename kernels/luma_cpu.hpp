// Luma rows for the CPU path: pdq_math.hpp's luma_rgb over 8-bit pixels,
// vectorised, optionally at selected columns (the 512 pre-resize).
#pragma once

#include <stdint.h>

namespace hm::pdq {

/// out[x] = luma of pixel cols[x] (or x when cols is null), x < n. channels:
/// 1 grey (Y = value), 3 RGB, 4 RGB plus an ignored byte (padding or alpha).
void luma_row_cpu(const uint8_t* pixels, int channels, const int* cols, int n, float* out);

/// True when every one of the n pixels has R = G = B (channels 3 or 4).
bool row_is_grey_cpu(const uint8_t* pixels, int channels, int n);

/// Turns luma computed through the RGB weights back into the grey values
/// (Y = value) the reference uses when every pixel is grey: the weighted
/// sum is within 1e-4 of the value, so rounding recovers it exactly.
void luma_rgb_to_grey_cpu(float* luma, int64_t n);

}  // namespace hm::pdq
