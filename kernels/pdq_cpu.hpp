// PDQ on the CPU: the fast path used by the engine and a literal, scalar
// rendering of the spec that tests use as an independent oracle. The CUDA
// twin (pdq_cuda.cuh) computes the same bits from the same pdq_math.hpp.
#pragma once

#include <stdint.h>

#include <array>
#include <vector>

#include "box_blur_cpu.hpp"
#include "pdq_math.hpp"

namespace hm::pdq {

/// 256-bit hash in string order: byte 0 is the first two hex characters.
using Hash256 = std::array<uint8_t, kHashBytes>;

/// 8-bit pixels at the reference's working size: the caller has already
/// applied the 512 x 512 nearest-neighbour pre-resize (the engine's PdqSink does).
struct PdqImage {
  const uint8_t* pixels = nullptr;  ///< row-major [height, width, channels]
  int width = 0;
  int height = 0;
  int channels = 1;   ///< 1 grey, 3 RGB, or 4 (RGB and an ignored byte)
  bool grey = false;  ///< with 3 channels: every pixel has R = G = B; Y = R, as the reference does
};

struct PdqResult {
  Hash256 hash{};                                  ///< the reference's plain hash
  int quality = 0;                                 ///< 0..100
  std::array<Hash256, kDihedralCount> dihedral{};  ///< filled when asked for; [0] is orig
  bool below_min_size = false;                     ///< a side < 5 px: zero hash, quality 0
};

/// Reusable buffers, one per thread, so hashing allocates nothing per image.
struct PdqScratch {
  std::vector<float> luma;
  BlurPipeline blur;
};

/// The 16 x 64 DCT matrix (row u = frequency u + 1), computed in double and
/// rounded once to float, as the reference does. Row-major [16, 64].
const std::array<float, kDct * kGrid>& dct_matrix();

/// Fast CPU PDQ: vectorised across rows and columns, bit-identical to
/// pdq_hash_reference. With `dihedral`, also fills result.dihedral.
void pdq_hash_cpu(const PdqImage& image, bool dihedral, PdqResult& result, PdqScratch& scratch);

/// The same from a luma plane [h, w] (row-major, at most 512 x 512), which
/// is not modified.
void pdq_hash_luma_cpu(const float* luma, int w, int h, bool dihedral, PdqResult& result,
                       PdqScratch& scratch);

/// The spec step by step with scalar loops: slow, obviously right, the oracle.
void pdq_hash_reference(const PdqImage& image, bool dihedral, PdqResult& result);

/// True, with result set to the reference's answer (all hashes zero, quality
/// 0, flagged), when a side is under 5 px; false otherwise.
bool pdq_below_min_size(int w, int h, PdqResult& result);

/// Plain hash and quality from `grid`, and with `dihedral` the 8 hashes from
/// `dihedral_grid` (64 x 64 each). The two differ only for images of exactly
/// 64 x 64, whose plain hash the reference takes from the unblurred luma.
void pdq_hash_grids(const float* grid, const float* dihedral_grid, bool dihedral, PdqResult& result);

/// Hashes (and quality) from a 64 x 64 grid; exposed for tests and the CUDA twin.
int pdq_quality(const float* grid64);
void pdq_dct16(const float* grid64, float* dct16x16);
/// Bits of `dct` permuted and signed for dihedral transform t (0 = orig).
Hash256 pdq_bits(const float* dct16x16, int transform);

}  // namespace hm::pdq
