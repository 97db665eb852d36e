// Image decoding: format sniffing by magic bytes and one decoder per format.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "pixel_sink.hpp"

namespace hm {

enum class ImageFormat { Unknown, Jpeg, Png, Webp, Gif, Bmp };

/// Lower-case name ("jpeg", "png", ...; "unknown").
const char* format_name(ImageFormat format);

/// Identifies a format from the first bytes of a file; never from its name.
ImageFormat sniff_format(const uint8_t* data, size_t size);

/// What to do with 16-bit samples (PNG).
enum class Sample16 {
  Scale,    ///< round(v / 257): the true 8-bit value (default)
  LowByte,  ///< v mod 256, as the reference's CImg cast does (reference-compatible)
};

/// Default pixel limit: 200 megapixels (e.g. 16000 x 12500).
constexpr uint64_t kDefaultMaxPixels = 200'000'000;

/// How JPEGs are decoded (other formats always decode exactly).
enum class DecodeMode {
  Exact,  ///< every pixel, libjpeg-turbo's default RGB decode: the reference's pixels (default)
  Fast,   ///< luma only, scaled down in the DCT domain (jpeg_fast_scale): hashes drift a little
};

/// Lower-case name ("exact", "fast").
const char* decode_mode_name(DecodeMode mode);

/// Fast mode's scale for a width x height JPEG: the smallest M of 1, 2, 4
/// such that decoding at M/8 (libjpeg's output side, ceil(side * M / 8))
/// keeps each side at least min(side, 512), PDQ's pre-resize size, so the
/// 512 x 512 pre-resize still samples a 512-or-larger image and a short side
/// that it stretches loses nothing; otherwise 8 (no scaling). Only powers of
/// two: libjpeg-turbo's other M/8 IDCTs are plain C and cost more than its
/// full-size SIMD one (a 1024 x 640 at 7/8 decoded slower than at 8/8).
int jpeg_fast_scale(int width, int height);

struct DecodeOptions {
  uint64_t max_pixels = kDefaultMaxPixels;  ///< checked from the header, before any allocation
  Sample16 sample16 = Sample16::Scale;
  /// Always decode every JPEG pixel, even for sinks that read only some
  /// (tests and benchmarks compare the two paths; the pixels are identical).
  bool full_jpeg_decode = false;
  DecodeMode mode = DecodeMode::Exact;
};

/// Result of decoding one file. `error` is empty on success and otherwise
/// starts with the stage that failed: "decode: ...", "limit: ...",
/// "unsupported: ...". Warnings are problems the decoder worked around
/// (a truncated JPEG padded with grey, for instance).
struct DecodeOutcome {
  ImageFormat format = ImageFormat::Unknown;
  int width = 0;
  int height = 0;
  std::string error;
  std::vector<std::string> warnings;
  bool ok() const { return error.empty(); }
};

/// Sniffs and decodes `data` into `sink`. Never throws for bad input.
DecodeOutcome decode_image(const uint8_t* data, size_t size, const DecodeOptions& options,
                           PixelSink& sink);

// One decoder per format; each expects data of its format (decode_image sniffs).
DecodeOutcome decode_jpeg(const uint8_t* data, size_t size, const DecodeOptions& options,
                          PixelSink& sink);
DecodeOutcome decode_png(const uint8_t* data, size_t size, const DecodeOptions& options,
                         PixelSink& sink);
DecodeOutcome decode_webp(const uint8_t* data, size_t size, const DecodeOptions& options,
                          PixelSink& sink);
DecodeOutcome decode_gif(const uint8_t* data, size_t size, const DecodeOptions& options,
                         PixelSink& sink);
DecodeOutcome decode_bmp(const uint8_t* data, size_t size, const DecodeOptions& options,
                         PixelSink& sink);

/// The "limit: ..." error for a width x height image above options.max_pixels,
/// or an empty string when it is within the limit (and both sides are > 0).
std::string check_pixel_limit(uint64_t width, uint64_t height, const DecodeOptions& options);

}  // namespace hm
