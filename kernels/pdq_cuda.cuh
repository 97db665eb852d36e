// PDQ on the GPU, batched: the host launchers of pdq_cuda.cu. Private to the
// CUDA backend (includes cuda_runtime.h); the public face is pdq_gpu.hpp.
//
// The kernels compute the same bits as pdq_hash_cpu / PdqSink: the same
// pdq_math.hpp per-element functions, the same floating-point order (no FMA:
// the target is built with --fmad=false and the math uses __fmul_rn etc.).
#pragma once

#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

#include "pdq_math.hpp"

namespace hm::pdq {

/// How an image's pixels are stored on the device (PixelLayout's cases).
enum PdqGpuLayout : int32_t {
  kLayoutGrey = 0,  ///< 1 byte per pixel
  kLayoutRgb = 1,   ///< 3 bytes
  kLayoutRgbx = 2,  ///< 4 bytes, the 4th ignored
  kLayoutCmyk = 3,  ///< 4 bytes of CMYK inks, converted with the cmyk table
};

/// Which luma rule an RGB image takes (ignored for grey layouts, which are Y = value).
enum PdqGreyRule : int32_t {
  kGreyNever = 0,   ///< weighted luma
  kGreyAlways = 1,  ///< the caller knows every pixel has R = G = B: rint(weighted) = value
  kGreyDetect = 2,  ///< grey when launch_pdq_detect_colour found no colour pixel
};

/// One image of a batch as the kernels read it. The pixels are row-major
/// [height, width, bytes per pixel], rows packed, at `offset` in the batch buffer.
struct PdqImageDesc {
  uint64_t offset;
  int32_t width;   ///< source size, before the 512 x 512 pre-resize
  int32_t height;
  int32_t layout;  ///< PdqGpuLayout
  int32_t grey;    ///< PdqGreyRule
};

/// One image's answer, written by the batch kernel (plain-old-data for copies).
struct PdqDeviceResult {
  uint8_t hash[kHashBytes];                  ///< plain hash, string order
  uint8_t dihedral[kDihedralCount][kHashBytes];  ///< written only when asked for
  int32_t quality;
  int32_t below_min_size;  ///< 1: a side under 5 px after the pre-resize; everything zero
};
static_assert(sizeof(PdqDeviceResult) % sizeof(uint32_t) == 0, "the kernel zeroes it by words");

/// Floats of device scratch each block of the batch kernel owns: two planes
/// of the largest working size (512 x 512), for the passes' ping-pong.
constexpr size_t kPdqScratchFloatsPerBlock = 2 * (size_t)kPreResize * kPreResize;

/// Everything a launch reads and writes; all pointers are device memory.
struct PdqBatchArgs {
  const PdqImageDesc* images = nullptr;  ///< [count]
  int count = 0;
  const uint8_t* pixels = nullptr;       ///< the batch buffer the descriptors' offsets index
  const uint8_t* cmyk_table = nullptr;   ///< [256 * 256]: cmyk_to_rgb(ink, black) at ink * 256 + black
  uint32_t* colour = nullptr;            ///< [count]: nonzero when a pixel has R, G, B not all equal
  const float* dct = nullptr;            ///< [16, 64] row-major: dct_matrix()
  float* scratch = nullptr;              ///< [scratch_blocks * kPdqScratchFloatsPerBlock]
  int scratch_blocks = 0;                ///< the most blocks the batch kernel may run
  int64_t max_source_pixels = 0;         ///< largest width * height in the batch (sizes the colour scan)
  bool dihedral = false;                 ///< also write the 8 dihedral hashes
  PdqDeviceResult* results = nullptr;    ///< [count]
};

/// Clears `colour` and marks the images with a colour pixel, for those whose
/// grey rule is kGreyDetect (others are skipped). Asynchronous on `stream`.
void launch_pdq_detect_colour_async(const PdqBatchArgs& args, cudaStream_t stream);

/// Hashes every image of the batch into `results`: pre-resize, luma, blur,
/// sampling, quality, DCT, median and bits (and the 8 dihedral hashes).
/// Reads `colour` for kGreyDetect images, so launch_pdq_detect_colour_async
/// first on the same stream. Asynchronous on `stream`; allocates nothing.
void launch_pdq_batch_async(const PdqBatchArgs& args, cudaStream_t stream);

/// The most blocks of the batch kernel that run at once on `device` (SMs x
/// blocks per SM): more scratch than this buys nothing.
int pdq_batch_max_resident_blocks(int device);

}  // namespace hm::pdq
