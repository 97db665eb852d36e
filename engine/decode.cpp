#include "decode.hpp"

#include <string.h>

#include <algorithm>

#include "pdq_math.hpp"

namespace hm {

const char* decode_mode_name(DecodeMode mode) {
  return mode == DecodeMode::Fast ? "fast" : "exact";
}

int jpeg_fast_scale(int width, int height) {
  // libjpeg's scaled output side is ceil(side * M / 8) (jpeg_calc_output_dimensions).
  auto keeps = [](int side, int m) {
    const int64_t scaled = ((int64_t)side * m + 7) / 8;
    return scaled >= std::min(side, pdq::kPreResize);
  };
  for (int m = 1; m < 8; m *= 2)
    if (keeps(width, m) && keeps(height, m)) return m;
  return 8;
}

const char* format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::Jpeg: return "jpeg";
    case ImageFormat::Png: return "png";
    case ImageFormat::Webp: return "webp";
    case ImageFormat::Gif: return "gif";
    case ImageFormat::Bmp: return "bmp";
    case ImageFormat::Unknown: break;
  }
  return "unknown";
}

namespace {

bool starts_with(const uint8_t* data, size_t size, const char* magic, size_t n,
                 size_t offset = 0) {
  return size >= offset + n && memcmp(data + offset, magic, n) == 0;
}

bool looks_like_bmp(const uint8_t* data, size_t size) {
  if (!starts_with(data, size, "BM", 2) || size < 18) return false;
  const uint32_t header = data[14] | data[15] << 8 | data[16] << 16 | (uint32_t)data[17] << 24;
  return header == 12 || header == 16 || header == 40 || header == 52 || header == 56 ||
         header == 64 || header == 108 || header == 124;
}

/// Names formats we recognise but do not decode, for a clearer error.
const char* unsupported_format_name(const uint8_t* data, size_t size) {
  if (starts_with(data, size, "II*\0", 4) || starts_with(data, size, "MM\0*", 4)) return "TIFF";
  if (starts_with(data, size, "ftyp", 4, 4)) {
    if (starts_with(data, size, "avif", 4, 8) || starts_with(data, size, "avis", 4, 8))
      return "AVIF";
    if (starts_with(data, size, "heic", 4, 8) || starts_with(data, size, "heix", 4, 8) ||
        starts_with(data, size, "mif1", 4, 8) || starts_with(data, size, "msf1", 4, 8))
      return "HEIF";
    return "an ISO media file (MP4/MOV/HEIF family)";
  }
  if (starts_with(data, size, "\0\0\0\x0cjP  ", 8) || starts_with(data, size, "\xff\x4f\xff\x51", 4))
    return "JPEG 2000";
  if (starts_with(data, size, "\xff\x0a", 2)) return "JPEG XL";
  if (starts_with(data, size, "8BPS", 4)) return "PSD";
  if (starts_with(data, size, "\0\0\1\0", 4)) return "ICO";
  if (starts_with(data, size, "%PDF", 4)) return "PDF";
  if (size >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '7') return "PNM";
  if (starts_with(data, size, "RIFF", 4)) return "a RIFF file that is not WebP";
  return nullptr;
}

}  // namespace

ImageFormat sniff_format(const uint8_t* data, size_t size) {
  if (starts_with(data, size, "\xff\xd8\xff", 3)) return ImageFormat::Jpeg;
  if (starts_with(data, size, "\x89PNG\r\n\x1a\n", 8)) return ImageFormat::Png;
  if (starts_with(data, size, "RIFF", 4) && starts_with(data, size, "WEBP", 4, 8))
    return ImageFormat::Webp;
  if (starts_with(data, size, "GIF87a", 6) || starts_with(data, size, "GIF89a", 6))
    return ImageFormat::Gif;
  if (looks_like_bmp(data, size)) return ImageFormat::Bmp;
  return ImageFormat::Unknown;
}

std::string check_pixel_limit(uint64_t width, uint64_t height, const DecodeOptions& options) {
  if (width == 0 || height == 0)
    return "decode: image has zero size (" + std::to_string(width) + "x" +
           std::to_string(height) + ")";
  // Both sides fit in 32 bits in every format we read, so this cannot overflow.
  const uint64_t pixels = width * height;
  if (pixels > options.max_pixels)
    return "limit: image is " + std::to_string(width) + "x" + std::to_string(height) + " = " +
           std::to_string(pixels) + " pixels, above the limit of " +
           std::to_string(options.max_pixels) + " (--max-pixels)";
  return {};
}

DecodeOutcome decode_image(const uint8_t* data, size_t size, const DecodeOptions& options,
                           PixelSink& sink) {
  switch (sniff_format(data, size)) {
    case ImageFormat::Jpeg: return decode_jpeg(data, size, options, sink);
    case ImageFormat::Png: return decode_png(data, size, options, sink);
    case ImageFormat::Webp: return decode_webp(data, size, options, sink);
    case ImageFormat::Gif: return decode_gif(data, size, options, sink);
    case ImageFormat::Bmp: return decode_bmp(data, size, options, sink);
    case ImageFormat::Unknown: break;
  }
  DecodeOutcome out;
  if (size == 0) {
    out.error = "decode: empty file";
  } else if (const char* name = unsupported_format_name(data, size)) {
    out.error = std::string("unsupported: ") + name + " is not a supported image format";
  } else {
    out.error = "unsupported: not a recognised image format (JPEG, PNG, WebP, GIF, BMP)";
  }
  return out;
}

}  // namespace hm
