// PDQ on a CUDA device, batched: the CUDA backend's public face. CUDA-free
// (no cuda_runtime.h), so anything may include it; it is only built, and
// only linked (hm_cuda), when the build has CUDA (HM_HAS_CUDA).
//
// The hashes are bit-identical to the CPU path (PdqSink: the reference's
// 512 x 512 pre-resize, grey rule and 64 x 64 special case, then pdq_hash_cpu).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "luma_cpu.hpp"
#include "pdq_cpu.hpp"

namespace hm {

/// True when the CUDA runtime sees at least one device it can use. Never
/// throws: no driver, no device or a broken install all read as false.
bool cuda_device_available();

/// One CUDA device as the runtime reports it.
struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int compute_major = 0;  ///< compute capability, e.g. 9.0 for H100/H200
  int compute_minor = 0;
  int multiprocessors = 0;
  size_t memory_bytes = 0;
};

/// Every usable device; empty when there is none (never throws).
std::vector<CudaDeviceInfo> cuda_devices();

/// One decoded image, in host memory, as the decoders deliver it.
struct PdqGpuInput {
  /// Row-major [height, width, bytes_per_pixel(layout)], rows packed; read
  /// during hash_batch only.
  const uint8_t* pixels = nullptr;
  int width = 0;
  int height = 0;
  /// Grey (Y = value), Rgb, Rgbx (4th byte ignored) or Cmyk (JPEG inks, converted as the CPU does).
  pdq::PixelLayout layout = pdq::PixelLayout::Rgb;
  /// The caller knows every pixel has R = G = B (as PdqImage::grey): Y = value.
  bool grey = false;
  /// Otherwise let the device find out (as PixelFormat::detect_grey): it
  /// reads every source pixel. False takes the weighted luma (as for BMP).
  bool detect_grey = true;
};

/// How a batcher uses its device.
struct PdqGpuOptions {
  int device = 0;                        ///< CUDA device index
  int max_images_per_chunk = 1024;       ///< images per upload-and-hash step
  size_t staging_bytes = size_t(64) << 20;  ///< pixel bytes per step (grows for one larger image)
  /// Blocks of the hashing kernel (each owns 2 MiB of device scratch, per
  /// stream); 0 = as many as the device runs at once.
  int max_blocks = 0;
};

/// Device time of the last hash_batch call: from before its first upload to
/// after its last result came back, CUDA events on the device's clock.
struct PdqGpuTiming {
  double device_ms = 0.0;
  int chunks = 0;  ///< upload-and-hash steps it took
};

/// Hashes batches of decoded images with PDQ on one CUDA device. Owns two
/// streams, each with pinned host staging and device buffers, so one step's
/// upload and the host copy into staging overlap the other step's hashing.
/// Not thread-safe: one batcher per host thread. Throws hm::CudaError (a
/// std::runtime_error) on CUDA failures and std::invalid_argument on bad inputs.
class PdqGpuBatcher {
 public:
  explicit PdqGpuBatcher(const PdqGpuOptions& options = PdqGpuOptions{});
  ~PdqGpuBatcher();
  PdqGpuBatcher(const PdqGpuBatcher&) = delete;
  PdqGpuBatcher& operator=(const PdqGpuBatcher&) = delete;

  /// results[i] = the hash, quality (and with `dihedral` the 8 dihedral
  /// hashes) of inputs[i], exactly as the CPU path computes them. Synchronous.
  void hash_batch(const std::vector<PdqGpuInput>& inputs, bool dihedral,
                  std::vector<pdq::PdqResult>& results);

  /// Timing of the last hash_batch.
  const PdqGpuTiming& last_timing() const;

  /// Copies `inputs` to the device once and keeps them there (replacing any
  /// earlier resident batch), for frames that already live on the GPU and for
  /// benchmarks. Synchronous.
  void set_resident(const std::vector<PdqGpuInput>& inputs);

  /// Hashes the resident batch into `results` and returns the device time of
  /// the hashing alone (no copies), in milliseconds, from CUDA events. Synchronous.
  double hash_resident(bool dihedral, std::vector<pdq::PdqResult>& results);

  /// The device this batcher runs on.
  const CudaDeviceInfo& device() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hm
