// Hashes an image with PDQ as its decoded rows stream in.
#pragma once

#include <stdint.h>

#include <vector>

#include "pdq_cpu.hpp"
#include "pdq_math.hpp"
#include "pixel_sink.hpp"

namespace hm {

/// The reference loader's 512 x 512 nearest-neighbour pre-resize of one
/// image, as every sink that follows it must apply it: the output size, and
/// when a side exceeds 512 (both sides then become 512) the source column of
/// each output column and the distinct source rows sampled. One definition,
/// so PdqSink and PreresizeSink cannot disagree on which pixels PDQ reads.
class PreresizePlan {
 public:
  /// Plans the pre-resize of a width x height source.
  void begin(int width, int height);
  /// True when the pre-resize applies (a side above 512).
  bool resized() const { return !selection_.cols.empty(); }
  int out_width() const { return out_width_; }
  int out_height() const { return out_height_; }
  /// The selection to offer decoders: null when every pixel is kept as is.
  const PixelSelection* selection() const { return resized() ? &selection_ : nullptr; }
  /// The source column of each output column, [out_width]; null when not resized.
  const int* cols() const { return resized() ? selection_.cols.data() : nullptr; }
  /// The source row output row `out_y` is a copy of.
  int source_row(int out_y) const {
    return resized() ? pdq::preresize_source_index(out_y, height_) : out_y;
  }

 private:
  int height_ = 0;
  int out_width_ = 0;
  int out_height_ = 0;
  PixelSelection selection_;
};

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
  void stop_buffering();
  /// Emits the luma rows that source row y becomes (several when a short side
  /// is stretched); `convert` fills a luma row when one is needed.
  template <typename Convert>
  void emit_rows_of(int y, Convert&& convert);
  void finish_rows();

  PixelFormat format_;
  pdq::PixelLayout layout_ = pdq::PixelLayout::Rgb;
  PreresizePlan plan_;
  int out_width_ = 0;
  int out_height_ = 0;
  int next_out_ = 0;   ///< next luma row to produce
  int rows_seen_ = 0;  ///< source rows received
  bool begun_ = false;
  bool maybe_grey_ = false;  ///< an RGB image whose pixels so far are all grey
  bool buffering_ = false;   ///< luma rows kept whole instead of streamed
  bool keep_luma_ = false;   ///< 64 x 64: the plain hash reads the unblurred luma
  std::vector<float> luma_;      ///< whole luma plane while buffering
  float grid_[pdq::kGrid * pdq::kGrid];
  pdq::BlurPipeline blur_;
};

}  // namespace hm
