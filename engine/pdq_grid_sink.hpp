// Reduces a decoded image to the pixels the reference PDQ actually hashes.
#pragma once

#include <stdint.h>

#include <vector>

#include "pdq_cpu.hpp"
#include "pixel_sink.hpp"

namespace hm {

/// Applies the reference loader's steps as rows stream in: the 512 x 512
/// nearest-neighbour pre-resize when a side exceeds 512 (keeping only the
/// rows and columns it samples, so a huge image never needs a full buffer),
/// and the grey check (all pixels R = G = B means the grey luma path).
class PdqGridSink final : public PixelSink {
 public:
  void begin(const PixelFormat& format) override;
  void row(int y, const uint8_t* samples) override;

  /// Forgets the previous image, so complete() is false until the next one arrives.
  void reset() { begun_ = false; }
  /// True once begin() and every row have arrived.
  bool complete() const { return begun_ && next_out_ >= out_height_; }
  /// The pixels to hash; valid until the next begin().
  pdq::PdqImage image() const;
  /// Whether the 512 x 512 pre-resize was applied.
  bool resized() const { return resized_; }

 private:
  PixelFormat format_;
  int out_width_ = 0;
  int out_height_ = 0;
  int next_out_ = 0;  ///< next output row to fill
  bool begun_ = false;
  bool resized_ = false;
  bool all_grey_ = false;
  std::vector<int> source_col_;  ///< output column -> source column (resize only)
  std::vector<uint8_t> pixels_;  ///< [out_height, out_width, channels]
};

}  // namespace hm
