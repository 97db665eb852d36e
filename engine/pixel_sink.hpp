// The decoders' output interface: 8-bit rows, top to bottom.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <vector>

#include "luma_cpu.hpp"

namespace hm {

/// How the decoded samples are laid out and how the hasher must read them.
struct PixelFormat {
  int width = 0;
  int height = 0;
  /// 1 grey, 3 RGB, or 4: RGB plus one byte
  /// that is ignored (padding, or an alpha channel: the reference drops
  /// alpha, it never composites).
  int channels = 3;
  /// With 4 channels: the samples are a CMYK JPEG's inks (pdq::PixelLayout::Cmyk).
  bool cmyk = false;
  /// When true, an RGB image whose pixels are all R = G = B is hashed as grey,
  /// as the reference's ImageMagick-to-PNM step does. False for formats the
  /// reference reads natively (BMP), which always take the RGB path.
  bool detect_grey = true;
};

/// The layout of a format's rows.
inline pdq::PixelLayout layout_of(const PixelFormat& f) {
  if (f.channels == 1) return pdq::PixelLayout::Grey;
  if (f.channels == 4) return f.cmyk ? pdq::PixelLayout::Cmyk : pdq::PixelLayout::Rgbx;
  return pdq::PixelLayout::Rgb;
}

/// The pixels a sink reads when it reads fewer than all of them: the same
/// columns of some rows.
struct PixelSelection {
  std::vector<int> cols;  ///< source column of each value wanted from a row: non-decreasing, may repeat
  std::vector<int> rows;  ///< source rows wanted, strictly increasing
};

/// Receives one decoded image. `begin` comes first, then every row exactly
/// once in increasing y. Rows hold width * channels bytes.
///
/// Selected delivery: a sink whose selection() is not null may instead get,
/// after begin(), selected_row() for each selected row in increasing y (the
/// selected columns' RGB), colour_seen() as soon as the decoder knows some
/// pixel has R, G, B not all equal, and end_selected() last. Decoders that
/// can skip work on unselected pixels use it (the JPEG decoder does).
class PixelSink {
 public:
  virtual ~PixelSink() = default;
  virtual void begin(const PixelFormat& format) = 0;
  virtual void row(int y, const uint8_t* samples) = 0;

  /// Valid from begin() to the end of the image; null means every pixel.
  virtual const PixelSelection* selection() const { return nullptr; }
  /// rgb[i] = pixel (cols[i], y) as 0x00BBGGRR.
  virtual void selected_row(int y, const uint32_t* rgb) {
    (void)y;
    (void)rgb;
  }
  virtual void colour_seen() {}
  /// all_grey: every pixel of the image, selected or not, has R = G = B.
  virtual void end_selected(bool all_grey) { (void)all_grey; }
};

/// Keeps the whole decoded image (tests, benchmarks, tools), as grey (1
/// channel) or RGB (3 channels) whatever layout the decoder used.
class FullImageSink final : public PixelSink {
 public:
  void begin(const PixelFormat& format) override {
    format_ = format;
    layout_ = layout_of(format);
    format_.channels = format.channels == 1 ? 1 : 3;
    format_.cmyk = false;
    pixels_.assign((size_t)format.width * format.height * format_.channels, 0);
  }
  void row(int y, const uint8_t* samples) override {
    const size_t stride = (size_t)format_.width * format_.channels;
    uint8_t* dst = pixels_.data() + (size_t)y * stride;
    if (layout_ == pdq::PixelLayout::Grey) {
      std::copy(samples, samples + stride, dst);
    } else {
      pdq::row_to_rgb(samples, layout_, format_.width, dst);
    }
  }
  /// The stored format: channels is 1 or 3.
  const PixelFormat& format() const { return format_; }
  /// Row-major [height, width, channels] bytes.
  const std::vector<uint8_t>& pixels() const { return pixels_; }

 private:
  PixelFormat format_;
  pdq::PixelLayout layout_ = pdq::PixelLayout::Rgb;
  std::vector<uint8_t> pixels_;
};

}  // namespace hm
