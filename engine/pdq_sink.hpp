// Hashes an image with PDQ as its decoded rows stream in.
#pragma once

#include <stdint.h>

#include <vector>

#include "pdq_cpu.hpp"
#include "pixel_sink.hpp"

namespace hm {

/// Applies the reference loader's steps to each row as it arrives: the
/// 512 x 512 nearest-neighbour pre-resize when a side exceeds 512 (only the
/// sampled rows and columns are converted), luma, and the grey rule (when
/// every pixel has R = G = B the reference uses Y = value, not the weighted
/// sum). Luma rows go straight into the blur pipeline, so the working set
/// stays in cache. Until a colour pixel has been seen the image may still be
/// grey, so rows wait in a buffer; photos leave that state on their first row.
class PdqSink final : public PixelSink {
 public:
  void begin(const PixelFormat& format) override;
  void row(int y, const uint8_t* samples) override;
  /// When the pre-resize applies: its columns and distinct rows.
  const PixelSelection* selection() const override;
  void selected_row(int y, const uint32_t* rgb) override;
  void colour_seen() override;
  void end_selected(bool all_grey) override;

  /// Forgets the previous image, so complete() is false until the next one arrives.
  void reset() { begun_ = false; }
  /// True once begin() and every row have arrived.
  bool complete() const { return begun_ && rows_seen_ == format_.height; }
  /// The hashes of the completed image, exactly as the reference computes them.
  void hash(bool dihedral, pdq::PdqResult& result);

 private:
  void emit_luma_row(const float* row);
  void stop_buffering();
  /// Emits the luma rows that source row y becomes (several when a short side
  /// is stretched); `convert` fills a luma row when one is needed.
  template <typename Convert>
  void emit_rows_of(int y, Convert&& convert);
  void finish_rows();

  PixelFormat format_;
  pdq::PixelLayout layout_ = pdq::PixelLayout::Rgb;
  int out_width_ = 0;
  int out_height_ = 0;
  int next_out_ = 0;   ///< next luma row to produce
  int rows_seen_ = 0;  ///< source rows received
  bool begun_ = false;
  bool maybe_grey_ = false;  ///< an RGB image whose pixels so far are all grey
  bool buffering_ = false;   ///< luma rows kept whole instead of streamed
  bool keep_luma_ = false;   ///< 64 x 64: the plain hash reads the unblurred luma
  /// Pre-resize only: the source column of each luma column, and the
  /// distinct source rows it samples.
  PixelSelection selection_;
  std::vector<float> row_;       ///< the last luma row, for rows the pre-resize repeats
  std::vector<float> luma_;      ///< whole luma plane while buffering
  float grid_[pdq::kGrid * pdq::kGrid];
  pdq::BlurPipeline blur_;
};

}  // namespace hm
