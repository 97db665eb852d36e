// Compiles the shared PDQ per-element math for the device, so CI (which has
// nvcc but no GPU) proves kernels/pdq_math.hpp stays usable from CUDA code.
// The CUDA backend that runs these functions is built on top of this header.
#include "pdq_math.hpp"

namespace {

__global__ void pdq_math_device_instantiation(const float* in, float* out, int n, int* ints) {
  using namespace hm::pdq;
  box_filter_line(in, 1, out, 1, n, box_window(n));
  out[0] = luma_rgb(in[0], in[1], in[2]);
  ints[0] = quality_term(in[0], in[1]) + quality_from_sum(ints[1]) + sample_index(3, n) +
            preresize_source_index(5, n) + hash_byte_of_bit(7) + hash_shift_of_bit(7);
  const DihedralSource s = dihedral_source(ints[2], 1, 2);
  ints[3] = s.u + s.v + (s.negate ? 1 : 0);
}

}  // namespace

/// Referenced from nowhere: the point is that this translation unit compiles.
void hm_pdq_math_device_compiles() {
  pdq_math_device_instantiation<<<1, 1>>>(nullptr, nullptr, 0, nullptr);
}
