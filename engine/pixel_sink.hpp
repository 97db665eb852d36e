// The decoders' output interface: 8-bit rows, top to bottom.
#pragma once

#include <stdint.h>

#include <stddef.h>

#include <algorithm>
#include <vector>

namespace hm {

/// How the decoded samples are laid out and how the hasher must read them.
struct PixelFormat {
  int width = 0;
  int height = 0;
  /// 1 grey, 3 RGB, or 4: RGB plus one byte that is ignored (padding, or an
  /// alpha channel: the reference drops alpha, it never composites).
  int channels = 3;
  /// When true, an RGB image whose pixels are all R = G = B is hashed as grey,
  /// as the reference's ImageMagick-to-PNM step does. False for formats the
  /// reference reads natively (BMP), which always take the RGB path.
  bool detect_grey = true;
};

/// Receives one decoded image. `begin` comes first, then every row exactly
/// once in increasing y. Rows hold width * channels bytes.
class PixelSink {
 public:
  virtual ~PixelSink() = default;
  virtual void begin(const PixelFormat& format) = 0;
  virtual void row(int y, const uint8_t* samples) = 0;
};

/// Keeps the whole decoded image (tests, benchmarks, tools).
class FullImageSink final : public PixelSink {
 public:
  void begin(const PixelFormat& format) override {
    format_ = format;
    pixels_.assign((size_t)format.width * format.height * format.channels, 0);
  }
  void row(int y, const uint8_t* samples) override {
    const size_t stride = (size_t)format_.width * format_.channels;
    std::copy(samples, samples + stride, pixels_.begin() + (size_t)y * stride);
  }
  const PixelFormat& format() const { return format_; }
  /// Row-major [height, width, channels] bytes.
  const std::vector<uint8_t>& pixels() const { return pixels_; }

 private:
  PixelFormat format_;
  std::vector<uint8_t> pixels_;
};

}  // namespace hm
