// Gathering the pre-resize's columns from a row of 4-byte values.
#pragma once

#include <stdint.h>

namespace hm {

/// out[j] = the 4-byte value at index cols[j] of src, j < n. cols never
/// decrease (the nearest-neighbour pre-resize's columns), and src[cols[n - 1]]
/// is the furthest value read. src needs no alignment.
void gather_words_cpu(const void* src, const int* cols, int n, uint32_t* out);

}  // namespace hm
