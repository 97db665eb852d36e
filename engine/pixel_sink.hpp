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

/// Receives one decoded image. `begin` comes first, then every row exactly
/// once in increasing y. Rows hold width * channels bytes.
class PixelSink {
 public:
  virtual ~PixelSink() = default;
  virtual void begin(const PixelFormat& format) = 0;
  virtual void row(int y, const uint8_t* samples) = 0;
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
